// The cluster's event bus below NATS: the batch wire format, and the sequencer that
// delivers every node's batches in position order, skipping a lost one after a timeout.
#include <gtest/gtest.h>

#include "cluster/batch_codec.h"
#include "cluster/sequencer.h"

namespace modu::cluster {
namespace {

using namespace std::chrono_literals;
using Clock = Sequencer::Clock;

BusEvent event(std::vector<std::int64_t> users, std::string frame, std::int64_t disconnect = 0) {
  auto ids = std::make_shared<std::vector<UserId>>();
  for (auto u : users) ids->push_back(UserId(u));
  return BusEvent{std::move(ids), share(std::move(frame)), DeviceId(disconnect)};
}

TEST(BatchCodecTest, RoundTripsAndSplitsLargeBatches) {
  std::vector<BusEvent> events{event({1, 2, 3}, "{\"a\":1}"), event({4}, "bye", 9), event({5}, std::string(300, 'x'))};
  auto one = encode_batch(3, 10, 14, events, 1 << 20);
  ASSERT_EQ(one.size(), 1u);
  auto b = decode_batch(one[0]);
  ASSERT_TRUE(b);
  EXPECT_EQ(b->shard, 3u);
  EXPECT_EQ(b->from, 10);
  EXPECT_EQ(b->to, 14);
  ASSERT_EQ(b->events.size(), 3u);
  EXPECT_EQ(*b->events[0].users, (std::vector<UserId>{UserId(1), UserId(2), UserId(3)}));
  EXPECT_EQ(b->events[1].disconnect, DeviceId(9));
  EXPECT_EQ(*b->events[2].frame, std::string(300, 'x'));

  auto parts = encode_batch(0, 10, 14, events, 60);  // forces one event per part
  ASSERT_EQ(parts.size(), 3u);
  for (std::uint32_t i = 0; i < 3; ++i) {
    auto p = decode_batch(parts[i]);
    ASSERT_TRUE(p);
    EXPECT_EQ(p->part, i);
    EXPECT_EQ(p->parts, 3u);
    EXPECT_EQ(p->events.size(), 1u);
  }
}

TEST(BatchCodecTest, RefusesMalformedMessages) {
  auto good = encode_batch(0, 1, 2, {event({1}, "x")}, 1 << 20)[0];
  EXPECT_FALSE(decode_batch(""));
  EXPECT_FALSE(decode_batch(good.substr(0, good.size() - 1)));  // truncated
  EXPECT_FALSE(decode_batch(good + "z"));                        // trailing bytes
  std::string bad_magic = good;
  bad_magic[0] = 'X';
  EXPECT_FALSE(decode_batch(bad_magic));
  EXPECT_FALSE(decode_batch(encode_batch(0, 5, 4, {}, 100)[0]));  // to < from
  EXPECT_FALSE(decode_batch(encode_batch(kMaxShards, 1, 2, {}, 100)[0]));  // no such shard
}

struct Recorder {
  std::vector<std::string> delivered;
  int resyncs = 0;
  Sequencer make(Pos start) {
    return Sequencer(start, 1000ms,
                     [this](const std::vector<BusEvent>& events) {
                       for (const auto& e : events) delivered.push_back(*e.frame);
                     },
                     [this] { ++resyncs; });
  }
};

BusBatch batch(Pos from, Pos to, std::string frame) {
  return BusBatch{.from = from, .to = to, .events = {event({1}, std::move(frame))}};
}

TEST(SequencerTest, DeliversInPositionOrderWhateverTheArrivalOrder) {
  Recorder r;
  Sequencer s = r.make(10);
  auto now = Clock::now();
  s.offer(batch(15, 20, "c"), now);
  s.offer(batch(12, 15, "b"), now);
  EXPECT_TRUE(r.delivered.empty());  // waiting for (10, 12]
  EXPECT_EQ(s.waiting(), 2u);
  s.offer(batch(10, 12, "a"), now);
  EXPECT_EQ(r.delivered, (std::vector<std::string>{"a", "b", "c"}));
  EXPECT_EQ(s.delivered(), 20);
  s.offer(batch(12, 15, "b"), now);  // a duplicate is dropped
  s.offer(batch(5, 10, "old"), now);  // so is anything before the start
  EXPECT_EQ(r.delivered.size(), 3u);
  s.offer(batch(20, 20, "unordered"), now);  // no position: delivered at once
  EXPECT_EQ(r.delivered.back(), "unordered");
}

TEST(SequencerTest, SkipsALostBatchAfterTheTimeoutAndAsksForResync) {
  Recorder r;
  Sequencer s = r.make(0);
  auto now = Clock::now();
  s.offer(batch(3, 5, "later"), now);
  s.tick(now + 500ms);
  EXPECT_TRUE(r.delivered.empty());
  EXPECT_EQ(r.resyncs, 0);
  s.tick(now + 1500ms);
  EXPECT_EQ(r.resyncs, 1);
  EXPECT_EQ(r.delivered, (std::vector<std::string>{"later"}));
  EXPECT_EQ(s.skipped(), 1u);
  s.offer(batch(0, 3, "lost"), now + 2s);  // arrives after all: too late, dropped
  EXPECT_EQ(r.delivered.size(), 1u);
}

TEST(SequencerTest, AssemblesPartsBeforeDelivering) {
  Recorder r;
  Sequencer s = r.make(0);
  std::vector<BusEvent> events{event({1}, "p0"), event({1}, "p1")};
  auto parts = encode_batch(0, 0, 4, events, 30);
  ASSERT_EQ(parts.size(), 2u);
  auto now = Clock::now();
  s.offer(*decode_batch(parts[1]), now);
  EXPECT_TRUE(r.delivered.empty());
  s.offer(*decode_batch(parts[0]), now);
  EXPECT_EQ(r.delivered, (std::vector<std::string>{"p0", "p1"}));
}

}  // namespace
}  // namespace modu::cluster
