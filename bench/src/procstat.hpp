// Reading process figures from /proc: CPU seconds (utime+stime), time spent waiting for a
// CPU, resident memory, and the pid that listens on a TCP port (to find the server when
// --server-pid is not given).
#pragma once
#include <cstdint>
#include <string>
#include <vector>

namespace bench {

/// The live threads of one name (/proc/<pid>/task/*/comm), summed: the server names its
/// event loops, committer and checkpointer, so these say which of them used or waited for a
/// CPU.
struct ThreadFigures {
  std::string name;
  double cpu_s = 0;   // utime + stime
  double wait_s = 0;  // runnable but not running
};

struct ProcSample {
  bool ok = false;
  double cpu_s = 0;      // utime + stime
  double wait_s = 0;     // runnable but not running, summed over the live threads
  int64_t rss_kb = 0;    // VmRSS
  std::vector<ThreadFigures> threads;  // by name, sorted by name
};

/// Adds `more` into `into`, name by name (both sorted by name; the result is too).
void add_threads(std::vector<ThreadFigures>& into, const std::vector<ThreadFigures>& more);
/// What each thread name used between two samples: `to` minus `from`, name by name. A name
/// only in `to` counts from zero; a name gone by `to` (its threads exited) is left out.
std::vector<ThreadFigures> threads_between(const std::vector<ThreadFigures>& from,
                                           const std::vector<ThreadFigures>& to);

ProcSample sample_process(int pid);
/// The live threads of `pid` (0: this process), summed by name.
std::vector<ThreadFigures> sample_threads(int pid);
/// Kernel memory of all TCP sockets on the machine, in KiB (/proc/net/sockstat "TCP: mem",
/// pages). On loopback both ends of every connection count.
int64_t tcp_kernel_mem_kb();
/// CPU seconds of this process (all threads).
double self_cpu_seconds();
/// Seconds the live threads of `pid` (0: this process) spent runnable but waiting for a CPU
/// (/proc/<pid>/task/*/schedstat, second field). On a machine the load generator shares with
/// the server, this is the queueing that latency pays for; threads that have exited are not
/// counted. 0 where the kernel keeps no schedstats.
double cpu_wait_seconds(int pid);
/// The pid of the process with a LISTEN socket on 127.x:port / 0.0.0.0:port, or 0.
int find_listening_pid(uint16_t port);
/// Monotonic clock in nanoseconds (CLOCK_MONOTONIC is shared by all processes).
int64_t now_ns();

/// While a client connection handles what one read brought (drivers/tcp_connection.hpp), the
/// clock as that read completed; now_ns() otherwise. Every event of a read is timed at the
/// bytes' arrival, with one clock read per read instead of one per event: in rooms of 1,000
/// the per-event reads were a sixteenth of this generator's CPU.
namespace arrival {
inline thread_local int64_t current_ns = 0;
/// Marks the handling of one read's bytes, from the read's completion to the scope's end.
struct Scope {
  Scope() { current_ns = now_ns(); }
  ~Scope() { current_ns = 0; }
  Scope(const Scope&) = delete;
  Scope& operator=(const Scope&) = delete;
};
}  // namespace arrival
inline int64_t arrival_ns() { return arrival::current_ns ? arrival::current_ns : now_ns(); }

}  // namespace bench
