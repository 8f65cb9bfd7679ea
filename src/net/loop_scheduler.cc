#include "net/loop_scheduler.h"

#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>

#include <memory>

namespace modu {

CommitScheduler schedule_on_loop(boost::asio::io_context& io) {
  return [&io](std::chrono::steady_clock::time_point at, std::function<void()> task) {
    // Callers may be on any thread: the timer is made on the loop's own, where its I/O
    // objects live.
    boost::asio::post(io, [&io, at, task = std::move(task)]() mutable {
      if (std::chrono::steady_clock::now() >= at) return task();
      auto timer = std::make_shared<boost::asio::steady_timer>(io, at);
      timer->async_wait([timer, task = std::move(task)](const boost::system::error_code&) { task(); });
    });
  };
}

}  // namespace modu
