// Many connections' sends in one system call.
//
// A loop that writes to many connections at once (a group's delivery, the answers of a
// committed batch) opens a batch around those writes. Each plain connection's send then
// joins the batch instead of calling `sendmsg`, and closing the batch hands them all to the
// kernel in one `io_uring_enter`, skipping the reactor's work for each write as well as the
// system call. Where a system call's entry and exit cost about a microsecond (a
// paravirtualised guest) that halved a send's cost; where they cost 67 ns, the loop still
// used a quarter less CPU in rooms of 1,000: docs/benchmarks.md, entries 42 and 50.
//
// The sends run at once, in the caller's thread, and never wait (`MSG_DONTWAIT`): each
// sender learns right away how many bytes its socket took, or why none. A socket that took
// part of them, or none because it is full, leaves the rest to its connection, which sends
// it the usual way. Nothing stays in the kernel after `Scope` ends, so there is no
// completion to wait for and nothing to cancel.
//
// Where the kernel has no io_uring, or forbids it (a container's seccomp profile,
// `kernel.io_uring_disabled`), or `enabled` is false, a batch never opens and connections
// send one by one, as they would without it.
//
// Not thread-safe: one per event loop, used on its thread.
#pragma once

#include <sys/socket.h>
#include <sys/uio.h>

#include <boost/asio/buffer.hpp>

#include <cstddef>
#include <memory>
#include <span>
#include <vector>

struct io_uring;

namespace modu {

class SendBatch {
 public:
  // A connection whose send joined a batch.
  class Sender {
   public:
    // The bytes the socket took (possibly fewer than asked), or a negated errno: -EAGAIN
    // when its buffer is full, -EPIPE or -ECONNRESET when the peer is gone.
    virtual void on_batched_send(int result) = 0;

   protected:
    ~Sender() = default;
  };

  // Sends handed to the kernel at once; a fuller batch goes in several calls.
  static constexpr unsigned kEntries = 256;

  explicit SendBatch(bool enabled = true);
  ~SendBatch();
  SendBatch(const SendBatch&) = delete;
  SendBatch& operator=(const SendBatch&) = delete;

  // Whether batches can open: io_uring is there and allowed. Why not, when not.
  bool available() const { return ring_ != nullptr; }
  const char* unavailable_reason() const { return unavailable_; }

  // Whether a batch is open: `add` takes sends.
  bool gathering() const { return open_ > 0 && !submitting_; }

  // Adds a send of `pieces` (at most IOV_MAX) to the stream socket `fd`. Only while
  // `gathering()`. The bytes the pieces point at must stay as they are until the sender
  // is told its result, which happens before the outermost `Scope` ends; `sender` is kept
  // alive until then.
  void add(int fd, std::span<const boost::asio::const_buffer> pieces, std::shared_ptr<Sender> sender);

  // Opens a batch for its lifetime (nested scopes share the outermost one's batch), and
  // sends what joined it when it ends. With no batch or an unavailable one, does nothing.
  class Scope {
   public:
    explicit Scope(SendBatch* batch) : batch_(batch && batch->available() ? batch : nullptr) {
      if (batch_) ++batch_->open_;
    }
    ~Scope() {
      if (batch_ && --batch_->open_ == 0) batch_->submit();
    }
    Scope(const Scope&) = delete;
    Scope& operator=(const Scope&) = delete;

   private:
    SendBatch* batch_;
  };

  // System calls made and sends they carried, since start (for tests; not exported to /metrics).
  std::size_t submits() const { return submits_; }
  std::size_t sends() const { return sends_; }

 private:
  struct Entry {
    int fd;
    std::size_t first_piece;  // into pieces_
    std::size_t piece_count;
    std::shared_ptr<Sender> sender;
  };

  // Hands every send added so far to the kernel and tells each sender its result. Sends
  // added by those senders meanwhile (a connection writing what it queued since) go the
  // usual way: the batch does not gather while it reports.
  void submit();

  io_uring* ring_ = nullptr;
  const char* unavailable_ = nullptr;
  int open_ = 0;
  bool submitting_ = false;
  std::vector<Entry> entries_;
  std::vector<iovec> pieces_;
  std::vector<msghdr> headers_;  // built at submit, once pieces_ no longer moves
  std::vector<int> results_;
  std::size_t submits_ = 0, sends_ = 0;
};

}  // namespace modu
