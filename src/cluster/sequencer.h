// Delivers the committed batches of every node to this node's connections in position
// order.
//
// All writers of a database commit batches one at a time, and each batch covers the
// positions (from, to] right after the previous one (store.h, CommitHooks::before_done).
// Nodes publish their batches on the bus in no particular order relative to each other;
// the sequencer holds a batch until every earlier one was delivered, so every device sees
// a chat's messages in seq order whichever node stored them.
//
// A batch that never arrives (its node died between commit and publish, or the bus lost
// it) would stall delivery forever. After `gap_timeout` the sequencer skips the gap and
// calls `resync`: this node's connections are told to catch up with `sync`, which reads
// the committed state and so recovers whatever the lost batch announced.
//
// Batches without positions (from == to: sign-outs and other unordered notices) are
// delivered as soon as they are complete. Thread-safe; `deliver` and `resync` run under
// the sequencer's lock, in order, and must only hand work off.
#pragma once

#include <chrono>
#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <vector>

#include "cluster/batch_codec.h"

namespace modu::cluster {

class Sequencer {
 public:
  using Clock = std::chrono::steady_clock;
  using Deliver = std::function<void(const std::vector<BusEvent>& events)>;
  using Resync = std::function<void()>;

  // `start`: the highest position whose changes this node's clients can already read
  // (the store's committed position when the node subscribed).
  Sequencer(Pos start, std::chrono::milliseconds gap_timeout, Deliver deliver, Resync resync);

  // A batch, or one part of a batch, from any node (this one included).
  void offer(BusBatch part, Clock::time_point now);
  // Skips a gap that has waited longer than the timeout. Call it periodically.
  void tick(Clock::time_point now);

  Pos delivered() const;
  // Batches waiting for an earlier one.
  std::size_t waiting() const;
  // Gaps skipped so far.
  std::uint64_t skipped() const;

 private:
  struct Assembly {
    Pos to = 0;
    std::uint32_t parts = 0;
    std::uint32_t received = 0;
    std::vector<std::vector<BusEvent>> events;  // by part
    Clock::time_point first_seen;
  };
  struct Ready {
    Pos to = 0;
    std::vector<BusEvent> events;
  };
  void accept(Pos from, Ready batch, Clock::time_point now);
  void drain(Clock::time_point now);

  mutable std::mutex mu_;
  Pos next_;  // GUARDED_BY(mu_): every batch up to here was delivered
  std::chrono::milliseconds gap_timeout_;
  Deliver deliver_;
  Resync resync_;
  std::map<Pos, Assembly> assembling_;  // GUARDED_BY(mu_), by from
  std::map<Pos, Ready> ready_;          // GUARDED_BY(mu_), complete batches waiting, by from
  std::optional<Clock::time_point> gap_since_;
  std::uint64_t skipped_ = 0;
};

}  // namespace modu::cluster
