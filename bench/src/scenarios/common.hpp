// What every scenario gets: the shard context (its io_context thread, its share of the load,
// its Result, client factory, barriers) and small coroutine helpers (bounded parallelism,
// pacing, sleeping, waiting for a condition with a deadline).
#pragma once
#include <utility>

#include <boost/asio/awaitable.hpp>
#include <boost/asio/io_context.hpp>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "config.hpp"
#include "driver.hpp"
#include "phase.hpp"
#include "result.hpp"

namespace bench {

struct ShardCtx {
  const Config& cfg;
  boost::asio::io_context& ioc;
  Driver& driver;
  std::vector<Endpoint> targets;   // the server's nodes (one unless --target lists several)
  int proc = 0, shard = 0;         // process index, shard index in the process
  int global_shard = 0, shards_total = 1;
  Result& res;
  PhaseCtl& ctl;
  std::vector<boost::asio::ip::address> sources;
  bool failed = false;             // set when setup broke: the next barrier aborts the run
  std::vector<std::shared_ptr<Client>> clients;
  int64_t next_source = 0;
  int64_t next_target = 0;

  /// A new, not yet connected client; closed by close_all() at the end of the shard.
  /// Its node is targets[(placement + global_shard) % targets.size()]: `placement` pins a
  /// user to a node (its index in the shard), -1 takes the next one round-robin.
  std::shared_ptr<Client> new_client(int64_t placement = -1);
  /// new_client() + connect() from the next source address.
  awaitable<std::shared_ptr<Client>> connect_client();
  void close_all();

  /// This shard's part of `total` items (shards differ by at most one).
  int share(int total) const;
  /// Unique handle for account `i` of this shard in this run (3–32 chars of [a-z0-9_]).
  std::string handle(char role, int i) const;

  awaitable<void> barrier(const std::string& name);
  awaitable<void> sleep(double seconds);
  /// Runs fn(0..n-1) with at most `parallel` in flight. Failures are recorded as errors;
  /// if any item failed, throws BenchError after all finished.
  awaitable<void> for_each(int n, int parallel, std::function<awaitable<void>(int)> fn, const char* what);
  /// Polls `done` every `poll_s` until it is true or `timeout_s` passed; returns done().
  awaitable<bool> wait_until(std::function<bool()> done, double timeout_s, double poll_s = 0.005);
  /// Records an exception from a client operation as an error of kind `what`.
  void record_exception(const char* what, std::exception_ptr e);
};

/// Runs a function when the scope ends (used to close clients before the state their
/// callbacks point at is destroyed, also when a barrier aborts the run).
template <class F>
struct ScopeExit {
  F f;
  ~ScopeExit() { f(); }
};
template <class F>
ScopeExit(F) -> ScopeExit<F>;

/// Open-loop pacer: next() waits until the k-th event's scheduled time (start + k / rate).
class Pacer {
 public:
  Pacer(boost::asio::io_context& ioc, double rate_per_s);
  /// Waits for the next slot; returns its scheduled time (ns, monotonic).
  awaitable<int64_t> next();
  bool unlimited() const { return interval_ns_ <= 0; }

 private:
  boost::asio::io_context& ioc_;
  int64_t start_ns_, interval_ns_;
  int64_t k_ = 0;
};

/// A scenario: the coroutine each shard runs, and how the coordinator turns the merged
/// results into headline figures.
struct ScenarioDef {
  const char* name;
  awaitable<void> (*run)(ShardCtx&);
  /// Barriers whose snapshots bound the measured window (CPU figures), and RSS before/after.
  const char* measure_from;
  const char* measure_to;
};

const ScenarioDef* find_scenario(const std::string& name);

awaitable<void> run_idle(ShardCtx&);
awaitable<void> run_direct(ShardCtx&);
awaitable<void> run_group(ShardCtx&);
awaitable<void> run_reconnect(ShardCtx&);
awaitable<void> run_catchup(ShardCtx&);
awaitable<void> run_history(ShardCtx&);

}  // namespace bench
