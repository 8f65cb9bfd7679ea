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

// Flow control stopped reading a client that kept its pace: what it sent meanwhile is let
// through when the server reads it at once.
TEST(RateLimiterTest, ABacklogTheServerLeftUnreadIsNotABurst) {
  RateLimiter behind(/*rate=*/50, /*burst=*/5), plain(/*rate=*/50, /*burst=*/5);
  auto t0 = RateLimiter::Clock::now();
  for (int i = 0; i < 5; ++i) {
    EXPECT_TRUE(behind.allow(t0));
    EXPECT_TRUE(plain.allow(t0));
  }
  // Not read for two seconds: 100 requests sent at 50 a second arrive together.
  behind.server_behind(true, t0);
  auto read = t0 + seconds(2);
  int let_through = 0, capped = 0;
  for (int i = 0; i < 100; ++i) {
    let_through += behind.allow(read) ? 1 : 0;
    capped += plain.allow(read) ? 1 : 0;
  }
  EXPECT_EQ(let_through, 100);
  EXPECT_EQ(capped, 5) << "a quiet client saves up no more than the burst";
  EXPECT_FALSE(behind.allow(read)) << "no more than the unread time earned";
}

TEST(RateLimiterTest, OnlyTheTimeBehindAccruesPastTheBurst) {
  RateLimiter limiter(/*rate=*/10, /*burst=*/5);
  auto t0 = RateLimiter::Clock::now();
  for (int i = 0; i < 5; ++i) EXPECT_TRUE(limiter.allow(t0));
  // Quiet for 10 s (5 tokens: the cap), then 2 s behind (20 more).
  limiter.server_behind(true, t0 + seconds(10));
  int allowed = 0;
  for (int i = 0; i < 100; ++i) allowed += limiter.allow(t0 + seconds(12)) ? 1 : 0;
  EXPECT_EQ(allowed, 25);
}

TEST(RateLimiterTest, NoMoreThanTheLongestBacklogIsSavedUpWhileBehind) {
  RateLimiter limiter(/*rate=*/10, /*burst=*/5);
  auto t0 = RateLimiter::Clock::now();
  for (int i = 0; i < 5; ++i) EXPECT_TRUE(limiter.allow(t0));
  // Behind for ten minutes, as a client whose every read fills the buffer could make it.
  limiter.server_behind(true, t0);
  int allowed = 0;
  for (int i = 0; i < 10000; ++i) allowed += limiter.allow(t0 + seconds(600)) ? 1 : 0;
  EXPECT_EQ(allowed, 5 + 10 * static_cast<int>(RateLimiter::kLongestBacklog));
  // The rate itself goes on while behind.
  allowed = 0;
  for (int i = 0; i < 100; ++i) allowed += limiter.allow(t0 + seconds(601)) ? 1 : 0;
  EXPECT_EQ(allowed, 10);
}

TEST(RateLimiterTest, CaughtUpDropsTheSurplusAndKeepsTheBurst) {
  RateLimiter limiter(/*rate=*/50, /*burst=*/5);
  auto t0 = RateLimiter::Clock::now();
  for (int i = 0; i < 5; ++i) EXPECT_TRUE(limiter.allow(t0));
  limiter.server_behind(true, t0);
  for (int i = 0; i < 10; ++i) EXPECT_TRUE(limiter.allow(t0 + seconds(2)));  // 90 of 100 left
  limiter.server_behind(false, t0 + seconds(2));
  int allowed = 0;
  for (int i = 0; i < 100; ++i) allowed += limiter.allow(t0 + seconds(2)) ? 1 : 0;
  EXPECT_EQ(allowed, 5);
  // And the cap holds again for quiet time.
  allowed = 0;
  for (int i = 0; i < 100; ++i) allowed += limiter.allow(t0 + seconds(60)) ? 1 : 0;
  EXPECT_EQ(allowed, 5);
}

}  // namespace
}  // namespace modu
