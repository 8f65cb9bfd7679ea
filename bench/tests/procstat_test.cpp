// Self-test of modu-bench's process figures: the time a process's threads spend waiting for a
// CPU grows when it runs more busy threads than the machine has cores, and a process that does
// not exist reads as nothing.
#include <atomic>
#include <chrono>
#include <cstdio>
#include <thread>
#include <vector>

#include <unistd.h>

#include "procstat.hpp"

static int failures = 0;
static void check(bool ok, const char* what) {
  if (!ok) {
    std::printf("FAIL: %s\n", what);
    failures++;
  }
}

int main() {
  check(bench::cpu_wait_seconds(999999999) == 0, "a missing process has waited for nothing");
  check(!bench::sample_process(999999999).ok, "a missing process cannot be sampled");

  double before = bench::cpu_wait_seconds(0);
  check(before >= 0, "waiting time is never negative");
  // Twice as many spinning threads as cores: each is runnable all the time, so together
  // they must wait for a core (about half of their time).
  std::atomic<bool> stop{false};
  unsigned n = 2 * std::max(1u, std::thread::hardware_concurrency());
  std::vector<std::thread> spinners;
  for (unsigned i = 0; i < n; ++i)
    spinners.emplace_back([&] {
      while (!stop.load(std::memory_order_relaxed)) {
      }
    });
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  double during = bench::cpu_wait_seconds(0);  // the spinners are still alive, so counted
  stop = true;
  for (auto& t : spinners) t.join();
  check(during - before > 0.05, "spinning more threads than cores makes them wait for a CPU");

  bench::ProcSample self = bench::sample_process(static_cast<int>(getpid()));
  check(self.ok && self.wait_s >= before, "a sample of this process carries its waiting time");

  if (failures) return 1;
  std::printf("procstat: all checks passed\n");
  return 0;
}
