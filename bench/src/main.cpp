// modu-bench: load generator and benchmark for Modu (and for the raw-TCP baseline).
// Usage: see print_usage() in config.cpp and bench/README.md.
#include <utility>

#include <cstdio>
#include <fstream>
#include <string>

#include "config.hpp"
#include "coordinator.hpp"
#include "report.hpp"
#include "server.hpp"
#include "table.hpp"

using namespace bench;

int main(int argc, char** argv) {
  if (argc > 1 && std::string(argv[1]) == "table") return table_main(argc, argv);
  Config cfg = Config::parse(argc, argv);
  const ScenarioDef* sc = find_scenario(cfg.scenario);
  if (!sc) return 2;
  ServerHandle server;
  install_deadline(cfg, nullptr);  // covers a server that never comes up
  std::string err;
  if (!start_server(cfg, server, err)) {
    std::fprintf(stderr, "modu-bench: FAIL: %s\n", err.c_str());
    stop_server(server, cfg.keep_data);
    return 1;
  }
  install_deadline(cfg, &server);
  if (!cfg.quiet)
    for (size_t i = 0; i < server.endpoints.size(); ++i)
      std::fprintf(stderr, "modu-bench: %s against %s:%u (server pid %d%s)\n", cfg.scenario.c_str(), server.endpoints[i].addr.to_string().c_str(),
                   server.endpoints[i].port, server.pids[i], server.spawned ? ", spawned" : "");
  if (server.pids.size() <= 1 && !server.pid) std::fprintf(stderr, "modu-bench: warning: server pid unknown; no server CPU/RSS figures\n");
  for (size_t i = 0; server.pids.size() > 1 && i < server.pids.size(); ++i)
    if (!server.pids[i])
      std::fprintf(stderr, "modu-bench: warning: pid of the server at port %u unknown; no server CPU/RSS figures\n", server.endpoints[i].port);

  RunOutcome run = coordinate(cfg, *sc, server);
  Report rep = build_report(cfg, *sc, server, std::move(run));
  rep.print_human(stdout);
  std::fflush(stdout);
  if (!cfg.json.empty()) {
    std::ofstream out(cfg.json);
    out << rep.to_json();
    if (!out) std::fprintf(stderr, "modu-bench: cannot write %s\n", cfg.json.c_str());
  }
  // A failed run keeps the server's data and log for a look (smoke runs print the log instead).
  bool keep = cfg.keep_data || (!rep.pass() && !cfg.smoke);
  if (server.spawned && !rep.pass()) {
    std::fprintf(stderr, "--- last lines of the server log (%s) ---\n%s\n", server.log.c_str(), server_log_tail(server).c_str());
  }
  stop_server(server, keep);
  return rep.pass() ? 0 : 1;
}
