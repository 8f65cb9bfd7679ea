// Reading process figures from /proc: CPU seconds (utime+stime), time spent waiting for a
// CPU, resident memory, and the pid that listens on a TCP port (to find the server when
// --server-pid is not given).
#pragma once
#include <cstdint>
#include <string>

namespace bench {

struct ProcSample {
  bool ok = false;
  double cpu_s = 0;      // utime + stime
  double wait_s = 0;     // runnable but not running, summed over the live threads
  int64_t rss_kb = 0;    // VmRSS
};

ProcSample sample_process(int pid);
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

}  // namespace bench
