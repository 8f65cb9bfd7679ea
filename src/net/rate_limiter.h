// A token bucket: `rate` tokens per second, holding at most `burst`. Single-threaded.
#pragma once

#include <algorithm>
#include <chrono>

namespace modu {

class RateLimiter {
 public:
  using Clock = std::chrono::steady_clock;

  RateLimiter(double rate, double burst)
      : rate_(static_cast<float>(rate)), burst_(static_cast<float>(burst)), tokens_(burst_) {}

  // Takes one token if there is one.
  bool allow(Clock::time_point now = Clock::now()) {
    double elapsed = std::chrono::duration<double>(now - last_).count();
    last_ = now;
    tokens_ = std::min(burst_, tokens_ + static_cast<float>(elapsed) * rate_);
    if (tokens_ < 1.0f) return false;
    tokens_ -= 1.0f;
    return true;
  }

 private:
  float rate_;
  float burst_;
  float tokens_;
  Clock::time_point last_ = Clock::now();
};

}  // namespace modu
