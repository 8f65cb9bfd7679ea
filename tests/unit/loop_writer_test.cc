// A loop's writes (realtime/loop_writer.h): one write per held connection, a wait only
// where the same connections are written batch after batch, and connections that go away
// while held.
#include <gtest/gtest.h>

#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>

#include <ctime>
#include <memory>
#include <string>
#include <vector>

#include "realtime/loop_writer.h"
#include "recording_connection.h"

namespace modu {
namespace {

using test::RecordingConnection;

// Spends `ms` of this thread's CPU time: what a write to a real socket costs the loop.
void burn_cpu(double ms) {
  auto cpu = [] {
    timespec ts{};
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
  };
  for (double end = cpu() + ms; cpu() < end;) {
  }
}

// Gives `a` and `b` a frame ("batch") in each of two writes, each write costing them 3 ms
// apiece, as a loop busy with the same connections would.
void write_twice_at_a_cost(LoopWriter& writer, RecordingConnection& a, RecordingConnection& b) {
  for (auto* c : {&a, &b}) c->on_write = [] { burn_cpu(3); };
  for (int round = 0; round < 2; ++round) {
    writer.hold(a, share("batch"));
    writer.hold(b, share("batch"));
    writer.write();
    EXPECT_FALSE(writer.holding()) << "the first two writes have nothing to wait for";
  }
}

TEST(LoopWriterTest, AnIdleLoopWritesEachHeldConnectionOnceAtOnce) {
  boost::asio::io_context io;
  LoopWriter writer(io);
  RecordingConnection a(UserId(1)), b(UserId(2));
  writer.hold(a, share("one"));
  writer.hold(b, share("one"));
  writer.hold(a, share("two"));
  EXPECT_TRUE(a.held());
  EXPECT_EQ(a.writes, 0) << "a held connection writes nothing";
  writer.write();
  EXPECT_EQ(a.writes, 1);
  EXPECT_EQ(b.writes, 1);
  EXPECT_FALSE(a.held());
  EXPECT_FALSE(writer.holding());
  EXPECT_EQ(a.frames, (std::vector<std::string>{"one", "two"}));
}

TEST(LoopWriterTest, NewConnectionsInEveryWriteAreNeverKeptWaiting) {
  boost::asio::io_context io;
  LoopWriter writer(io);
  std::vector<std::unique_ptr<RecordingConnection>> conns;
  for (int round = 0; round < 5; ++round) {
    // 1:1 traffic: each batch reaches connections the batch before did not.
    for (int i = 0; i < 2; ++i) {
      conns.push_back(std::make_unique<RecordingConnection>(UserId(round * 2 + i + 1)));
      conns.back()->on_write = [] { burn_cpu(1); };
      writer.hold(*conns.back(), share("message"));
    }
    writer.write();
    EXPECT_FALSE(writer.holding()) << "round " << round << " was written at once";
    EXPECT_EQ(writer.pace().count(), 0);
  }
}

TEST(LoopWriterTest, TheSameConnectionsBatchAfterBatchWaitAndLeaveInOneWrite) {
  boost::asio::io_context io;
  LoopWriter writer(io);
  RecordingConnection a(UserId(1)), b(UserId(2));
  write_twice_at_a_cost(writer, a, b);
  // Both connections were in both writes, and each write cost them 6 ms: the next waits
  // the longest wait there is.
  EXPECT_EQ(writer.pace(), LoopWriter::kMaxWait);

  writer.hold(a, share("third"));
  writer.hold(b, share("third"));
  writer.write();
  EXPECT_TRUE(writer.holding()) << "the third write waits";
  writer.hold(a, share("fourth"));  // a later batch joins it
  writer.write();
  EXPECT_EQ(a.writes, 2);
  io.run();
  EXPECT_EQ(a.writes, 3) << "the waiting batches left in one write";
  EXPECT_EQ(b.writes, 3);
  EXPECT_EQ(a.frames, (std::vector<std::string>{"batch", "batch", "third", "fourth"}));
}

TEST(LoopWriterTest, AnAnswerLeavesAtOnceWhileTheLoopWaits) {
  boost::asio::io_context io;
  LoopWriter writer(io);
  RecordingConnection asker(UserId(1)), member(UserId(2));
  write_twice_at_a_cost(writer, asker, member);
  ASSERT_EQ(writer.pace(), LoopWriter::kMaxWait);

  writer.hold(asker, share("event"));
  writer.hold(member, share("event"));
  writer.answer(asker, share("ack"));
  writer.write();
  EXPECT_EQ(asker.writes, 3) << "the answer, and the event held before it, left at once";
  EXPECT_FALSE(asker.held());
  EXPECT_EQ(member.writes, 2) << "the rest waits";
  EXPECT_TRUE(writer.holding());
  io.run();
  EXPECT_EQ(member.writes, 3);
  EXPECT_EQ(asker.frames, (std::vector<std::string>{"batch", "batch", "event", "ack"}));
}

// A room of many members: the write goes out in slices, and work that became ready during
// one (a request read from a socket) runs before the next.
TEST(LoopWriterTest, AWriteOfManyConnectionsLetsTheLoopRunBetweenSlices) {
  boost::asio::io_context io;
  LoopWriter writer(io);
  constexpr std::size_t kMembers = 2 * LoopWriter::kSlice + 1;
  std::vector<std::unique_ptr<RecordingConnection>> members;
  int written = 0;
  int written_when_request_ran = -1;
  for (std::size_t i = 0; i < kMembers; ++i) {
    members.push_back(std::make_unique<RecordingConnection>(UserId(static_cast<std::int64_t>(i) + 1)));
    members.back()->on_write = [&] { ++written; };
    writer.hold(*members.back(), share("message"));
  }
  // Ready while the first slice is written, as a request on another socket would be.
  members.front()->on_write = [&] {
    ++written;
    boost::asio::post(io, [&] { written_when_request_ran = written; });
  };
  writer.write();
  EXPECT_EQ(written, static_cast<int>(LoopWriter::kSlice)) << "one slice at once";
  EXPECT_TRUE(writer.holding()) << "the rest is under way";
  io.run();
  EXPECT_EQ(written_when_request_ran, static_cast<int>(LoopWriter::kSlice))
      << "the request ran before the second slice";
  EXPECT_EQ(written, static_cast<int>(kMembers));
  EXPECT_FALSE(writer.holding());
  for (const auto& m : members) EXPECT_EQ(m->writes, 1) << "each member written once";
}

// Frames held while a sliced write is under way: a connection still to be written takes
// them along; one already written gets them in a write after; an answer leaves at once.
TEST(LoopWriterTest, FramesHeldDuringASlicedWriteKeepTheirOrder) {
  boost::asio::io_context io;
  LoopWriter writer(io);
  constexpr std::size_t kMembers = LoopWriter::kSlice + 2;
  std::vector<std::unique_ptr<RecordingConnection>> members;
  for (std::size_t i = 0; i < kMembers; ++i) {
    members.push_back(std::make_unique<RecordingConnection>(UserId(static_cast<std::int64_t>(i) + 1)));
    writer.hold(*members.back(), share("first"));
  }
  RecordingConnection& written_first = *members.front();
  RecordingConnection& not_yet = *members.back();
  RecordingConnection asker(UserId(1000));
  writer.write();
  ASSERT_EQ(written_first.writes, 1);
  ASSERT_EQ(not_yet.writes, 0) << "in the second slice";

  // A batch committed between the slices (a hub task on the loop).
  writer.hold(written_first, share("second"));
  writer.hold(not_yet, share("second"));
  writer.answer(asker, share("ack"));
  writer.write();
  EXPECT_EQ(asker.writes, 1) << "an answer does not wait for the write under way";
  EXPECT_EQ(written_first.writes, 1) << "written already in this write: waits for the next";

  io.run();
  EXPECT_EQ(not_yet.writes, 1) << "took the second batch along in its one write";
  EXPECT_EQ(written_first.writes, 2) << "the next write came by itself, with no task to start it";
  EXPECT_FALSE(writer.holding());
  const std::vector<std::string> both{"first", "second"};
  EXPECT_EQ(written_first.frames, both);
  EXPECT_EQ(not_yet.frames, both);
}

TEST(LoopWriterTest, AConnectionDestroyedWhileHeldIsLeftOut) {
  boost::asio::io_context io;
  LoopWriter writer(io);
  RecordingConnection stays(UserId(1));
  auto goes = std::make_unique<RecordingConnection>(UserId(2));
  writer.hold(*goes, share("message"));
  writer.hold(stays, share("message"));
  goes.reset();  // closed and released while its frame waited
  writer.write();
  EXPECT_EQ(stays.writes, 1);
  EXPECT_FALSE(writer.holding());
}

TEST(LoopWriterTest, AWriterDestroyedFirstReleasesItsConnections) {
  boost::asio::io_context io;
  RecordingConnection conn(UserId(1));
  {
    LoopWriter writer(io);
    writer.hold(conn, share("message"));
    EXPECT_TRUE(conn.held());
  }
  EXPECT_FALSE(conn.held()) << "a server stopping destroys its writers before its connections";
}

}  // namespace
}  // namespace modu
