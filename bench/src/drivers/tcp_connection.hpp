// Shared TCP plumbing of the drivers.
//
// connect_socket() is the socket setup every driver does (modu_ws.cpp too): open, bind to
// the source address with IP_BIND_ADDRESS_NO_PORT (the kernel picks the port at connect
// time, so many source addresses can each use the whole ephemeral range), TCP_NODELAY,
// connect.
//
// TcpFramedConnection<Derived> is the connection of every driver (baseline_client.cpp,
// modu_ws.cpp, mqtt_client.cpp, xmpp_client.cpp), a CRTP base that owns the socket, the read
// buffer and the write queue:
//   - connect_tcp(source, deadline) connects and starts the read loop;
//   - write(bytes), or appending to out_ and calling flush(), queues bytes; one async_write
//     is in flight at a time and whatever is queued meanwhile goes out in the next one;
//   - the read loop appends what arrives to rbuf_[0, have_) and calls Derived::on_bytes(),
//     which handles the complete frames at the front and drops them with consume(n); the
//     buffer doubles when a frame fills it;
//   - a read or write error (or the derived class) calls lost(why): the socket is closed,
//     Derived::fail_all() completes every outstanding request with a failure, and
//     handlers.on_lost runs, unless close() was called first.
// The derived class supplies (and befriends the base if they are private):
//   void on_bytes();  // parse rbuf_[0, have_); may call lost() or close()
//   void fail_all();  // fail every outstanding request ("closed")
// and may supply
//   void before_write();  // called as each write starts: frame what waits into out_
// As for every Client, all of it runs on the client's io_context thread.
#pragma once
#include <utility>  // before Asio: Boost 1.74's awaitable.hpp needs std::exchange

#include <netinet/in.h>
#include <sys/socket.h>

#include <boost/asio.hpp>
#include <chrono>
#include <cstring>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "driver.hpp"
#include "procstat.hpp"

#ifndef IP_BIND_ADDRESS_NO_PORT
#define IP_BIND_ADDRESS_NO_PORT 24
#endif

namespace bench {

/// Opens `sock`, binds it to `source` (unless unspecified) and connects it to `target`.
/// Throws what Asio throws.
inline awaitable<void> connect_socket(boost::asio::ip::tcp::socket& sock, boost::asio::ip::address source,
                                      const Endpoint& target) {
  using boost::asio::ip::tcp;
  sock.open(tcp::v4());
  int one = 1;
  ::setsockopt(sock.native_handle(), IPPROTO_IP, IP_BIND_ADDRESS_NO_PORT, &one, sizeof one);
  sock.set_option(tcp::no_delay(true));
  if (!source.is_unspecified()) sock.bind(tcp::endpoint(source, 0));
  co_await sock.async_connect(tcp::endpoint(target.addr, target.port), boost::asio::use_awaitable);
}

template <class Derived>
class TcpFramedConnection : public Client, public std::enable_shared_from_this<Derived> {
 public:
  /// Closes at once; outstanding requests fail, handlers.on_lost does not run.
  void close() override {
    bool was = open_;
    open_ = false;
    if (was) closing_ = true;
    boost::system::error_code ec;
    sock_.close(ec);
    derived().fail_all();
  }
  bool is_open() const override { return open_; }

 protected:
  TcpFramedConnection(boost::asio::io_context& ioc, const Endpoint& target, double timeout_s)
      : ioc_(ioc), sock_(ioc), target_(target), timeout_(std::chrono::milliseconds(int64_t(timeout_s * 1000))) {}

  /// Connects from `source` and starts reading. With `deadline`, a connect that takes longer
  /// than the request timeout is abandoned (BenchError "timeout"); other failures are
  /// BenchError "connect".
  awaitable<void> connect_tcp(boost::asio::ip::address source, bool deadline) {
    auto timed_out = std::make_shared<bool>(false);
    boost::asio::steady_timer timer(ioc_);
    if (deadline) {
      timer.expires_after(timeout_);
      timer.async_wait([self = this->shared_from_this(), timed_out](boost::system::error_code ec) {
        if (ec) return;
        *timed_out = true;
        boost::system::error_code ignore;
        self->sock_.close(ignore);
      });
    }
    try {
      co_await connect_socket(sock_, source, target_);
    } catch (const std::exception& e) {
      timer.cancel();
      throw BenchError(*timed_out ? "timeout" : "connect", std::string("connect: ") + e.what());
    }
    timer.cancel();
    open_ = true;
    rbuf_.resize(read_buffer_bytes_);  // grows by doubling when a frame needs more (start_read)
    start_read();
  }

  /// Queues `bytes` (dropped when the connection is not open).
  void write(std::string_view bytes) {
    if (!open_) return;
    out_ += bytes;
    flush();
  }
  /// Waits until everything queued has been handed to the kernel (at most the request timeout).
  awaitable<void> drain_writes() {
    boost::asio::steady_timer t(ioc_);
    auto until = std::chrono::steady_clock::now() + timeout_;
    while (open_ && (writing_ || !out_.empty()) && std::chrono::steady_clock::now() < until) {
      t.expires_after(std::chrono::milliseconds(1));
      co_await t.async_wait(boost::asio::use_awaitable);
    }
  }
  /// Starts writing out_ unless a write is in flight (its completion writes the rest).
  void flush() {
    if (!writing_) start_write();
  }
  /// The default: out_ is written as it is.
  void before_write() {}

  /// Drops the first `n` bytes of the read buffer (frames on_bytes() has handled).
  void consume(size_t n) {
    if (!n) return;
    std::memmove(rbuf_.data(), rbuf_.data() + n, have_ - n);
    have_ -= n;
  }

  /// The connection broke: close, fail what is outstanding, tell handlers.on_lost unless
  /// the client closed it itself.
  void lost(const std::string& why) {
    bool was_open = open_;
    open_ = false;
    boost::system::error_code ignore;
    sock_.close(ignore);
    derived().fail_all();
    if (was_open && !closing_ && handlers.on_lost) handlers.on_lost(why);
    closing_ = false;
  }

  boost::asio::io_context& ioc_;
  boost::asio::ip::tcp::socket sock_;
  Endpoint target_;
  std::chrono::milliseconds timeout_;  // the request timeout
  size_t read_buffer_bytes_ = 4 * 1024;  // rbuf_'s size at connect (a derived class may set it first)
  std::vector<char> rbuf_;             // received bytes: rbuf_[0, have_)
  size_t have_ = 0;
  std::string out_;                    // queued, not yet being written
  bool open_ = false;

 private:
  Derived& derived() { return static_cast<Derived&>(*this); }

  void start_write() {
    if (open_) derived().before_write();
    if (out_.empty() || !open_) return;
    writing_ = true;
    wbuf_.swap(out_);
    out_.clear();
    boost::asio::async_write(sock_, boost::asio::buffer(wbuf_),
                             [self = this->shared_from_this()](boost::system::error_code ec, size_t) {
                               TcpFramedConnection& c = *self;
                               c.writing_ = false;
                               c.wbuf_.clear();
                               if (ec) return c.lost("write: " + ec.message());
                               c.start_write();
                             });
  }

  void start_read() {
    sock_.async_read_some(boost::asio::buffer(rbuf_.data() + have_, rbuf_.size() - have_),
                          [self = this->shared_from_this()](boost::system::error_code ec, size_t n) {
                            TcpFramedConnection& c = *self;
                            if (ec) return c.lost("read: " + ec.message());
                            c.have_ += n;
                            {
                              arrival::Scope timed;
                              self->on_bytes();
                            }
                            if (!c.open_) return;
                            if (c.have_ == c.rbuf_.size()) c.rbuf_.resize(c.rbuf_.size() * 2);
                            c.start_read();
                          });
  }

  std::string wbuf_;  // being written
  bool writing_ = false, closing_ = false;
};

}  // namespace bench
