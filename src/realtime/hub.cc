#include "realtime/hub.h"

#include <boost/asio/post.hpp>

#include <algorithm>

namespace modu {

Hub::Hub(std::vector<boost::asio::io_context*> loops)
    : loops_(std::move(loops)), registries_(loops_.size()) {}

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
  for (std::size_t i = 0; i < loops_.size(); ++i) {
    boost::asio::post(*loops_[i], [this, i, users, frame] {
      const auto& reg = registries_[i];
      if (reg.empty()) return;
      for (UserId u : *users) {
        auto it = reg.find(u);
        if (it == reg.end()) continue;
        for (Connection* c : it->second) c->send(frame);
      }
    });
  }
}

void Hub::publish(UserId user, SharedFrame frame) {
  publish(std::make_shared<const std::vector<UserId>>(1, user), std::move(frame));
}

void Hub::disconnect_device(UserId user, DeviceId device, SharedFrame notice) {
  for (std::size_t i = 0; i < loops_.size(); ++i) {
    boost::asio::post(*loops_[i], [this, i, user, device, notice] {
      auto& reg = registries_[i];
      auto it = reg.find(user);
      if (it == reg.end()) return;
      // Copy: closing may detach and mutate the vector.
      std::vector<Connection*> conns = it->second;
      for (Connection* c : conns)
        if (c->device == device) c->close_after(notice);
    });
  }
}

void Hub::close_all() {
  for (std::size_t i = 0; i < loops_.size(); ++i) {
    boost::asio::post(*loops_[i], [this, i] {
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
