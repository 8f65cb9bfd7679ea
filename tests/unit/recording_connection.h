// A Connection for the realtime unit tests: it records the frames it is sent and counts
// the writes its loop's LoopWriter asks of it.
#pragma once

#include <functional>
#include <string>
#include <vector>

#include "realtime/connection.h"

namespace modu::test {

class RecordingConnection final : public Connection {
 public:
  explicit RecordingConnection(UserId u, std::size_t loop = 0) : loop_(loop) { user = u; }
  void send(SharedFrame frame) override {
    frames.push_back(*frame);
    if (!held()) ++writes;  // an unheld connection writes what it is sent at once
  }
  void write_held() override {
    if (on_write) on_write();
    ++writes;
  }
  void close_after(SharedFrame last) override {
    if (last) frames.push_back(*last);
  }
  void close_going_away() override {}
  void run_on_loop(std::function<void()> fn) override { fn(); }
  std::size_t loop_index() const override { return loop_; }
  void sign_in(UserId, DeviceId) override {}

  std::vector<std::string> frames;
  int writes = 0;                  // writes of what it was sent
  std::function<void()> on_write;  // runs in each write_held (a test's cost of a send)

 private:
  std::size_t loop_;
};

}  // namespace modu::test
