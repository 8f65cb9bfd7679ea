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

void LoopWriter::answer(Connection& conn, const SharedFrame& frame) {
  hold(conn, frame);
  answered_.push_back(&conn);
}

void LoopWriter::write() {
  if (held_.empty()) return answered_.clear();
  if (waiting_) return write_answered();
  auto due = last_write_end_ + pace_;
  if (pace_.count() == 0 || std::chrono::steady_clock::now() >= due) return write_now();
  write_answered();
  waiting_ = true;
  timer_.expires_at(due);
  timer_.async_wait([this](boost::system::error_code) {
    waiting_ = false;
    write_now();
  });
}

void LoopWriter::write_answered() {
  for (Connection* conn : answered_) {
    if (!conn->held()) continue;  // answered twice in this task: written already
    conn->held_hook.unlink();
    conn->write_held();
  }
  answered_.clear();
}

void LoopWriter::write_now() {
  answered_.clear();  // written with the rest
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
