#include "realtime/loop_writer.h"

#include <algorithm>
#include <ctime>

#include <boost/asio/post.hpp>

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
  if (waiting_ || !writing_.empty()) return write_answered();
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
  SendBatch::Scope batch(sends_);
  for (Connection* conn : answered_) {
    if (!conn->held()) continue;  // answered twice in this task: written already
    conn->held_hook.unlink();
    conn->write_held();
  }
  answered_.clear();
}

void LoopWriter::write_now() {
  answered_.clear();  // written with the rest
  writing_.splice(writing_.end(), held_);
  ++round_;
  round_cost_ = std::chrono::nanoseconds(0);
  round_written_ = round_repeated_ = 0;
  write_slice();
}

void LoopWriter::write_slice() {
  const std::uint32_t previous = round_ - 1;
  auto cpu_before = thread_cpu_time();
  {
    SendBatch::Scope batch(sends_);
    for (std::size_t n = 0; n < kSlice && !writing_.empty(); ++n) {
      Connection& conn = writing_.front();
      writing_.pop_front();  // no longer held: it writes now
      ++round_written_;
      round_repeated_ += conn.last_write_round == previous;
      conn.last_write_round = round_;
      conn.write_held();
    }
  }
  round_cost_ += thread_cpu_time() - cpu_before;
  if (writing_.empty()) return end_round();
  // Reads that became ready meanwhile run before the next slice.
  boost::asio::post(io_, [this] { write_slice(); });
}

void LoopWriter::end_round() {
  last_write_end_ = std::chrono::steady_clock::now();
  if (round_written_ == 0) return;
  auto pace = std::chrono::nanoseconds(round_cost_.count() * kPaceFactor *
                                       static_cast<std::int64_t>(round_repeated_) /
                                       static_cast<std::int64_t>(round_written_));
  pace_ = std::min<std::chrono::nanoseconds>(kMaxWait, pace);
  write();  // what the hub's tasks held while this write was under way
}

}  // namespace modu
