// The event bus between the nodes of a cluster, over NATS.
//
// Each node publishes the events of every batch it commits on one subject and subscribes
// to it; a Sequencer (sequencer.h) delivers all nodes' batches — this node's included — to
// this node's connections in position order. No table says which node holds which user's
// devices: every node receives every batch and delivers to the connections it has, so
// presence costs nothing per message (docs/deploy.md discusses what that means at 100
// nodes).
//
// NATS core is at-most-once. A batch lost while NATS is unreachable, or never published
// because its node died right after the commit, becomes a gap the sequencer skips after a
// timeout, telling this node's connections to `sync`: they then read what they missed from
// the database. While NATS is unreachable, `unavailable_reason` says so (/healthz answers
// not-ready), publishes wait in the client's reconnect buffer, and the client reconnects
// by itself.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

#include "cluster/sequencer.h"
#include "metrics/metrics.h"
#include "modu/error.h"
#include "realtime/hub.h"

struct __natsConnection;
struct __natsSubscription;
struct __natsOptions;
struct __natsMsg;

namespace modu::cluster {

struct BusOptions {
  std::string url;                              // nats://host:port[,nats://…]
  std::string subject = "modu.batches";
  std::chrono::milliseconds gap_timeout{1000};  // how long a missing batch is waited for
  std::size_t max_message_bytes = 512 * 1024;   // batches are split above this
};

class NatsBus {
 public:
  // Connects (retrying in the background while NATS is down) and subscribes; `start` holds
  // the store's committed position of each shard now. Events go to `hub`.
  static Result<std::unique_ptr<NatsBus>> start(const BusOptions& options, const std::vector<Pos>& start,
                                                Hub& hub, Metrics& metrics);
  ~NatsBus();
  NatsBus(const NatsBus&) = delete;
  NatsBus& operator=(const NatsBus&) = delete;

  // A batch this node committed to `shard` (its committer thread): published to the other
  // nodes and offered to this node's sequencer of that shard.
  void publish(int shard, Pos from, Pos to, std::vector<BusEvent> events);

  // Empty while connected; otherwise why not.
  std::string unavailable_reason() const;
  // Each shard's positions are ordered on their own: one sequencer per shard.
  const Sequencer& sequencer(int shard) const { return *sequencers_[static_cast<std::size_t>(shard)]; }

 private:
  NatsBus(const BusOptions& options, const std::vector<Pos>& start, Hub& hub, Metrics& metrics);
  void offer(BusBatch batch);
  static void on_message(__natsConnection*, __natsSubscription*, __natsMsg* msg, void* self);
  static void on_disconnected(__natsConnection*, void* self);
  static void on_reconnected(__natsConnection*, void* self);
  void run_ticker();

  BusOptions options_;
  Hub& hub_;
  Metrics& metrics_;
  std::vector<std::unique_ptr<Sequencer>> sequencers_;  // by shard
  __natsOptions* nats_options_ = nullptr;
  __natsConnection* conn_ = nullptr;
  __natsSubscription* sub_ = nullptr;
  std::atomic<bool> connected_{false};

  std::mutex mu_;
  std::condition_variable cv_;
  bool stopping_ = false;  // GUARDED_BY(mu_)
  std::thread ticker_;
};

}  // namespace modu::cluster
