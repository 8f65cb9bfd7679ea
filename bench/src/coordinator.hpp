// Running a scenario: the coordinator (the process that was started) forks --procs worker
// processes; each runs --threads shards, one io_context thread per shard. Workers report
// every phase barrier over a pipe; the coordinator samples the server and the load
// generator at each barrier, releases the workers, and finally merges their Results.
#pragma once
#include <string>
#include <vector>

#include "config.hpp"
#include "procstat.hpp"
#include "result.hpp"
#include "scenarios/common.hpp"
#include "server.hpp"
#include "server_metrics.hpp"

namespace bench {

struct Snapshot {
  std::string name;
  int64_t t_ns = 0;
  ProcSample server;
  double loadgen_cpu_s = 0;   // coordinator + live workers
  double loadgen_wait_s = 0;  // their time waiting for a CPU (ProcSample::wait_s)
  int64_t tcp_mem_kb = 0;    // kernel TCP memory, machine-wide
  // A Modu server's own time to answer messages.send, summed over its nodes (direct and
  // group only; empty for other servers, or when a node's /metrics could not be read).
  Buckets server_send_seconds;
};

struct RunOutcome {
  Result merged;
  std::vector<Snapshot> snaps;
  double loadgen_cpu_total_s = 0;
  bool aborted = false;
  std::vector<std::string> problems;  // worker crashes and the like
};

RunOutcome coordinate(const Config& cfg, const ScenarioDef& sc, const ServerHandle& server);

/// Processes to kill if the hard deadline fires (server first).
void install_deadline(const Config& cfg, const ServerHandle* server);

}  // namespace bench
