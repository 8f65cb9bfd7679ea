#include "phase.hpp"

#include <unistd.h>

#include <boost/asio/post.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <cerrno>

namespace bench {

namespace asio = boost::asio;

void write_all(int fd, const std::string& s) {
  size_t off = 0;
  while (off < s.size()) {
    ssize_t n = ::write(fd, s.data() + off, s.size() - off);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return;
    off += size_t(n);
  }
}

bool read_line(int fd, std::string& line) {
  line.clear();
  char c;
  for (;;) {
    ssize_t n = ::read(fd, &c, 1);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    if (c == '\n') return true;
    line += c;
  }
}

bool read_exact(int fd, std::string& out, size_t len) {
  out.resize(len);
  size_t off = 0;
  while (off < len) {
    ssize_t n = ::read(fd, out.data() + off, len - off);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    off += size_t(n);
  }
  return true;
}

asio::awaitable<void> PhaseCtl::barrier(asio::io_context& ioc, const std::string& name, bool failed) {
  asio::steady_timer timer(ioc, asio::steady_timer::time_point::max());
  bool released = false, aborted = false;
  {
    std::lock_guard lk(m_);
    name_ = name;
    failed_ |= failed;
    arrived_++;
    waiters_.push_back({&timer, &released, &aborted});
  }
  cv_.notify_all();
  while (!released) {
    boost::system::error_code ec;
    co_await timer.async_wait(asio::redirect_error(asio::use_awaitable, ec));
  }
  if (aborted) throw BenchAbort();
}

void PhaseCtl::shard_done(bool failed) {
  {
    std::lock_guard lk(m_);
    done_++;
    failed_ |= failed;
  }
  cv_.notify_all();
}

void PhaseCtl::serve() {
  std::unique_lock lk(m_);
  for (;;) {
    cv_.wait(lk, [&] { return arrived_ + done_ == shards_; });
    if (arrived_ == 0) break;  // every shard is done
    std::string msg = "B " + name_ + " " + (failed_ ? "1" : "0") + "\n";
    lk.unlock();
    write_all(to_parent_, msg);
    std::string reply;
    bool got = read_line(from_parent_, reply);
    bool abort = !got || reply != "G";
    lk.lock();
    for (auto& w : waiters_) {
      asio::post(w.timer->get_executor(), [w, abort] {
        *w.released = true;
        *w.aborted = abort;
        w.timer->cancel();
      });
    }
    waiters_.clear();
    arrived_ = 0;
  }
}

}  // namespace bench
