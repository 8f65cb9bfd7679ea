// Keep-alive and timeouts for every WebSocket connection of one event loop, on one timer.
//
// Each connection joins its loop's `KeepAlive` for as long as it lives (an intrusive
// list: no allocation, unlinked by the member's destructor). Every `period` the timer
// calls `on_keep_alive_tick` on each member; a member that has heard nothing for a whole
// period pings its peer, and one still silent a period later closes. A connection thus
// costs no timer of its own, and an idle server wakes once a period per loop.
//
// Not thread-safe: members join, leave and tick on the loop's thread.
#pragma once

#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/intrusive/list.hpp>

#include <chrono>

namespace modu::websocket {

class KeepAlive;

class KeepAliveMember
    : public boost::intrusive::list_base_hook<boost::intrusive::link_mode<boost::intrusive::auto_unlink>> {
 public:
  virtual ~KeepAliveMember() = default;

 protected:
  friend class KeepAlive;
  // Called once a period on the loop's thread. It may close the connection, but must not
  // destroy other members.
  virtual void on_keep_alive_tick() = 0;
};

class KeepAlive {
 public:
  explicit KeepAlive(boost::asio::io_context& io) : timer_(io) {}

  // The interval between ticks. Call before the loop runs.
  void set_period(std::chrono::milliseconds period) { period_ = period; }
  std::chrono::milliseconds period() const { return period_; }

  // Adds `member` until it is destroyed; starts the timer if it was idle.
  void join(KeepAliveMember& member);

  std::size_t members() const { return members_.size(); }

 private:
  void arm();
  void tick();

  using Members = boost::intrusive::list<KeepAliveMember, boost::intrusive::constant_time_size<false>>;

  boost::asio::steady_timer timer_;
  std::chrono::milliseconds period_{30'000};
  Members members_;
  bool armed_ = false;
};

}  // namespace modu::websocket
