#include "net/websocket/keep_alive.h"

namespace modu::websocket {

void KeepAlive::join(KeepAliveMember& member) {
  members_.push_back(member);
  if (!armed_) arm();
}

void KeepAlive::arm() {
  armed_ = true;
  timer_.expires_after(period_);
  timer_.async_wait([this](boost::system::error_code ec) {
    armed_ = false;
    if (!ec) tick();
  });
}

void KeepAlive::tick() {
  // The iterator moves on before the member runs, so a member may leave during its tick.
  for (auto it = members_.begin(); it != members_.end();) {
    KeepAliveMember& member = *it++;
    member.on_keep_alive_tick();
  }
  // An idle server with no connections stops ticking until one joins.
  if (!members_.empty() && !armed_) arm();
}

}  // namespace modu::websocket
