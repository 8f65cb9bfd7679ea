// The server under test: either started by us (--spawn PATH: `modu serve --listen
// 127.0.0.1:0 --data <temp dir>`, or `modu-baseline --listen 127.0.0.1:0`; the port is read
// from its "listening on 127.0.0.1:<port>" line) or given (--target, loopback only; a
// comma-separated list names several nodes of a cluster, and clients are spread over them).
#pragma once
#include <string>
#include <vector>

#include "config.hpp"
#include "driver.hpp"

namespace bench {

struct ServerHandle {
  Endpoint endpoint;     // the first (or only) node
  int pid = 0;           // its pid; 0 when unknown
  std::vector<Endpoint> endpoints;  // every node, in --target order (one when spawned)
  std::vector<int> pids;            // their pids (0 when unknown), same order
  bool spawned = false;
  std::string dir;       // temp dir of a spawned server (data + server.log)
  std::string log;
};

/// Parses a loopback "host:port"; exits with 2 for anything outside 127.0.0.0/8.
Endpoint parse_loopback_target(const std::string& target);
/// Spawns or locates the server; exits with 2 on bad arguments, returns false on failure.
bool start_server(const Config& cfg, ServerHandle& out, std::string& err);
/// SIGTERM, then SIGKILL after 5 s; removes the temp dir unless `keep`.
void stop_server(ServerHandle& s, bool keep);
/// Last `bytes` of the spawned server's log.
std::string server_log_tail(const ServerHandle& s, size_t bytes = 2000);

}  // namespace bench
