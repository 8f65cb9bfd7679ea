// The drivers' one way to wait for an answer that arrives through a callback (a request's
// reply, an acknowledgement, a matching stanza), with the request timeout.
#pragma once

#include <utility>  // before Asio: Boost 1.74's awaitable.hpp needs std::exchange

#include <boost/asio.hpp>
#include <chrono>
#include <memory>
#include <optional>
#include <string>

namespace bench {

/// The answer of a request that succeeds or fails: on success its result, else the error.
struct Outcome {
  bool ok = false;
  std::string detail;
};

/// Calls `start(answer)`, which must arrange for `answer(T)` to be called when the answer
/// comes (possibly before `start` returns), then waits for it for at most `timeout`.
/// Returns the answer, or nothing if it did not come in time (a later answer is ignored).
/// Runs on `ioc`'s thread, like the callback.
template <class T, class Start>
boost::asio::awaitable<std::optional<T>> await_answer(boost::asio::io_context& ioc, std::chrono::milliseconds timeout,
                                                      Start&& start) {
  struct State {
    explicit State(boost::asio::io_context& io) : timer(io) {}
    boost::asio::steady_timer timer;
    std::optional<T> answer;
  };
  auto st = std::make_shared<State>(ioc);
  st->timer.expires_after(timeout);
  start([st](T answer) {
    if (st->answer) return;
    st->answer.emplace(std::move(answer));
    st->timer.cancel();
  });
  if (!st->answer) {
    boost::system::error_code ec;
    co_await st->timer.async_wait(boost::asio::redirect_error(boost::asio::use_awaitable, ec));
  }
  co_return std::move(st->answer);
}

}  // namespace bench
