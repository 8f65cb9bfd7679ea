// The per-loop read gate (src/net/read_gate.h): parked connections wait while the gate is
// closed, and all resume in one pass, in parking order, once it opens. Driven on a real
// io_context run from the test's thread.
#include "net/read_gate.h"

#include <gtest/gtest.h>

#include <boost/asio/io_context.hpp>

#include <chrono>
#include <vector>

namespace modu {
namespace {

using namespace std::chrono_literals;

TEST(ReadGateTest, AGateWithoutAConditionIsOpen) {
  boost::asio::io_context io;
  ReadGate gate(io);
  EXPECT_TRUE(gate.open());
}

TEST(ReadGateTest, ParkedConnectionsWaitWhileClosedAndResumeInOrderOnceOpen) {
  boost::asio::io_context io;
  ReadGate gate(io);
  bool open = false;
  gate.open_while([&] { return open; });
  EXPECT_FALSE(gate.open());

  std::vector<int> resumed;
  for (int i = 0; i < 3; ++i) gate.park([&resumed, i] { resumed.push_back(i); });
  EXPECT_EQ(gate.parked(), 3u);
  EXPECT_TRUE(resumed.empty()) << "park never resumes from inside itself";

  io.run_for(20ms);  // many checks while closed
  EXPECT_TRUE(resumed.empty());
  EXPECT_EQ(gate.parked(), 3u);

  open = true;
  io.restart();
  io.run_for(20ms);
  EXPECT_EQ(resumed, (std::vector<int>{0, 1, 2}));
  EXPECT_EQ(gate.parked(), 0u);
}

TEST(ReadGateTest, AConnectionThatParksAgainWhileResumingWaitsForTheNextRound) {
  boost::asio::io_context io;
  ReadGate gate(io);
  int open_checks_left = 1;  // open for one check, then closed
  gate.open_while([&] { return open_checks_left-- > 0; });

  int resumes = 0;
  std::function<void()> resume = [&] {
    ++resumes;
    if (!gate.open()) gate.park(resume);  // still behind: park again
  };
  gate.park(resume);
  io.run_for(20ms);
  EXPECT_EQ(resumes, 1);
  EXPECT_EQ(gate.parked(), 1u);

  open_checks_left = 1;
  io.restart();
  io.run_for(20ms);
  EXPECT_EQ(resumes, 2);
}

TEST(ReadGateTest, ParkingAfterAnEmptyRoundChecksAgain) {
  boost::asio::io_context io;
  ReadGate gate(io);
  gate.open_while([] { return true; });
  int resumes = 0;
  gate.park([&] { ++resumes; });
  io.run_for(10ms);
  EXPECT_EQ(resumes, 1);
  gate.park([&] { ++resumes; });
  io.restart();
  io.run_for(10ms);
  EXPECT_EQ(resumes, 2);
}

}  // namespace
}  // namespace modu
