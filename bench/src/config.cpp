#include "config.hpp"

#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <random>
#include <string_view>
#include <unistd.h>

namespace bench {

void print_usage(std::FILE* to) {
  std::fputs(
      "usage: modu-bench SCENARIO [options]\n"
      "       modu-bench table OUT.md REPORT.json...   (markdown table of --json reports)\n"
      "scenarios: idle direct group reconnect catch-up history\n"
      "server:   --target 127.0.0.1:PORT[,127.0.0.1:PORT2...] [--server-pid PID] | --spawn PATH [--server-arg ARG]... [--keep-data]\n"
      "          (several targets: nodes of one cluster; connections are spread over them round-robin)\n"
      "          [--cheap-passwords]   (spawned modu: argon2id at its minimum, so setup of many users is quick)\n"
      "          --driver modu|baseline|mqtt|xmpp   (baseline: the raw-TCP fan-out server modu-baseline)\n"
      "load:     --conns N --users N --rooms N --members M --rate MSG_PER_S --duration S\n"
      "          --warmup S   (direct, group: S seconds of the same load first, checked, not timed)\n"
      "          --order random|round-robin   (direct, group: senders' turns in a shuffled order,\n"
      "                                        the default, or chat by chat)\n"
      "          --connect-rate PER_S --size BYTES --heartbeat S --missed K --messages X\n"
      "          --connect-spread S   (reconnect: each device returns at a uniformly random time\n"
      "                                within S seconds, as clients do after a server restart)\n"
      "          --chats Y --page L --readers R --read-interval S --per-conn-rate PER_S\n"
      "          --sync-messages N   (reconnect, catch-up: messages per chat the sync carries, 0-200;\n"
      "                               the rest is paged with messages.history; 0: all of it)\n"
      "run:      --procs P --threads T --sources K --setup-parallel N --drain S --deadline S\n"
      "          --timeout S --smoke --quiet --json FILE --run-id ID --label NAME\n"
      "Only loopback targets (127.0.0.0/8) are accepted. See bench/README.md.\n",
      to);
}

[[noreturn]] static void die(const std::string& msg) {
  std::fprintf(stderr, "modu-bench: %s\n", msg.c_str());
  print_usage(stderr);
  std::exit(2);
}

Config Config::parse(int argc, char** argv) {
  Config c;
  if (argc < 2) {
    print_usage(stderr);
    std::exit(2);
  }
  for (int i = 1; i < argc; ++i) {
    if (std::string_view(argv[i]) == "--help" || std::string_view(argv[i]) == "-h") {
      print_usage(stdout);
      std::exit(0);
    }
  }
  c.scenario = argv[1];
  c.command = "modu-bench";
  for (int i = 1; i < argc; ++i) {
    std::string_view a = argv[i];
    if (a == "--quiet") continue;
    if ((a == "--json" || a == "--label") && i + 1 < argc) {
      ++i;
      continue;
    }
    c.command += ' ';
    c.command += a;
  }
  if (c.scenario == "catchup") c.scenario = "catch-up";
  static const char* known[] = {"idle", "direct", "group", "reconnect", "catch-up", "history"};
  bool ok = false;
  for (auto* k : known) ok |= c.scenario == k;
  if (!ok) die("unknown scenario '" + c.scenario + "'");

  for (int i = 2; i < argc; ++i) {
    std::string a = argv[i];
    auto val = [&]() -> std::string {
      if (i + 1 >= argc) die("option " + a + " needs a value");
      return argv[++i];
    };
    auto num = [&]() -> double {
      std::string v = val();
      char* end = nullptr;
      double d = std::strtod(v.c_str(), &end);
      if (v.empty() || *end || !std::isfinite(d) || d < 0) die("option " + a + ": bad number '" + v + "'");
      return d;
    };
    auto integer = [&]() -> int { return int(num()); };
    if (a == "--driver") c.driver = val();
    else if (a == "--target") c.target = val();
    else if (a == "--spawn") c.spawn = val();
    else if (a == "--server-arg") c.server_args.push_back(val());
    else if (a == "--server-pid") c.server_pid = integer();
    else if (a == "--keep-data") c.keep_data = true;
    else if (a == "--cheap-passwords") c.cheap_passwords = true;
    else if (a == "--conns" || a == "--clients") c.conns = integer();
    else if (a == "--users") c.users = integer();
    else if (a == "--rooms") c.rooms = integer();
    else if (a == "--members") c.members = integer();
    else if (a == "--rate") c.rate = num();
    else if (a == "--duration") c.duration = num();
    else if (a == "--warmup") c.warmup = num();
    else if (a == "--order") c.order = val();
    else if (a == "--connect-rate") c.connect_rate = num();
    else if (a == "--connect-spread") c.connect_spread = num();
    else if (a == "--size") c.size = integer();
    else if (a == "--heartbeat") c.heartbeat = num();
    else if (a == "--missed") c.missed = integer();
    else if (a == "--messages") c.messages = integer();
    else if (a == "--chats") c.chats = integer();
    else if (a == "--page") c.page = integer();
    else if (a == "--sync-messages") c.sync_messages = std::min(200, integer());
    else if (a == "--readers") c.readers = integer();
    else if (a == "--read-interval") c.read_interval = num();
    else if (a == "--per-conn-rate") c.per_conn_rate = num();
    else if (a == "--procs") c.procs = integer();
    else if (a == "--threads") c.threads = integer();
    else if (a == "--sources") c.sources = integer();
    else if (a == "--setup-parallel") c.setup_parallel = std::max(1, integer());
    else if (a == "--drain") c.drain = num();
    else if (a == "--deadline") c.deadline = num();
    else if (a == "--timeout") c.timeout = num();
    else if (a == "--smoke") c.smoke = true;
    else if (a == "--quiet") c.quiet = true;
    else if (a == "--json") c.json = val();
    else if (a == "--run-id") c.run_id = val();
    else if (a == "--label") c.label = val();
    else die("unknown option " + a);
  }
  if (c.driver != "modu" && c.driver != "baseline" && c.driver != "mqtt" && c.driver != "xmpp") die("unknown driver '" + c.driver + "'");
  if (c.target.empty() == c.spawn.empty()) die("give exactly one of --target and --spawn");
  if (c.server_pid && c.target.find(',') != std::string::npos) die("--server-pid takes one server; with several targets the pids are found through the ports");
  bool pushed = c.driver == "mqtt" || c.driver == "xmpp";  // reconnect by pushed messages
  if (pushed && c.scenario != "idle" && c.scenario != "direct" && c.scenario != "group" && c.scenario != "reconnect")
    die("the " + c.driver + " driver runs only idle, direct, group and reconnect (no sync, no history)");
  if ((c.driver == "mqtt" || c.driver == "xmpp") && !c.spawn.empty()) die("start the peer with bench/peers/setup and use --target");
  if (c.warmup > 0 && c.scenario != "direct" && c.scenario != "group") die("--warmup applies to direct and group only");
  if (c.order != "random" && c.order != "round-robin") die("--order is random or round-robin, not '" + c.order + "'");
  if (c.connect_spread < 0 || (c.connect_spread > 0 && c.scenario != "reconnect"))
    die("--connect-spread applies to reconnect only, and must be positive");
  if (c.connect_spread > 0 && c.connect_rate > 0) die("--connect-spread and --connect-rate exclude each other");
  if (c.label.empty()) c.label = c.driver;
  c.apply_defaults();
  return c;
}

void Config::apply_defaults() {
  auto set = [](auto& field, auto smoke_v, auto full_v, bool smoke) {
    if (!field) field = smoke ? smoke_v : full_v;
  };
  bool s = smoke;
  if (scenario == "idle") {
    set(conns, 40, 5000, s);
    set(users, 0, 0, s);
    if (!users) users = std::min(conns, s ? 4 : 200);
    set(duration, 2.0, 30.0, s);
    set(heartbeat, 0.5, 20.0, s);
    set(connect_rate, 0.0, 2000.0, s);
  } else if (scenario == "direct") {
    set(conns, 8, 1000, s);
    if (conns % 2) conns++;
    set(rate, 100.0, 5000.0, s);
    set(duration, 2.0, 20.0, s);
  } else if (scenario == "group") {
    set(rooms, 2, 20, s);
    set(members, 4, 50, s);
    set(rate, 40.0, 500.0, s);
    set(duration, 2.0, 20.0, s);
    set(read_interval, 0.2, 1.0, s);
  } else if (scenario == "reconnect") {
    set(conns, 4, 500, s);
    set(missed, 20, 50, s);
  } else if (scenario == "catch-up") {
    set(messages, 120, 5000, s);
    set(chats, 6, 50, s);
  } else if (scenario == "history") {
    set(messages, 300, 10000, s);
    set(page, 50, 50, s);
    set(readers, 2, 4, s);
    set(duration, 2.0, 15.0, s);
  }
  // Smoke runs ask for fewer messages than a device misses, so the sync's list and the
  // history paging of the gap before it are both checked.
  if (sync_messages < 0) sync_messages = s ? 8 : 100;
  set(size, 64, 64, s);
  if (size < 24) size = 24;  // the send timestamp and ids must fit
  set(per_conn_rate, 40.0, 40.0, s);
  if (!threads) threads = 1;
  if (!procs) {
    long total = scenario == "idle" ? conns : scenario == "group" ? long(rooms) * members : conns * 2;
    procs = int(std::max<long>(1, (total + 14999) / 15000));
  }
  if (scenario == "catch-up" || scenario == "history") procs = threads = 1;  // one shard does it all
  if (!sources) {
    long total = scenario == "idle" ? conns : scenario == "group" ? long(rooms) * members : conns * 2;
    sources = int(std::max<long>(1, (total + 19999) / 20000));
  }
  if (!deadline) {
    // Smoke runs must fail cleanly before ctest's 60 s timeout kills them.
    deadline = warmup + (warmup > 0 ? drain : 0) + (s ? duration + drain + 30 : duration + drain + 360);
  }
  if (run_id.empty()) {
    std::random_device rd;
    char buf[16];
    std::snprintf(buf, sizeof buf, "%06x", unsigned(rd() ^ unsigned(getpid())) & 0xffffff);
    run_id = buf;
  }
}

}  // namespace bench
