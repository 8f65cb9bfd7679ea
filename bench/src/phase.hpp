// Phase barriers across the shards (threads) of a worker process and, through pipes, across
// worker processes. Scenario code calls `co_await ctx.barrier("name")`; when every shard of
// every process has arrived, the coordinator takes its snapshot (server RSS/CPU, time) and
// releases everyone, or tells everyone to abort when a shard failed.
#pragma once
#include <utility>

#include <boost/asio/awaitable.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <condition_variable>
#include <mutex>
#include <stdexcept>
#include <string>
#include <vector>

namespace bench {

/// Thrown by a barrier when the run is being aborted.
struct BenchAbort : std::runtime_error {
  BenchAbort() : std::runtime_error("run aborted") {}
};

class PhaseCtl {
 public:
  PhaseCtl(int shards, int fd_to_parent, int fd_from_parent)
      : shards_(shards), to_parent_(fd_to_parent), from_parent_(fd_from_parent) {}

  /// Waits in a shard until all shards of all processes reach `name`. `failed` marks this
  /// shard as broken, which makes the coordinator abort the run at this barrier.
  boost::asio::awaitable<void> barrier(boost::asio::io_context& ioc, const std::string& name, bool failed);
  /// A shard finished (it counts as arrived at every later barrier).
  void shard_done(bool failed);
  /// Runs on the process's main thread until every shard is done.
  void serve();

 private:
  struct Waiter {
    boost::asio::steady_timer* timer;
    bool* released;
    bool* aborted;
  };
  std::mutex m_;
  std::condition_variable cv_;
  int shards_, arrived_ = 0, done_ = 0;
  bool failed_ = false;
  std::string name_;
  std::vector<Waiter> waiters_;
  int to_parent_, from_parent_;
};

/// Pipe helpers shared with the coordinator (blocking, whole lines).
void write_all(int fd, const std::string& s);
bool read_line(int fd, std::string& line);
bool read_exact(int fd, std::string& out, size_t n);

}  // namespace bench
