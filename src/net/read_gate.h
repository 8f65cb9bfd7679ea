// Flow control for one event loop: while the store is behind, served connections park at
// the gate instead of reading their next request.
//
// A parked connection's requests wait in the kernel's buffers and its client's TCP window
// closes, so an overloaded server's memory stays bounded. The gate holds one timer for the
// whole loop: while anything is parked, it checks the store every `kCheckEvery` and, once
// the store keeps up again, resumes every parked connection in one pass, in parking order.
// Not thread-safe: used only from its loop's thread.
#pragma once

#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>

#include <chrono>
#include <functional>
#include <vector>

namespace modu {

class ReadGate {
 public:
  static constexpr std::chrono::milliseconds kCheckEvery{1};

  explicit ReadGate(boost::asio::io_context& io) : timer_(io) {}

  // Sets the condition under which reading may go on (e.g. "the store's queue is under the
  // mark"). Until it is set, the gate is always open. Call before the loop runs.
  void open_while(std::function<bool()> open) { open_ = std::move(open); }

  bool open() const { return !open_ || open_(); }

  // Calls `resume` on this loop once `open()` holds. The caller parks only after finding
  // the gate closed; `resume` is never called from inside `park`.
  void park(std::function<void()> resume);

  std::size_t parked() const { return parked_.size(); }

 private:
  void check_later();
  void check();

  boost::asio::steady_timer timer_;
  std::function<bool()> open_;
  std::vector<std::function<void()>> parked_;
  bool checking_ = false;
};

}  // namespace modu
