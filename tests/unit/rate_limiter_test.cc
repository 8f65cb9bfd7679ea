// The per-connection token bucket (src/net/rate_limiter.h), driven with explicit time
// points so the test does not depend on the wall clock.
#include "net/rate_limiter.h"

#include <gtest/gtest.h>

namespace modu {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;

TEST(RateLimiterTest, BurstThenRefusal) {
  RateLimiter limiter(/*rate=*/4, /*burst=*/3);
  auto t0 = RateLimiter::Clock::now();
  EXPECT_TRUE(limiter.allow(t0));
  EXPECT_TRUE(limiter.allow(t0));
  EXPECT_TRUE(limiter.allow(t0));
  EXPECT_FALSE(limiter.allow(t0));
  EXPECT_FALSE(limiter.allow(t0));
}

TEST(RateLimiterTest, RefillsAtTheRate) {
  RateLimiter limiter(/*rate=*/4, /*burst=*/2);
  auto t0 = RateLimiter::Clock::now();
  EXPECT_TRUE(limiter.allow(t0));
  EXPECT_TRUE(limiter.allow(t0));
  EXPECT_FALSE(limiter.allow(t0));
  // 4 tokens a second: half a token after 125 ms, one after 250 ms.
  EXPECT_FALSE(limiter.allow(t0 + milliseconds(125)));
  EXPECT_TRUE(limiter.allow(t0 + milliseconds(250)));
  EXPECT_FALSE(limiter.allow(t0 + milliseconds(250)));
  EXPECT_TRUE(limiter.allow(t0 + milliseconds(500)));
  EXPECT_FALSE(limiter.allow(t0 + milliseconds(500)));
}

TEST(RateLimiterTest, RefillIsCappedAtTheBurst) {
  RateLimiter limiter(/*rate=*/4, /*burst=*/3);
  auto t0 = RateLimiter::Clock::now();
  for (int i = 0; i < 3; ++i) EXPECT_TRUE(limiter.allow(t0));
  EXPECT_FALSE(limiter.allow(t0));
  // A long silence earns at most `burst` tokens, not rate * 60.
  auto later = t0 + seconds(60);
  int allowed = 0;
  for (int i = 0; i < 100; ++i) allowed += limiter.allow(later) ? 1 : 0;
  EXPECT_EQ(allowed, 3);
}

TEST(RateLimiterTest, SustainedRateIsHonoured) {
  RateLimiter limiter(/*rate=*/50, /*burst=*/200);
  auto t = RateLimiter::Clock::now();
  int allowed = 0;
  for (int i = 0; i < 200; ++i) allowed += limiter.allow(t) ? 1 : 0;
  EXPECT_EQ(allowed, 200);
  // Ten seconds of 1,000 requests a second: about 50 a second get through.
  allowed = 0;
  for (int i = 0; i < 10'000; ++i) {
    t += milliseconds(1);
    allowed += limiter.allow(t) ? 1 : 0;
  }
  EXPECT_GE(allowed, 495);
  EXPECT_LE(allowed, 505);
}

}  // namespace
}  // namespace modu
