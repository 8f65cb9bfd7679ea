// The hub's batching and merging (realtime/hub.h): what connections receive, in what order.
#include <gtest/gtest.h>

#include <boost/asio/io_context.hpp>

#include <string>
#include <utility>
#include <vector>

#include "realtime/hub.h"
#include "recording_connection.h"

namespace modu {
namespace {

using test::RecordingConnection;

// A part that names itself; the merged frame lists the parts' names in order.
class Named final : public Hub::Mergeable {
 public:
  explicit Named(std::string name) : name_(std::move(name)) {}
  SharedFrame merged_frame(const std::vector<std::shared_ptr<const Mergeable>>& parts) const override {
    std::string s = "merged:";
    for (const auto& p : parts) s += static_cast<const Named&>(*p).name_ + ",";
    return share(s);
  }

 private:
  std::string name_;
};

std::shared_ptr<const std::vector<UserId>> to(std::initializer_list<std::int64_t> ids) {
  auto v = std::make_shared<std::vector<UserId>>();
  for (auto i : ids) v->push_back(UserId(i));
  return v;
}

std::shared_ptr<const Hub::Mergeable> part(std::string name) { return std::make_shared<Named>(std::move(name)); }

TEST(HubTest, MergedPartsGoOutOnceAtTheLastPartsPlace) {
  boost::asio::io_context loop0, loop1;
  LoopWriter writer0(loop0), writer1(loop1);
  Hub hub({&writer0, &writer1});
  RecordingConnection a(UserId(1), 0), b(UserId(2), 1);
  hub.attach(a);
  hub.attach(b);

  hub.begin_batch(0, 10, 20);
  hub.publish_merged({1, 7}, to({1, 2}), part("r1"));
  hub.publish(to({1, 2}), share("message"));
  hub.publish_merged({1, 8}, to({1, 2}), part("other-chat"));
  hub.publish_merged({1, 7}, to({1, 2}), part("r2"));
  hub.publish_merged({2, 7}, to({1}), part("other-kind"));
  hub.publish(to({1}), share("last"));
  hub.end_batch();
  loop0.run();
  loop1.run();

  std::vector<std::string> want_a = {"message", "merged:other-chat,", "merged:r1,r2,", "merged:other-kind,", "last"};
  EXPECT_EQ(a.frames, want_a);
  std::vector<std::string> want_b = {"message", "merged:other-chat,", "merged:r1,r2,"};
  EXPECT_EQ(b.frames, want_b);
}

TEST(HubTest, ABatchsFramesForAConnectionLeaveInOneWrite) {
  boost::asio::io_context loop;
  LoopWriter writer(loop);
  Hub hub({&writer});
  RecordingConnection a(UserId(1)), b(UserId(2)), a_phone(UserId(1));
  hub.attach(a);
  hub.attach(b);
  hub.attach(a_phone);
  hub.begin_batch();
  hub.publish(to({1, 2}), share("message"));
  hub.publish_merged({1, 7}, to({1, 2}), part("read"));
  hub.publish(to({1}), share("mine"));
  hub.end_batch();
  loop.run();
  for (auto* c : {&a, &b, &a_phone}) {
    EXPECT_EQ(c->writes, 1) << "one write per connection per batch";
    EXPECT_FALSE(c->held()) << "nothing is left held";
  }
  EXPECT_EQ(a.frames, (std::vector<std::string>{"message", "merged:read,", "mine"}));
  EXPECT_EQ(b.frames, (std::vector<std::string>{"message", "merged:read,"}));
}

TEST(HubTest, PartsOfDifferentBatchesAreNotMerged) {
  boost::asio::io_context loop;
  LoopWriter writer(loop);
  Hub hub({&writer});
  RecordingConnection a(UserId(1));
  hub.attach(a);
  hub.begin_batch();
  hub.publish_merged({1, 7}, to({1}), part("r1"));
  hub.end_batch();
  hub.begin_batch();
  hub.publish_merged({1, 7}, to({1}), part("r2"));
  hub.end_batch();
  hub.publish_merged({1, 7}, to({1}), part("outside-a-batch"));
  loop.run();
  std::vector<std::string> want = {"merged:r1,", "merged:r2,", "merged:outside-a-batch,"};
  EXPECT_EQ(a.frames, want);
}

TEST(HubTest, ASinkGetsTheMergedEventInPlace) {
  boost::asio::io_context loop;
  LoopWriter writer(loop);
  Hub hub({&writer});
  std::vector<std::string> got;
  hub.set_batch_sink([&](int, Pos, Pos, std::vector<Hub::Event> events) {
    for (auto& e : events) got.push_back(*e.frame);
  });
  hub.begin_batch(0, 1, 3);
  hub.publish_merged({1, 7}, to({1}), part("r1"));
  hub.publish(to({1}), share("message"));
  hub.publish_merged({1, 7}, to({1}), part("r2"));
  hub.publish_merged({1, 7}, to({1}), part("r3"));
  hub.end_batch();
  std::vector<std::string> want = {"message", "merged:r1,r2,r3,"};
  EXPECT_EQ(got, want);
}

}  // namespace
}  // namespace modu
