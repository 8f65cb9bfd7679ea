// One WebSocket connection (plain or TLS), implementing Connection.
//
// Lives on one loop. Reads are continuous: each WebSocket message is split into frames
// (newline-separated), each parsed with the loop's parser and dispatched to the router.
// Writes are coalesced: frames queued while a write is in flight leave together in the
// next WebSocket message, joined by '\n' (one send for many frames). A client whose queue
// grows past `max_queued_bytes` is disconnected; it reconnects and catches up with sync.
// While more than `max_queued_writes` writes wait to be stored, connections are not read.
#pragma once

#include <boost/asio/post.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/websocket.hpp>
#include <boost/beast/websocket/ssl.hpp>
#include <fmt/format.h>

#include <algorithm>
#include <memory>
#include <string>
#include <type_traits>
#include <vector>

#include "net/rate_limiter.h"
#include "net/server.h"
#include "protocol/frames.h"
#include "realtime/connection.h"

#ifndef MODU_VERSION
#define MODU_VERSION "dev"
#endif

namespace modu {

namespace beast = boost::beast;
namespace websocket = beast::websocket;
namespace http = beast::http;

// `Stream` is a plain `tcp::socket` (the WebSocket's own timer bounds the handshake and
// idle time, so the timers of a `beast::tcp_stream` would only cost memory) or a TLS stream.
template <class Stream>
class WsSession final : public Connection, public std::enable_shared_from_this<WsSession<Stream>> {
 public:
  WsSession(Stream&& stream, Loop& loop, NetContext& ctx)
      : ws_(std::move(stream)),
        loop_(loop),
        ctx_(ctx),
        limiter_(ctx.options.rate_limit, ctx.options.rate_burst) {}

  ~WsSession() override { on_closed(); }

  void start(http::request<http::string_body> req) {
    if constexpr (!std::is_same_v<Stream, boost::asio::ip::tcp::socket>)
      beast::get_lowest_layer(ws_).expires_never();  // Beast's own timeouts (below) take over
    websocket::stream_base::timeout timeouts{};
    timeouts.handshake_timeout = ctx_.options.handshake_timeout;
    timeouts.idle_timeout = ctx_.options.idle_timeout;
    timeouts.keep_alive_pings = true;
    ws_.set_option(timeouts);
    ws_.set_option(websocket::stream_base::decorator(
        [](websocket::response_type& res) { res.set(http::field::server, "modu"); }));
    // The size limit is enforced in on_read, not by Beast: Beast's own limit ends in a
    // teardown that resets the socket while the client is still sending, so the client may
    // never see the 1009 close. Closing ourselves runs a full close handshake instead.
    ws_.read_message_max(0);
    ws_.auto_fragment(false);
    ws_.async_accept(req, [self = this->shared_from_this()](beast::error_code ec) { self->on_accept(ec); });
  }

  // --- Connection ---
  void send(SharedFrame frame) override {
    if (loop_.io.get_executor().running_in_this_thread()) return enqueue(std::move(frame));
    boost::asio::post(loop_.io, [self = this->shared_from_this(), frame = std::move(frame)]() mutable {
      self->enqueue(std::move(frame));
    });
  }

  void close_after(SharedFrame last) override {
    run_on_loop([self = this->shared_from_this(), last = std::move(last)]() mutable {
      if (last) self->enqueue(std::move(last));
      self->begin_close(websocket::close_code::normal);
    });
  }

  void close_going_away() override {
    run_on_loop([self = this->shared_from_this()] { self->begin_close(websocket::close_code::going_away); });
  }

  void run_on_loop(std::function<void()> fn) override {
    boost::asio::post(loop_.io, [self = this->shared_from_this(), fn = std::move(fn)] { fn(); });
  }

  void sign_in(UserId who, DeviceId dev) override {
    if (closed_ || signed_in()) return;
    user = who;
    device = dev;
    ctx_.services.hub.attach(*this);
  }

  std::size_t loop_index() const override { return loop_.index; }

 private:
  Metrics& metrics() { return ctx_.services.metrics; }

  boost::asio::ip::tcp::socket& raw_socket() {
    if constexpr (std::is_same_v<Stream, boost::asio::ip::tcp::socket>) return ws_.next_layer();
    else return beast::get_lowest_layer(ws_).socket();
  }

  void on_accept(beast::error_code ec) {
    if (ec) return on_closed();
    counted_ = true;
    metrics().connections.fetch_add(1, std::memory_order_relaxed);
    metrics().connections_total.fetch_add(1, std::memory_order_relaxed);
    enqueue(share(event_frame(
        "hello", 0,
        fmt::format(R"({{"protocol":1,"server":"modu {}","max_frame_bytes":{},"max_text_bytes":{}}})",
                    MODU_VERSION, ctx_.options.max_frame_bytes, ctx_.services.options.max_text_bytes))));
    do_read();
  }

  // An idle connection spends its life waiting in this read, holding whatever the buffer
  // was given, so the first read of a message asks for at most kFirstReadBytes (most
  // requests fit); the rest of a longer message follows in steps of up to kReadChunkBytes.
  // The read goes into a plain buffer (not Beast's dynamic-buffer overload, whose extra
  // composed operation would also stay allocated for as long as the connection idles).
  void do_read() {
    std::size_t want = in_.size() == 0
                           ? kFirstReadBytes
                           : std::clamp<std::size_t>(ws_.read_size_hint(in_), 1, kReadChunkBytes);
    ws_.async_read_some(in_.prepare(want),
                        [self = this->shared_from_this()](beast::error_code ec, std::size_t n) {
                          self->in_.commit(n);
                          self->on_read(ec);
                        });
  }

  void on_read(beast::error_code ec) {
    if (ec) return on_closed();
    if (!ws_.got_text()) {
      in_.clear();
      return begin_close(websocket::close_code::unknown_data);
    }
    if (in_.size() > ctx_.options.max_frame_bytes) {
      in_.clear();
      return begin_close(websocket::close_code::too_big);
    }
    if (!ws_.is_message_done()) return do_read();
    std::string_view text(static_cast<const char*>(in_.data().data()), in_.size());
    handle_frames(text);
    in_.consume(in_.size());
    // Keep only a first-read's worth between messages (idle connections are the many).
    if (in_.capacity() > kFirstReadBytes) in_ = beast::flat_buffer();
    if (!close_requested_) read_when_store_keeps_up();
  }

  // Flow control (net/read_gate.h): while the store is behind, the connection waits at its
  // loop's gate instead of reading.
  void read_when_store_keeps_up() {
    if (loop_.read_gate.open()) return do_read();
    metrics().reads_paused.fetch_add(1, std::memory_order_relaxed);
    loop_.read_gate.park([self = this->shared_from_this()] {
      if (!self->close_requested_) self->read_when_store_keeps_up();
    });
  }

  void handle_frames(std::string_view text) {
    auto self = this->shared_from_this();
    while (!text.empty()) {
      auto nl = text.find('\n');
      std::string_view frame = text.substr(0, nl);
      text = nl == std::string_view::npos ? std::string_view() : text.substr(nl + 1);
      while (!frame.empty() && (frame.back() == '\r' || frame.back() == ' ')) frame.remove_suffix(1);
      if (frame.empty()) continue;
      metrics().frames_in.fetch_add(1, std::memory_order_relaxed);
      std::string id_json;
      auto request = parse_request(loop_.parser, frame, id_json);
      if (!request.ok()) {
        metrics().count_error(request.error().code);
        enqueue(share(error_frame(id_json, request.error())));
        continue;
      }
      if (!limiter_.allow()) {
        Error e{ErrorCode::kRateLimited, "too many requests; slow down"};
        metrics().count_error(e.code);
        enqueue(share(error_frame(id_json, e)));
        continue;
      }
      ctx_.router.dispatch(self, request.value(), ctx_.services.hub, metrics());
    }
  }

  void enqueue(SharedFrame frame) {
    if (closed_ || close_requested_) return;
    queued_bytes_ += frame->size();
    pending_.push_back(std::move(frame));
    if (queued_bytes_ > ctx_.options.max_queued_bytes) {
      metrics().slow_consumers_closed.fetch_add(1, std::memory_order_relaxed);
      pending_.clear();
      queued_bytes_ = 0;
      beast::error_code ignored;
      raw_socket().close(ignored);
      return on_closed();
    }
    if (!writing_) flush();
  }

  void flush() {
    if (pending_.empty()) {
      if (close_requested_ && !close_started_) start_close();
      return;
    }
    writing_ = true;
    boost::asio::const_buffer buffer;
    if (pending_.size() == 1) {
      inflight_ = std::move(pending_.front());
      buffer = boost::asio::buffer(*inflight_);
    } else {
      out_.clear();
      for (std::size_t i = 0; i < pending_.size(); ++i) {
        if (i) out_.push_back('\n');
        out_.append(*pending_[i]);
      }
      buffer = boost::asio::buffer(out_);
    }
    metrics().frames_out.fetch_add(static_cast<std::int64_t>(pending_.size()), std::memory_order_relaxed);
    metrics().ws_messages_out.fetch_add(1, std::memory_order_relaxed);
    pending_.clear();
    queued_bytes_ = 0;
    ws_.text(true);
    ws_.async_write(buffer, [self = this->shared_from_this()](beast::error_code ec, std::size_t) {
      self->on_write(ec);
    });
  }

  void on_write(beast::error_code ec) {
    writing_ = false;
    inflight_.reset();
    if (out_.capacity() > 64 * 1024) std::string().swap(out_);
    if (ec) return on_closed();
    flush();
  }

  // Sends what is queued, then a close frame with `code`.
  void begin_close(websocket::close_code code) {
    if (closed_ || close_requested_) return;
    close_code_ = code;
    close_requested_ = true;
    if (!writing_) flush();
  }

  void start_close() {
    close_started_ = true;
    ws_.async_close(close_code_, [self = this->shared_from_this()](beast::error_code) { self->on_closed(); });
  }

  void on_closed() {
    if (closed_) return;
    closed_ = true;
    ctx_.services.hub.detach(*this);
    if (counted_) metrics().connections.fetch_sub(1, std::memory_order_relaxed);
    counted_ = false;
  }

  static constexpr std::size_t kFirstReadBytes = 256;
  static constexpr std::size_t kReadChunkBytes = 16 * 1024;

  websocket::stream<Stream> ws_;
  Loop& loop_;
  NetContext& ctx_;
  beast::flat_buffer in_;
  std::vector<SharedFrame> pending_;  // waiting for the write in flight
  SharedFrame inflight_;              // the single frame being written, if alone
  std::string out_;                   // joined frames being written
  std::size_t queued_bytes_ = 0;
  RateLimiter limiter_;
  websocket::close_code close_code_ = websocket::close_code::normal;
  bool writing_ = false;
  bool close_requested_ = false;
  bool close_started_ = false;
  bool closed_ = false;
  bool counted_ = false;
};

}  // namespace modu
