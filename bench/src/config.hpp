// Command-line configuration of modu-bench.
//
// Every option is a `--name value` pair (or a bare `--flag`). Defaults depend on the
// scenario and on --smoke (tiny sizes for the test suite); see bench/README.md.
#pragma once
#include <cstdint>
#include <cstdio>
#include <string>
#include <vector>

namespace bench {

struct Config {
  std::string scenario;  // idle | direct | group | reconnect | catch-up | history

  // Where the server is.
  std::string driver = "modu";       // modu | baseline
  std::string target;                // 127.x.y.z:PORT[,...] (refused unless loopback; several: cluster nodes)
  std::string spawn;                 // path of a server binary to start ourselves
  std::vector<std::string> server_args;  // extra arguments for the spawned server
  int server_pid = 0;                // 0: spawned pid, or found through the port
  bool keep_data = false;            // keep the spawned server's data dir
  bool cheap_passwords = false;      // spawned modu: cheapest argon2id (setup speed only)

  // Load shape.
  int conns = 0;          // idle: connections; direct/reconnect: users (clients)
  int users = 0;          // idle: distinct accounts behind the connections
  int rooms = 0;          // group: number of rooms
  int members = 0;        // group: online members per room
  double rate = 0;        // direct/group: messages per second, all senders together
  double duration = 0;    // seconds of measured load
  double warmup = 0;      // direct/group: seconds of load before the measured window, checked
                          // like the rest but neither timed nor counted (a store in its
                          // steady state, not a fresh one)
  // direct/group: the order in which senders take turns. "random": a shuffled order, fixed
  // for the run, as independent people send; "round-robin": users in the order of their
  // chats, so that consecutive sends go to neighbouring chats and connections (the order of
  // docs/benchmarks.md before entry 51; kinder to every server, and most to a store that
  // keeps a chat's rows together).
  std::string order = "random";
  double connect_rate = 0;  // new connections per second (0: as fast as possible)
  double connect_spread = 0;  // reconnect: seconds over which devices return at uniformly random times
  int size = 0;           // message text bytes
  double heartbeat = 0;   // idle: seconds between `ping` requests per connection
  int missed = 0;         // reconnect: messages each client misses
  int messages = 0;       // catch-up: messages missed in total; history: messages stored
  int chats = 0;          // catch-up: chats they are spread over
  int page = 0;           // history: page size
  int sync_messages = -1;  // reconnect/catch-up: messages per chat a sync carries (0: none, all
                           // paged with messages.history; -1: the default)
  int readers = 0;        // history: concurrent reader connections
  double read_interval = 0;  // group: seconds between read-pointer updates of a member
  double per_conn_rate = 0;  // cap on requests/s of one connection (server rate limit is 50/s)

  // Execution.
  int procs = 0;          // load-generator processes (0: enough for the fd limit)
  int threads = 0;        // event-loop threads per process (0: 1)
  int sources = 0;        // source addresses 127.0.0.2, .3, ... (0: enough for the ports)
  int setup_parallel = 16;  // concurrent setup requests per shard
  double drain = 10;      // seconds to wait for outstanding acks/deliveries after the load
  double deadline = 0;    // hard limit of the whole run in seconds (0: derived)
  double timeout = 10;    // seconds before one request counts as lost
  bool smoke = false;
  bool quiet = false;
  std::string json;       // write the report as JSON here
  std::string run_id;     // prefix of account handles (random by default)
  std::string label;      // name of the server in reports (default: the driver)
  std::string command;    // the command line that reproduces the run (argv without --json/--quiet/--label)

  /// Parses argv; on error prints usage and exits with 2.
  static Config parse(int argc, char** argv);
  /// Fills unset values with the scenario's defaults (smoke or full).
  void apply_defaults();
};

void print_usage(std::FILE* to);

}  // namespace bench
