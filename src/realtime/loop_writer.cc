#include "realtime/loop_writer.h"

#include <algorithm>
#include <ctime>

namespace modu {
namespace {

std::chrono::nanoseconds thread_cpu_time() {
  timespec ts{};
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return std::chrono::seconds(ts.tv_sec) + std::chrono::nanoseconds(ts.tv_nsec);
}

}  // namespace

void LoopWriter::hold(Connection& conn, const SharedFrame& frame) {
  if (!conn.held()) held_.push_back(conn);
  conn.send(frame);
}

void LoopWriter::write() {
  if (waiting_ || held_.empty()) return;
  auto due = last_write_end_ + pace_;
  if (pace_.count() == 0 || std::chrono::steady_clock::now() >= due) return write_now();
  waiting_ = true;
  timer_.expires_at(due);
  timer_.async_wait([this](boost::system::error_code) {
    waiting_ = false;
    write_now();
  });
}

void LoopWriter::write_now() {
  const std::uint32_t previous = round_++;
  std::size_t written = 0, repeated = 0;
  auto cpu_before = thread_cpu_time();
  while (!held_.empty()) {
    Connection& conn = held_.front();
    held_.pop_front();  // no longer held: it writes now
    ++written;
    repeated += conn.last_write_round == previous;
    conn.last_write_round = round_;
    conn.write_held();
  }
  auto cost = thread_cpu_time() - cpu_before;
  last_write_end_ = std::chrono::steady_clock::now();
  if (written == 0) return;
  auto pace = std::chrono::nanoseconds(cost.count() * kPaceFactor * static_cast<std::int64_t>(repeated) /
                                       static_cast<std::int64_t>(written));
  pace_ = std::min<std::chrono::nanoseconds>(kMaxWait, pace);
}

}  // namespace modu
