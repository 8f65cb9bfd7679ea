#include "net/server.h"

#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "common/cores.h"
#include "common/thread_name.h"
#include "net/http_session.h"
#include "protocol/frames.h"

namespace modu {

namespace {

// Event loops when --threads is 0: one per core but one, which the store's committer gets.
// Every write passes through that one thread; with a loop on every core it waits for a
// core behind them. On two cores, one loop used less CPU than two in every scenario and
// cut the latency under load (docs/benchmarks.md, entry 28).
std::size_t default_loop_count() {
  unsigned cores = usable_cores();
  return cores > 1 ? cores - 1 : 1;
}

}  // namespace

Server::Server(const NetOptions& options) : options_(options) {
  std::size_t n = options_.threads ? options_.threads : default_loop_count();
  for (std::size_t i = 0; i < n; ++i) loops_.push_back(std::make_unique<Loop>(i, options.batch_sends));
}

Server::~Server() { stop(); }

std::vector<LoopWriter*> Server::loops() const {
  std::vector<LoopWriter*> out;
  for (const auto& l : loops_) out.push_back(&l->writer);
  return out;
}

Result<std::uint16_t> Server::start(NetContext& context) {
  context_ = &context;
  if (options_.batch_sends && !loops_[0]->sends.available())
    spdlog::warn("sends go one system call each: io_uring is not available ({})",
                 loops_[0]->sends.unavailable_reason());
  context.hello = event_frame(
      "hello", 0,
      fmt::format(R"({{"protocol":1,"server":"modu {}","max_frame_bytes":{},"max_text_bytes":{}}})", MODU_VERSION,
                  context.options.max_frame_bytes, context.services.options.max_text_bytes));
  namespace ip = boost::asio::ip;
  boost::system::error_code ec;
  if (!options_.tls_cert.empty() || !options_.tls_key.empty()) {
    if (options_.tls_cert.empty() || options_.tls_key.empty())
      return make_error(ErrorCode::kBadRequest, "TLS needs both --tls-cert and --tls-key");
    tls_.emplace(boost::asio::ssl::context::tls_server);
    tls_->set_options(boost::asio::ssl::context::default_workarounds | boost::asio::ssl::context::no_sslv2 |
                      boost::asio::ssl::context::no_sslv3 | boost::asio::ssl::context::no_tlsv1 |
                      boost::asio::ssl::context::no_tlsv1_1);
    tls_->use_certificate_chain_file(options_.tls_cert, ec);
    if (!ec) tls_->use_private_key_file(options_.tls_key, boost::asio::ssl::context::pem, ec);
    if (ec) return make_error(ErrorCode::kBadRequest, "cannot load the TLS certificate or key: " + ec.message());
  }
  auto address = ip::make_address(options_.host, ec);
  if (ec) return make_error(ErrorCode::kBadRequest, "invalid listen address '" + options_.host + "'");
  ip::tcp::endpoint endpoint(address, options_.port);
  acceptor_.emplace(loops_[0]->io);
  acceptor_->open(endpoint.protocol(), ec);
  if (!ec) acceptor_->set_option(boost::asio::socket_base::reuse_address(true), ec);
  if (!ec) acceptor_->bind(endpoint, ec);
  if (!ec) acceptor_->listen(boost::asio::socket_base::max_listen_connections, ec);
  if (ec)
    return make_error(ErrorCode::kUnavailable,
                      "cannot listen on " + options_.host + ":" + std::to_string(options_.port) + ": " + ec.message());
  std::uint16_t port = acceptor_->local_endpoint().port();
  // A connection silent for a period is pinged, and closed if still silent a period later:
  // closed between one and one and a half idle timeouts after it last spoke.
  auto keep_alive_period = std::max<std::chrono::milliseconds>(
      std::chrono::milliseconds(100), std::chrono::duration_cast<std::chrono::milliseconds>(options_.idle_timeout) / 2);
  for (auto& loop : loops_) {
    loop->keep_alive.set_period(keep_alive_period);
    loop->read_gate.open_while([&context] {
      return context.services.store.queued() <= context.options.max_queued_writes;
    });
  }
  accept_next();
  for (auto& loop : loops_) {
    threads_.emplace_back([l = loop.get()] {
      name_this_thread(fmt::format("modu-loop-{}", l->index));
      auto guard = boost::asio::make_work_guard(l->io);
      l->io.run();
    });
  }
  return port;
}

void Server::accept_next() {
  Loop& target = *loops_[next_loop_];
  next_loop_ = (next_loop_ + 1) % loops_.size();
  acceptor_->async_accept(target.io, [this, &target](boost::system::error_code ec,
                                                     boost::asio::ip::tcp::socket socket) {
    if (ec == boost::asio::error::operation_aborted || !acceptor_->is_open()) return;
    if (ec) {
      // Out of descriptors or similar: back off briefly instead of spinning.
      spdlog::warn("accept failed: {}", ec.message());
      auto timer = std::make_shared<boost::asio::steady_timer>(loops_[0]->io, std::chrono::milliseconds(50));
      timer->async_wait([this, timer](boost::system::error_code) { if (acceptor_->is_open()) accept_next(); });
      return;
    }
    boost::system::error_code ignored;
    socket.set_option(boost::asio::ip::tcp::no_delay(true), ignored);
    // Non-blocking from the start, in one call: a WebSocket session reads by draining the
    // socket, and Asio would otherwise make the socket non-blocking again on its own.
    socket.non_blocking(true, ignored);
    boost::asio::post(target.io, [this, &target, socket = std::move(socket)]() mutable {
      if (tls_) {
        std::make_shared<HttpSession<beast::ssl_stream<beast::tcp_stream>>>(
            beast::ssl_stream<beast::tcp_stream>(std::move(socket), *tls_), target, *context_)->start();
      } else {
        std::make_shared<HttpSession<beast::tcp_stream>>(beast::tcp_stream(std::move(socket)), target,
                                                         *context_)->start();
      }
    });
    accept_next();
  });
}

void Server::stop_accepting() {
  if (!acceptor_) return;
  boost::asio::post(loops_[0]->io, [this] {
    boost::system::error_code ignored;
    acceptor_->close(ignored);
  });
}

void Server::stop() {
  if (stopped_) return;
  stopped_ = true;
  stop_accepting();
  for (auto& loop : loops_) loop->io.stop();
  for (auto& t : threads_)
    if (t.joinable()) t.join();
}

}  // namespace modu
