// Self-test of modu-bench's process figures: the time a process's threads spend waiting for a
// CPU grows when it runs more busy threads than the machine has cores, each thread name's CPU
// is reported apart, and a process that does not exist reads as nothing.
#include <atomic>
#include <chrono>
#include <cstdio>
#include <string>
#include <thread>
#include <vector>

#include <pthread.h>
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

  // Per thread name: a named spinning thread shows its own CPU, apart from the others.
  auto find = [](const std::vector<bench::ThreadFigures>& threads, const std::string& name) {
    for (const auto& t : threads)
      if (t.name == name) return &t;
    return static_cast<const bench::ThreadFigures*>(nullptr);
  };
  int pid = static_cast<int>(getpid());
  pthread_setname_np(pthread_self(), "procstat-main");
  auto threads_before = bench::sample_threads(pid);
  check(find(threads_before, "procstat-spin") == nullptr, "no thread has the name yet");
  stop = false;
  std::atomic<bool> named{false};
  std::thread spinner([&] {
    pthread_setname_np(pthread_self(), "procstat-spin");
    named = true;
    while (!stop.load(std::memory_order_relaxed)) {
    }
  });
  while (!named) std::this_thread::yield();
  auto threads_start = bench::sample_threads(pid);
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  auto threads_end = bench::sample_threads(pid);
  stop = true;
  spinner.join();
  auto between = bench::threads_between(threads_start, threads_end);
  const auto* spin = find(between, "procstat-spin");
  check(spin && spin->cpu_s > 0.1, "a named spinning thread's CPU is reported under its name");
  const auto* main_thread = find(between, "procstat-main");
  check(main_thread && main_thread->cpu_s < 0.1, "the sleeping main thread used little CPU meanwhile");
  check(bench::sample_process(pid).threads.size() >= 1, "a process sample lists its threads");

  // Sums are by name, and stay sorted by name.
  std::vector<bench::ThreadFigures> sum{{"b", 1, 0.5}};
  bench::add_threads(sum, {{"a", 2, 0}, {"b", 3, 0.25}});
  check(sum.size() == 2 && sum[0].name == "a" && sum[0].cpu_s == 2 && sum[1].name == "b" && sum[1].cpu_s == 4 &&
            sum[1].wait_s == 0.75,
        "threads of one name add up, sorted by name");
  auto delta = bench::threads_between({{"a", 1, 1}, {"gone", 5, 5}}, {{"a", 3, 1.5}, {"new", 2, 0}});
  check(delta.size() == 2 && delta[0].name == "a" && delta[0].cpu_s == 2 && delta[0].wait_s == 0.5 &&
            delta[1].name == "new" && delta[1].cpu_s == 2,
        "between two samples: the difference per name; new names count from zero, gone ones are left out");

  if (failures) return 1;
  std::printf("procstat: all checks passed\n");
  return 0;
}
