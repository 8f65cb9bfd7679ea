// The run's report: headline figures per scenario, latency percentiles, counters, errors,
// server and load-generator CPU and memory, and the PASS/FAIL verdict; printed for people
// and written as JSON with --json.
#pragma once
#include <string>
#include <vector>

#include "config.hpp"
#include "coordinator.hpp"

namespace bench {

struct Metric {
  std::string name;
  double value;
  std::string unit;
};

struct Report {
  const Config* cfg = nullptr;
  const ServerHandle* server = nullptr;
  RunOutcome run;
  std::vector<Metric> metrics;
  std::vector<std::string> failures;
  double server_cpu_measured = 0, server_cpu_total = 0;
  double loadgen_cpu_measured = 0;
  // Time the threads were runnable but waited for a CPU, over the same window: where it
  // rivals the CPU seconds, latency is queueing for a core, not work.
  double server_wait_measured = 0, loadgen_wait_measured = 0;
  // The server's CPU and waiting over the window, per thread name (its event loops, its
  // committer, ...): which of them does the work, and which waits for a core.
  std::vector<ThreadFigures> server_threads_measured;
  int64_t rss_before_kb = 0, rss_after_kb = 0;
  double measured_s = 0;

  bool pass() const { return failures.empty(); }
  void print_human(std::FILE* out) const;
  std::string to_json() const;
};

/// Derives the headline figures and the verdict from a finished run.
Report build_report(const Config& cfg, const ScenarioDef& sc, const ServerHandle& server, RunOutcome run);

}  // namespace bench
