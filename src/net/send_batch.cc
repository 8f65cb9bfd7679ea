#include "net/send_batch.h"

#include <liburing.h>
#include <sys/socket.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

namespace modu {

SendBatch::SendBatch(bool enabled) {
  if (!enabled) {
    unavailable_ = "turned off";
    return;
  }
  auto ring = std::make_unique<io_uring>();
  // Report a failed send and go on with the next; run completion work when the thread
  // next enters the kernel, not by interrupting it. Older kernels take neither flag.
  int rc = io_uring_queue_init(kEntries, ring.get(), IORING_SETUP_SUBMIT_ALL | IORING_SETUP_COOP_TASKRUN);
  if (rc == -EINVAL) rc = io_uring_queue_init(kEntries, ring.get(), 0);
  if (rc < 0) {
    unavailable_ = strerrordesc_np(-rc);
    return;
  }
  ring_ = ring.release();
  entries_.reserve(kEntries);
  headers_.reserve(kEntries);
}

SendBatch::~SendBatch() {
  if (!ring_) return;
  io_uring_queue_exit(ring_);
  delete ring_;
}

void SendBatch::add(int fd, std::span<const boost::asio::const_buffer> pieces, std::shared_ptr<Sender> sender) {
  std::size_t first = pieces_.size();
  for (const auto& piece : pieces) pieces_.push_back(iovec{const_cast<void*>(piece.data()), piece.size()});
  entries_.push_back(Entry{fd, first, pieces.size(), std::move(sender)});
}

void SendBatch::submit() {
  if (entries_.empty()) return;
  submitting_ = true;
  headers_.assign(entries_.size(), msghdr{});
  results_.assign(entries_.size(), -EAGAIN);
  for (std::size_t begin = 0; begin < entries_.size(); begin += kEntries) {
    const std::size_t end = std::min(entries_.size(), begin + kEntries);
    for (std::size_t i = begin; i < end; ++i) {
      msghdr& header = headers_[i];
      header.msg_iov = &pieces_[entries_[i].first_piece];
      header.msg_iovlen = entries_[i].piece_count;
      io_uring_sqe* sqe = io_uring_get_sqe(ring_);  // the ring is empty: room for kEntries
      io_uring_prep_sendmsg(sqe, entries_[i].fd, &header, MSG_DONTWAIT | MSG_NOSIGNAL);
      io_uring_sqe_set_data64(sqe, i);
    }
    const unsigned count = static_cast<unsigned>(end - begin);
    // Non-blocking sends complete while they are submitted; the wait returns at once.
    int submitted = io_uring_submit_and_wait(ring_, count);
    ++submits_;
    unsigned seen = 0;
    io_uring_cqe* cqe = nullptr;
    while (seen < static_cast<unsigned>(std::max(submitted, 0)) && io_uring_peek_cqe(ring_, &cqe) == 0) {
      std::size_t i = io_uring_cqe_get_data64(cqe);
      if (i >= begin && i < end) results_[i] = cqe->res;
      io_uring_cqe_seen(ring_, cqe);
      ++seen;
    }
    // A send the kernel did not take (a failed submit) stays at -EAGAIN: its connection
    // sends it itself.
    sends_ += seen;
  }
  // Results go out once the ring is idle. A sender may write again meanwhile: that send
  // goes the usual way, since the batch does not gather while it reports.
  for (std::size_t i = 0; i < entries_.size(); ++i) entries_[i].sender->on_batched_send(results_[i]);
  entries_.clear();
  pieces_.clear();
  submitting_ = false;
}

}  // namespace modu
