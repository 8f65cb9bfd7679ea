#include "realtime/hub.h"

#include <boost/asio/post.hpp>

#include <algorithm>

namespace modu {

thread_local Hub* Hub::batching_ = nullptr;

Hub::Hub(std::vector<LoopWriter*> loops)
    : loops_(std::move(loops)), registries_(loops_.size()), pending_(loops_.size()) {}

void Hub::begin_batch(int shard, Pos from, Pos to) {
  batching_ = this;
  batch_shard_ = shard;
  batch_from_ = from;
  batch_to_ = to;
}

void Hub::end_batch() {
  batching_ = nullptr;
  fill_merged_frames();
  for (std::size_t i = 0; i < loops_.size(); ++i) {
    if (pending_[i].empty()) continue;
    boost::asio::post(loops_[i]->io(), [this, i, items = std::move(pending_[i])] {
      for (const auto& d : items) deliver(i, d);
      loops_[i]->write();
    });
    pending_[i] = {};
  }
  // Every committed range goes to the sink, events or not: the other nodes' sequencers
  // wait for each range in turn.
  if (sink_ && (batch_from_ != batch_to_ || !batch_events_.empty()))
    sink_(batch_shard_, batch_from_, batch_to_, std::move(batch_events_));
  batch_events_ = {};
}

void Hub::deliver_events(const std::vector<Event>& events) {
  if (events.empty()) return;
  auto shared = std::make_shared<const std::vector<Event>>(events);
  for (std::size_t i = 0; i < loops_.size(); ++i) {
    boost::asio::post(loops_[i]->io(), [this, i, shared] {
      for (const auto& e : *shared) deliver(i, Delivery{e.users, nullptr, e.frame, e.disconnect});
      loops_[i]->write();
    });
  }
}

void Hub::broadcast(SharedFrame frame) {
  for (std::size_t i = 0; i < loops_.size(); ++i) {
    boost::asio::post(loops_[i]->io(), [this, i, frame] {
      for (const auto& [user, conns] : registries_[i])
        for (Connection* c : conns) c->send(frame);
    });
  }
}

void Hub::publish_merged(MergeKey key, std::shared_ptr<const std::vector<UserId>> users,
                         std::shared_ptr<const Mergeable> part) {
  if (batching_ != this) return publish(std::move(users), part->merged_frame({part}));
  Merging& m = merging_[key];
  // Withdraw the earlier parts' slots (a withdrawn slot has no frame and is skipped).
  for (std::size_t i = 0; i < m.slots.size(); ++i) {
    if (sink_) batch_events_[m.slots[i]].frame = nullptr;
    else pending_[i][m.slots[i]].frame = nullptr;
  }
  m.slots.clear();
  m.parts.push_back(std::move(part));
  if (sink_) {
    m.slots.push_back(batch_events_.size());
    batch_events_.push_back(Event{std::move(users), nullptr, DeviceId()});
    return;
  }
  for (std::size_t i = 0; i < loops_.size(); ++i) {
    m.slots.push_back(pending_[i].size());
    pending_[i].push_back(Delivery{users, nullptr, nullptr, DeviceId()});
  }
}

void Hub::fill_merged_frames() {
  if (merging_.empty()) return;
  bool withdrew = false;
  for (auto& [key, m] : merging_) {
    withdrew |= m.parts.size() > 1;
    SharedFrame frame = m.parts.back()->merged_frame(m.parts);
    for (std::size_t i = 0; i < m.slots.size(); ++i) {
      if (sink_) batch_events_[m.slots[i]].frame = frame;
      else pending_[i][m.slots[i]].frame = frame;
    }
  }
  merging_.clear();
  if (!withdrew) return;
  auto withdrawn = [](const auto& d) { return !d.frame; };
  std::erase_if(batch_events_, withdrawn);
  for (auto& p : pending_) std::erase_if(p, withdrawn);
}

void Hub::deliver(std::size_t loop, const Delivery& d) {
  if (d.conn) return loops_[loop]->answer(*d.conn, d.frame);
  auto& reg = registries_[loop];
  if (reg.empty()) return;
  if (d.disconnect) {
    auto it = reg.find((*d.users)[0]);
    if (it == reg.end()) return;
    std::vector<Connection*> conns = it->second;  // closing detaches: iterate a copy
    for (Connection* c : conns)
      if (c->device == d.disconnect) c->close_after(d.frame);
    return;
  }
  for (UserId u : *d.users) {
    auto it = reg.find(u);
    if (it == reg.end()) continue;
    for (Connection* c : it->second) loops_[loop]->hold(*c, d.frame);
  }
}

void Hub::send_to(std::shared_ptr<Connection> conn, SharedFrame frame) {
  if (batching_ == this) {
    std::size_t loop = conn->loop_index();
    pending_[loop].push_back(Delivery{nullptr, std::move(conn), std::move(frame), DeviceId()});
    return;
  }
  conn->send(std::move(frame));
}

void Hub::attach(Connection& conn) {
  registries_[conn.loop_index()][conn.user].push_back(&conn);
}

void Hub::detach(Connection& conn) {
  if (!conn.signed_in()) return;
  auto& reg = registries_[conn.loop_index()];
  auto it = reg.find(conn.user);
  if (it == reg.end()) return;
  auto& v = it->second;
  v.erase(std::remove(v.begin(), v.end(), &conn), v.end());
  if (v.empty()) reg.erase(it);
}

void Hub::publish(std::shared_ptr<const std::vector<UserId>> users, SharedFrame frame) {
  if (batching_ == this && sink_) {
    batch_events_.push_back(Event{std::move(users), std::move(frame), DeviceId()});
    return;
  }
  for (std::size_t i = 0; i < loops_.size(); ++i) route(i, Delivery{users, nullptr, frame, DeviceId()});
}

void Hub::route(std::size_t loop, Delivery d) {
  if (batching_ == this) return pending_[loop].push_back(std::move(d));
  boost::asio::post(loops_[loop]->io(), [this, loop, d = std::move(d)] {
    deliver(loop, d);
    loops_[loop]->write();
  });
}

void Hub::publish(UserId user, SharedFrame frame) {
  publish(std::make_shared<const std::vector<UserId>>(1, user), std::move(frame));
}

void Hub::disconnect_device(UserId user, DeviceId device, SharedFrame notice) {
  auto users = std::make_shared<const std::vector<UserId>>(1, user);
  if (batching_ == this && sink_) {
    batch_events_.push_back(Event{std::move(users), std::move(notice), device});
    return;
  }
  for (std::size_t i = 0; i < loops_.size(); ++i) route(i, Delivery{users, nullptr, notice, device});
}

void Hub::close_all() {
  for (std::size_t i = 0; i < loops_.size(); ++i) {
    boost::asio::post(loops_[i]->io(), [this, i] {
      std::vector<Connection*> all;
      for (const auto& [user, conns] : registries_[i]) all.insert(all.end(), conns.begin(), conns.end());
      for (Connection* c : all) c->close_going_away();
    });
  }
}

std::size_t Hub::local_count(std::size_t loop) const {
  std::size_t n = 0;
  for (const auto& [u, v] : registries_[loop]) n += v.size();
  return n;
}

}  // namespace modu
