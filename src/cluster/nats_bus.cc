#include "cluster/nats_bus.h"

#include <fmt/format.h>
#include <nats/nats.h>
#include <spdlog/spdlog.h>

#include "common/thread_name.h"

namespace modu::cluster {
namespace {

std::string status_text(natsStatus s) { return natsStatus_GetText(s); }

}  // namespace

NatsBus::NatsBus(const BusOptions& options, const std::vector<Pos>& start, Hub& hub, Metrics& metrics)
    : options_(options), hub_(hub), metrics_(metrics) {
  for (Pos shard_start : start) {
    sequencers_.push_back(std::make_unique<Sequencer>(
        shard_start, options.gap_timeout,
        [&hub](const std::vector<BusEvent>& events) { hub.deliver_events(events); },
        [&hub, &metrics] {
          metrics.bus_gaps_skipped.fetch_add(1, std::memory_order_relaxed);
          spdlog::warn("cluster: a batch from another node never arrived; telling clients to sync");
          hub.broadcast(share(event_frame("sync.needed", 0, "{}")));
        }));
  }
}

void NatsBus::offer(BusBatch batch) {
  if (batch.shard >= sequencers_.size()) {
    // A node configured with more shards than this one: the deployment is inconsistent.
    spdlog::warn("cluster: ignored a batch of shard {}; this node knows {} shards", batch.shard,
                 sequencers_.size());
    return;
  }
  sequencers_[batch.shard]->offer(std::move(batch), Sequencer::Clock::now());
}

Result<std::unique_ptr<NatsBus>> NatsBus::start(const BusOptions& options, const std::vector<Pos>& start,
                                                Hub& hub, Metrics& metrics) {
  std::unique_ptr<NatsBus> bus(new NatsBus(options, start, hub, metrics));
  auto fail = [&](std::string_view what, natsStatus s) {
    return make_error(ErrorCode::kUnavailable, fmt::format("NATS {}: {}", what, status_text(s)));
  };
  natsStatus s = natsOptions_Create(&bus->nats_options_);
  if (s != NATS_OK) return fail("options", s);
  natsOptions* o = bus->nats_options_;
  if ((s = natsOptions_SetURL(o, options.url.c_str())) != NATS_OK) return fail("url", s);
  natsOptions_SetName(o, "modu");
  natsOptions_SetNoEcho(o, true);  // this node's batches reach its sequencer directly
  natsOptions_SetAllowReconnect(o, true);
  natsOptions_SetMaxReconnect(o, -1);
  natsOptions_SetReconnectWait(o, 250);
  natsOptions_SetReconnectBufSize(o, 64 * 1024 * 1024);
  natsOptions_SetDisconnectedCB(o, &NatsBus::on_disconnected, bus.get());
  natsOptions_SetReconnectedCB(o, &NatsBus::on_reconnected, bus.get());
  natsOptions_SetRetryOnFailedConnect(o, true, &NatsBus::on_reconnected, bus.get());
  s = natsConnection_Connect(&bus->conn_, o);
  if (s == NATS_OK) {
    bus->connected_ = true;
    metrics.bus_connected = 1;
  }
  else if (s != NATS_NOT_YET_CONNECTED) return fail("connect", s);
  else spdlog::warn("cluster: NATS at {} is not reachable yet; retrying", options.url);
  s = natsConnection_Subscribe(&bus->sub_, bus->conn_, options.subject.c_str(), &NatsBus::on_message, bus.get());
  if (s != NATS_OK) return fail("subscribe", s);
  natsSubscription_SetPendingLimits(bus->sub_, -1, -1);  // never drop: the sequencer needs every batch
  if (bus->connected_) natsConnection_Flush(bus->conn_);  // the subscription is live before we serve
  bus->ticker_ = std::thread([b = bus.get()] {
    name_this_thread("modu-bus-ticker");
    b->run_ticker();
  });
  return bus;
}

NatsBus::~NatsBus() {
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
  }
  cv_.notify_all();
  if (ticker_.joinable()) ticker_.join();
  if (sub_) {
    natsSubscription_Unsubscribe(sub_);
    natsSubscription_Destroy(sub_);
  }
  if (conn_) {
    natsConnection_FlushTimeout(conn_, 1000);
    natsConnection_Close(conn_);
    natsConnection_Destroy(conn_);
  }
  if (nats_options_) natsOptions_Destroy(nats_options_);
}

void NatsBus::publish(int shard, Pos from, Pos to, std::vector<BusEvent> events) {
  for (const auto& msg : encode_batch(shard, from, to, events, options_.max_message_bytes)) {
    natsStatus s = natsConnection_Publish(conn_, options_.subject.c_str(), msg.data(), static_cast<int>(msg.size()));
    if (s != NATS_OK) spdlog::warn("cluster: publishing a batch failed: {}", status_text(s));
  }
  metrics_.bus_batches_out.fetch_add(1, std::memory_order_relaxed);
  offer(BusBatch{.shard = static_cast<std::uint32_t>(shard), .from = from, .to = to, .events = std::move(events)});
}

void NatsBus::on_message(natsConnection*, natsSubscription*, natsMsg* msg, void* self) {
  auto* bus = static_cast<NatsBus*>(self);
  auto batch = decode_batch(std::string_view(natsMsg_GetData(msg), static_cast<std::size_t>(natsMsg_GetDataLength(msg))));
  natsMsg_Destroy(msg);
  if (!batch) {
    spdlog::warn("cluster: ignored a malformed bus message");
    return;
  }
  bus->metrics_.bus_batches_in.fetch_add(1, std::memory_order_relaxed);
  bus->offer(std::move(*batch));
}

void NatsBus::on_disconnected(natsConnection*, void* self) {
  auto* bus = static_cast<NatsBus*>(self);
  bus->metrics_.bus_connected = 0;
  if (bus->connected_.exchange(false)) spdlog::warn("cluster: lost the connection to NATS; reconnecting");
}

void NatsBus::on_reconnected(natsConnection*, void* self) {
  auto* bus = static_cast<NatsBus*>(self);
  bus->metrics_.bus_connected = 1;
  if (!bus->connected_.exchange(true)) spdlog::info("cluster: connected to NATS");
}

std::string NatsBus::unavailable_reason() const {
  return connected_.load() ? std::string() : "the event bus (NATS) is unreachable";
}

void NatsBus::run_ticker() {
  std::unique_lock lock(mu_);
  while (!stopping_) {
    cv_.wait_for(lock, std::chrono::milliseconds(100));
    lock.unlock();
    std::size_t waiting = 0;
    for (auto& sequencer : sequencers_) {
      sequencer->tick(Sequencer::Clock::now());
      waiting += sequencer->waiting();
    }
    metrics_.bus_batches_waiting = static_cast<std::int64_t>(waiting);
    lock.lock();
  }
}

}  // namespace modu::cluster
