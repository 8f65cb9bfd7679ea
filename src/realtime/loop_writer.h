// One event loop's writes of delivered frames, paced under fan-out load.
//
// The hub hands frames to connections here (`hold`): a held connection queues them and
// writes nothing. `write` then writes every held connection, one send each for all it was
// given. It does so at once, unless the loop is busy writing to the same connections batch
// after batch: then it first waits a moment, and the batches committed meanwhile leave in
// the same send. That is the case of a large group, whose members get a frame from nearly
// every committed batch; there, sends (one syscall per member connection per batch) are
// most of the server's work, and fewer, fuller sends take less of it.
//
// A write of many connections (a room of a thousand members, say) goes in slices of
// `kSlice` connections, and the loop's other work queued meanwhile runs between them: a
// request read while the slices go out reaches the store now, not after the last send of a
// write that can take tens of milliseconds. Frames held while a write is under way join it
// if their connection has yet to be written, and otherwise wait for the next write.
//
// The wait after a write is `kPaceFactor` times the loop thread's CPU time that write took,
// scaled by the share of its connections that the write before had also written, and at
// most `kMaxWait`. It thus stays near zero where waiting saves nothing: at low rates (a
// write costs microseconds) and in 1:1 traffic (a connection rarely gets frames from two
// batches in a row). Answers to a connection's requests do not wait: a client may need one
// before it sends more. A connection's other writes (pings, a close) wait with it, and its
// frames keep their order.
//
// The sends of one slice, or of one task's answers, go to the kernel in one system call
// where the loop has a `SendBatch` (net/send_batch.h).
//
// Not thread-safe: used on its loop's thread only. A connection destroyed while held
// leaves by itself (its hook unlinks), and destroying the writer unlinks every connection,
// so the two may go away in either order. The writer must be destroyed before its loop's
// io_context (its timer lives there), and once the loop no longer runs (its timer's handler
// and its posted slices refer to it).
#pragma once

#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/intrusive/list.hpp>

#include <chrono>
#include <cstdint>
#include <vector>

#include "net/send_batch.h"
#include "protocol/frames.h"
#include "realtime/connection.h"

namespace modu {

class LoopWriter {
 public:
  static constexpr int kPaceFactor = 24;  // docs/benchmarks.md, entry 27
  static constexpr std::chrono::milliseconds kMaxWait{5};  // entry 53: 10 before
  static constexpr std::size_t kSlice = 128;  // connections a slice writes (entry 41)

  // `sends`, if given, batches the sends of each slice and of each task's answers.
  explicit LoopWriter(boost::asio::io_context& io, SendBatch* sends = nullptr) : io_(io), sends_(sends), timer_(io) {}
  LoopWriter(const LoopWriter&) = delete;
  LoopWriter& operator=(const LoopWriter&) = delete;

  boost::asio::io_context& io() { return io_; }

  // Queues `frame` on `conn` and holds the connection until the next write. The caller
  // calls `write` before its handler returns.
  void hold(Connection& conn, const SharedFrame& frame);

  // Like `hold`, for an answer to a request of `conn`'s: the connection is written at this
  // task's `write` even while the loop waits (with everything held for it, in order). The
  // client may be waiting for the answer before it sends more.
  void answer(Connection& conn, const SharedFrame& frame);

  // Writes every held connection, now or after the paced wait (or after the write under
  // way); answered ones now.
  void write();

  // Whether connections wait for a write (the next, or the one under way); the wait after
  // the last write (for tests).
  bool holding() const { return !held_.empty() || !writing_.empty(); }
  std::chrono::nanoseconds pace() const { return pace_; }

 private:
  void write_now();
  void write_slice();
  void end_round();
  void write_answered();

  using Held = boost::intrusive::list<
      Connection, boost::intrusive::member_hook<Connection, Connection::HeldHook, &Connection::held_hook>,
      boost::intrusive::constant_time_size<false>>;

  boost::asio::io_context& io_;
  SendBatch* sends_;
  boost::asio::steady_timer timer_;
  Held held_;     // waiting for the next write
  Held writing_;  // the write under way, in slices: what it has yet to write
  std::vector<Connection*> answered_;  // within one task: alive until its write
  bool waiting_ = false;  // the timer will write
  std::uint32_t round_ = 1;  // numbers the writes; a connection remembers its last one
  std::chrono::steady_clock::time_point last_write_end_{};
  std::chrono::nanoseconds pace_{0};
  // The write under way: its CPU time so far, its connections, and those the write before
  // had also written.
  std::chrono::nanoseconds round_cost_{0};
  std::size_t round_written_ = 0, round_repeated_ = 0;
};

}  // namespace modu
