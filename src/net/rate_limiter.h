// A token bucket: `rate` tokens per second, holding at most `burst`. Single-threaded.
//
// The cap keeps a client that was quiet from saving up. But a client is not quiet while
// the server is behind on its connection: flow control (net/read_gate.h) stopped reading
// it, or the last read filled the buffer and left more in the socket. What the client sent
// at its own pace then arrives at once. So while the server says it is behind
// (`server_behind`), tokens accrue past `burst` at `rate`, and a backlog the server itself
// built up is not refused as a burst. Over any stretch of time a client still gets at most
// `burst` plus `rate` per second of it, and what it saves up while behind is capped at
// `kLongestBacklog` of the rate: a client that keeps its reads full (big frames, slowly)
// cannot bank tokens for hours and spend them at once.
#pragma once

#include <algorithm>
#include <chrono>

namespace modu {

class RateLimiter {
 public:
  using Clock = std::chrono::steady_clock;

  // The longest backlog of a connection whose requests are all let through when the server
  // reads them: far beyond any the flow control leaves (seconds at the maximum rate,
  // docs/benchmarks.md entry 55).
  static constexpr float kLongestBacklog = 60.0f;  // seconds

  RateLimiter(double rate, double burst)
      : rate_(static_cast<float>(rate)), burst_(static_cast<float>(burst)), tokens_(burst_) {}

  // Takes one token if there is one.
  bool allow(Clock::time_point now = Clock::now()) {
    refill(now);
    if (tokens_ < 1.0f) return false;
    tokens_ -= 1.0f;
    return true;
  }

  // From now on, whether requests of this connection may be waiting unread (until said
  // otherwise). When it stops being behind, what it saved up beyond `burst` goes. Called
  // after every read; reads the clock only when the answer changes.
  void server_behind(bool behind) {
    if (behind != behind_) server_behind(behind, Clock::now());
  }
  void server_behind(bool behind, Clock::time_point now) {
    refill(now);
    behind_ = behind;
    if (!behind_) tokens_ = std::min(tokens_, burst_);
  }

 private:
  void refill(Clock::time_point now) {
    if (now <= last_) return;
    float earned = static_cast<float>(std::chrono::duration<double>(now - last_).count()) * rate_;
    last_ = now;
    tokens_ = behind_ ? std::min(tokens_ + earned, burst_ + rate_ * kLongestBacklog)
                      : std::max(tokens_, std::min(burst_, tokens_ + earned));
  }

  float rate_;
  float burst_;
  float tokens_;
  bool behind_ = false;
  Clock::time_point last_ = Clock::now();
};

}  // namespace modu
