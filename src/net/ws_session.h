// One WebSocket connection (plain or TLS), implementing Connection.
//
// Lives on one loop. The framing is our own (net/websocket/): a connection between
// messages holds no buffer and no pending read operation of its own size. A plain
// connection waits for readability, then reads into its loop's shared buffer; a message
// that arrived whole is parsed from there without a copy. Keep-alive pings and the idle
// and close timeouts run on the loop's one KeepAlive timer.
//
// Each WebSocket message is split into frames (newline-separated), each parsed with the
// loop's parser and dispatched to the router. Writes are coalesced: frames queued while a
// write is in flight, or while one read's frames are handled, leave together in the next
// WebSocket message, joined by '\n' (one send for many frames). A client whose queue grows
// past `max_queued_bytes` is disconnected; it reconnects and catches up with sync. While
// more than `max_queued_writes` writes wait to be stored, connections are not read.
#pragma once

#include <boost/asio/post.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core.hpp>

#include <array>
#include <cerrno>
#include <memory>
#include <span>
#include <string>
#include <type_traits>
#include <vector>

#include "net/rate_limiter.h"
#include "net/send_batch.h"
#include "net/server.h"
#include "net/websocket/frame.h"
#include "net/websocket/handshake.h"
#include "net/websocket/keep_alive.h"
#include "net/websocket/message_reader.h"
#include "protocol/frames.h"
#include "realtime/connection.h"

#ifndef MODU_VERSION
#define MODU_VERSION "dev"
#endif

namespace modu {

namespace beast = boost::beast;

// `Stream` is a plain `tcp::socket` or a TLS stream (`beast::ssl_stream<beast::tcp_stream>`).
template <class Stream>
class WsSession final : public Connection,
                        public websocket::KeepAliveMember,
                        public SendBatch::Sender,
                        public std::enable_shared_from_this<WsSession<Stream>> {
  static constexpr bool kPlain = std::is_same_v<Stream, boost::asio::ip::tcp::socket>;
  using CloseCode = websocket::CloseCode;
  using Opcode = websocket::Opcode;

 public:
  WsSession(Stream&& stream, Loop& loop, NetContext& ctx)
      : stream_(std::move(stream)),
        loop_(loop),
        ctx_(ctx),
        reader_(ctx.options.max_frame_bytes),
        limiter_(ctx.options.rate_limit, ctx.options.rate_burst) {}

  ~WsSession() override { on_closed(); }

  // Answers the upgrade request with `accept` (websocket::accept_value), then serves.
  // `early`: bytes the client sent after its request, read along with it.
  void start(std::string_view accept, std::string early) {
    if constexpr (kPlain) {
      // Reads drain the socket and never block. The server made it so on accept; the check
      // costs no system call.
      boost::system::error_code ignored;
      if (!stream_.non_blocking()) stream_.non_blocking(true, ignored);
    } else {
      beast::get_lowest_layer(stream_).expires_never();  // the loop's KeepAlive bounds idle time
    }
    loop_.keep_alive.join(*this);
    // The 101 and the `hello` event leave in one write: one send, and one wake-up of the
    // client, per connection.
    out_ = websocket::switching_protocols_response(accept);
    const std::string& hello = ctx_.hello;
    out_.append(header_.data(), websocket::write_server_header(Opcode::kText, hello.size(), header_)).append(hello);
    metrics().frames_out.fetch_add(1, std::memory_order_relaxed);
    metrics().ws_messages_out.fetch_add(1, std::memory_order_relaxed);
    writing_ = true;
    boost::asio::async_write(stream_, boost::asio::buffer(out_),
                             [self = this->shared_from_this(), early = std::move(early)](
                                 boost::system::error_code ec, std::size_t) mutable {
                               self->writing_ = false;
                               if (ec) return self->finish();
                               self->on_open(early);
                             });
  }

  // --- Connection ---
  void send(SharedFrame frame) override {
    if (loop_.io.get_executor().running_in_this_thread()) return enqueue(std::move(frame));
    boost::asio::post(loop_.io, [self = this->shared_from_this(), frame = std::move(frame)]() mutable {
      self->enqueue(std::move(frame));
    });
  }

  void write_held() override { flush(); }

  void close_after(SharedFrame last) override {
    run_on_loop([self = this->shared_from_this(), last = std::move(last)]() mutable {
      if (last) self->enqueue(std::move(last));
      self->begin_close(CloseCode::kNormal);
    });
  }

  void close_going_away() override {
    run_on_loop([self = this->shared_from_this()] { self->begin_close(CloseCode::kGoingAway); });
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
  // What the reader calls back with (websocket::MessageVisitor).
  struct Visitor {
    WsSession& session;
    bool reading() const { return !session.closed_; }
    void on_text(std::string_view text) {
      if (!session.close_requested_) session.handle_frames(text);
    }
    void on_ping(std::string_view payload) { session.send_control(Opcode::kPong, payload); }
    void on_close(const websocket::ClosePayload& close) { session.on_peer_close(close.code); }
  };

  Metrics& metrics() { return ctx_.services.metrics; }

  boost::asio::ip::tcp::socket& raw_socket() {
    if constexpr (kPlain) return stream_;
    else return beast::get_lowest_layer(stream_).socket();
  }

  void on_open(std::string& early) {
    counted_ = true;
    metrics().connections.fetch_add(1, std::memory_order_relaxed);
    metrics().connections_total.fetch_add(1, std::memory_order_relaxed);
    std::string().swap(out_);
    flush();  // a close asked for during the handshake (server shutdown) goes out now
    if (early.empty()) return read_next();
    on_bytes(std::span<char>(early.data(), early.size()));
  }

  // --- reading ---

  // A plain connection waits for readability without a buffer; a TLS one reads into a
  // buffer of its own (its TLS state dwarfs it anyway).
  void read_next() {
    if constexpr (kPlain) {
      stream_.async_wait(boost::asio::ip::tcp::socket::wait_read,
                         [self = this->shared_from_this()](boost::system::error_code ec) {
                           if (ec) return self->finish();
                           self->read_ready();
                         });
    } else {
      if (!tls_in_) tls_in_ = std::make_unique<std::array<char, kTlsReadBytes>>();
      stream_.async_read_some(boost::asio::buffer(*tls_in_),
                              [self = this->shared_from_this()](boost::system::error_code ec, std::size_t n) {
                                if (ec) return self->finish();
                                self->on_bytes(std::span<char>(self->tls_in_->data(), n));
                                // A TLS read returns one record at most, so a short one does
                                // not show that the socket is drained: behind TLS, only the
                                // read gate marks the server behind.
                                self->limiter_.server_behind(self->parked_);
                              });
    }
  }

  void read_ready() {
    std::vector<char>& buffer = loop_.read_buffer;
    boost::system::error_code ec;
    std::size_t n = stream_.read_some(boost::asio::buffer(buffer), ec);
    if (ec == boost::asio::error::would_block) return read_next();
    if (ec) return finish();  // end of stream or reset
    on_bytes(std::span<char>(buffer.data(), n));
    // A full buffer leaves more in the socket (net/rate_limiter.h).
    limiter_.server_behind(n == buffer.size() || parked_);
  }

  void on_bytes(std::span<char> bytes) {
    heard_ = true;
    Visitor visitor{*this};
    // Answers given while these bytes are handled leave together, after the last of them:
    // requests sent in one message (auth.resume and sync, say) get one message back.
    holding_writes_ = true;
    auto failure = reader_.feed(bytes, visitor);
    holding_writes_ = false;
    if (failure) begin_close(*failure);
    else flush();
    if (closed_ || peer_closed_) return;
    // While closing, keep reading (the peer's close frame, or its end of stream) unguarded.
    if (close_requested_) return read_next();
    read_when_store_keeps_up();
  }

  // Flow control (net/read_gate.h): while the store is behind, the connection waits at its
  // loop's gate instead of reading. What the client sends meanwhile is then read at once,
  // which its rate limit does not count as a burst (net/rate_limiter.h).
  void read_when_store_keeps_up() {
    if (loop_.read_gate.open()) return read_next();
    metrics().reads_paused.fetch_add(1, std::memory_order_relaxed);
    parked_ = true;
    limiter_.server_behind(true);
    loop_.read_gate.park([self = this->shared_from_this()] {
      self->parked_ = false;
      if (!self->closed_) self->read_when_store_keeps_up();
    });
  }

  void handle_frames(std::string_view text) {
    auto self = this->shared_from_this();
    while (!text.empty() && !close_requested_) {
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

  // --- keep-alive ---

  void on_keep_alive_tick() override {
    if (closed_) {
      if (finished_ && ++closing_ticks_ >= 2) close_socket();  // a TLS close left unanswered
      return;
    }
    if (close_requested_) {
      // A close handshake, or the drain after it, gets one to two periods.
      if (++closing_ticks_ >= 2) finish();
      return;
    }
    if (heard_ || parked_) {
      heard_ = false;
      pinged_ = false;
      return;
    }
    if (pinged_) return finish();  // a whole period of silence after a ping: gone
    pinged_ = true;
    send_control(Opcode::kPing, {});
  }

  // --- writing ---

  void enqueue(SharedFrame frame) {
    if (closed_ || close_requested_) return;
    queued_bytes_ += frame->size();
    pending_.push_back(std::move(frame));
    if (queued_bytes_ > ctx_.options.max_queued_bytes) {
      metrics().slow_consumers_closed.fetch_add(1, std::memory_order_relaxed);
      pending_.clear();
      queued_bytes_ = 0;
      return finish();
    }
    flush();
  }

  void send_control(Opcode opcode, std::string_view payload) {
    if (closed_ || close_sent_) return;
    websocket::append_control_frame(control_, opcode, payload);
    flush();
  }

  // Starts a write of everything queued unless one is in flight: control frames first,
  // then the queued frames as one text message, then (once nothing is queued) the close
  // frame if one was asked for. On a plain socket a few frames are written where they are
  // (one gathered send, no copy: a sync answer is tens of KiB); many small ones (events
  // under load) are copied into one buffer, as are frames over TLS, which would otherwise
  // become one record per piece.
  void flush() {
    if (writing_ || holding_writes_ || held() || closed_) return;
    if (pending_.empty() && close_requested_ && !close_sent_) {
      websocket::append_close_frame(control_, static_cast<std::uint16_t>(close_code_));
      close_sent_ = true;
    }
    if (pending_.empty() && control_.empty()) return;
    writing_ = true;
    out_.clear();
    out_.swap(control_);  // control frames go first
    gather_.clear();
    if (const std::size_t frames = pending_.size()) {
      std::size_t payload = frames - 1;
      for (const auto& frame : pending_) payload += frame->size();
      std::size_t header_bytes = websocket::write_server_header(Opcode::kText, payload, header_);
      // The message: its header, then the frames joined by newlines, piece by piece.
      auto each_piece = [&](auto&& put) {
        put(std::string_view(header_.data(), header_bytes));
        for (std::size_t i = 0; i < pending_.size(); ++i) {
          if (i) put(std::string_view(&kFrameSeparator, 1));
          put(std::string_view(*pending_[i]));
        }
      };
      if (frames <= (kPlain ? kMaxGatheredFrames : 1)) {
        if (!out_.empty()) gather_.push_back(boost::asio::buffer(out_));
        each_piece([&](std::string_view piece) { gather_.push_back(boost::asio::buffer(piece)); });
        inflight_.swap(pending_);  // written from where they are; kept alive until then
      } else {
        each_piece([&](std::string_view piece) { out_.append(piece); });
      }
      metrics().frames_out.fetch_add(static_cast<std::int64_t>(frames), std::memory_order_relaxed);
      metrics().ws_messages_out.fetch_add(1, std::memory_order_relaxed);
    }
    if (gather_.empty()) gather_.push_back(boost::asio::buffer(out_));
    pending_.clear();
    queued_bytes_ = 0;
    if constexpr (kPlain) {
      if (loop_.sends.gathering()) {
        in_batch_ = true;  // the socket stays open until the batch has sent (close_socket)
        return loop_.sends.add(stream_.native_handle(), gather_, this->shared_from_this());
      }
    }
    write_gathered();
  }

  void write_gathered() {
    boost::asio::async_write(stream_, std::span<const boost::asio::const_buffer>(gather_),
                             [self = this->shared_from_this()](boost::system::error_code ec, std::size_t) {
                               self->on_write(ec);
                             });
  }

  // The batch's send of `gather_` (net/send_batch.h): done, failed, or the rest to send.
  void on_batched_send(int result) override {
    in_batch_ = false;
    if (close_after_batch_) {
      close_socket();
      return on_write(boost::asio::error::operation_aborted);
    }
    if (result < 0 && result != -EAGAIN && result != -EWOULDBLOCK)
      return on_write(boost::system::error_code(-result, boost::system::system_category()));
    std::size_t sent = result > 0 ? static_cast<std::size_t>(result) : 0;
    std::size_t done = 0;
    while (done < gather_.size() && sent >= gather_[done].size()) sent -= gather_[done++].size();
    if (done == gather_.size()) return on_write({});
    gather_.erase(gather_.begin(), gather_.begin() + static_cast<std::ptrdiff_t>(done));
    gather_.front() += sent;
    write_gathered();
  }

  void on_write(boost::system::error_code ec) {
    writing_ = false;
    inflight_.clear();
    if (out_.capacity() > kKeepWriteBytes) std::string().swap(out_);
    if (gather_.capacity() > 2 * kMaxGatheredFrames) std::vector<boost::asio::const_buffer>().swap(gather_);
    if (ec) return finish();
    if (close_sent_) return on_close_sent();
    flush();
  }

  // --- closing ---

  // Sends what is queued, then a close frame with `code`; reading goes on until the
  // peer's close frame or end of stream.
  void begin_close(CloseCode code) {
    if (closed_ || close_requested_) return;
    close_code_ = code;
    close_requested_ = true;
    flush();
  }

  void on_peer_close(std::uint16_t code) {
    peer_closed_ = true;
    if (close_sent_) {
      if (!writing_) finish();
      return;
    }
    // Echo the peer's code (RFC 6455 §5.5.1), after what is already queued.
    close_code_ = code ? static_cast<CloseCode>(code) : CloseCode::kNormal;
    close_requested_ = true;
    flush();
  }

  // Our close frame is on the wire. If the peer's came first, the handshake is done;
  // otherwise our side of the stream ends and reading goes on until the peer's close
  // frame, its end of stream, or the keep-alive's close timeout.
  void on_close_sent() {
    if (peer_closed_) return finish();
    if constexpr (kPlain) {
      boost::system::error_code ignored;
      stream_.shutdown(boost::asio::ip::tcp::socket::shutdown_send, ignored);
    }
  }

  // Ends the connection: the socket closes at once, or for TLS once the TLS close has been
  // exchanged (bounded by the keep-alive's close timeout).
  void finish() {
    if (!finished_) {
      finished_ = true;
      if constexpr (kPlain) {
        close_socket();
      } else {
        stream_.async_shutdown([self = this->shared_from_this()](boost::system::error_code) { self->close_socket(); });
      }
    }
    on_closed();
  }

  void close_socket() {
    // A batch may still send on this descriptor: closing it now would let its number go to
    // a new connection first.
    if (in_batch_) {
      close_after_batch_ = true;
      return;
    }
    close_after_batch_ = false;
    boost::system::error_code ignored;
    raw_socket().shutdown(boost::asio::ip::tcp::socket::shutdown_both, ignored);
    raw_socket().close(ignored);
  }

  void on_closed() {
    if (closed_) return;
    closed_ = true;
    ctx_.services.hub.detach(*this);
    if (counted_) metrics().connections.fetch_sub(1, std::memory_order_relaxed);
    counted_ = false;
  }

  static constexpr std::size_t kTlsReadBytes = 16 * 1024;
  static constexpr std::size_t kKeepWriteBytes = 64 * 1024;
  // A gathered write sends a header, the frames and the newlines between them: at most
  // 2 * 31 + 1 pieces, within the 64 a single sendmsg takes.
  static constexpr std::size_t kMaxGatheredFrames = 31;
  static constexpr char kFrameSeparator = '\n';

  Stream stream_;
  Loop& loop_;
  NetContext& ctx_;
  websocket::MessageReader reader_;
  std::vector<SharedFrame> pending_;  // waiting for the write in flight
  std::vector<SharedFrame> inflight_;  // frames being written from where they are
  std::string out_;                    // control frames being written, and copied frames
  std::vector<boost::asio::const_buffer> gather_;  // what the write in flight sends
  std::string control_;               // control frames waiting for the next write
  std::unique_ptr<std::array<char, kTlsReadBytes>> tls_in_;  // TLS only
  std::size_t queued_bytes_ = 0;
  RateLimiter limiter_;
  std::array<char, websocket::kMaxHeaderBytes> header_;  // of the message in flight
  CloseCode close_code_ = CloseCode::kNormal;
  std::uint8_t closing_ticks_ = 0;
  bool writing_ = false;
  bool in_batch_ = false;           // a send of ours waits in the loop's SendBatch
  bool close_after_batch_ = false;  // finished meanwhile: close once it has sent
  bool holding_writes_ = false;  // a read's frames are being handled; flush after them
  bool heard_ = false;        // bytes arrived since the last keep-alive tick
  bool pinged_ = false;       // a keep-alive ping is unanswered
  bool parked_ = false;       // waiting at the read gate
  bool close_requested_ = false;
  bool close_sent_ = false;
  bool peer_closed_ = false;
  bool finished_ = false;
  bool closed_ = false;
  bool counted_ = false;
};

}  // namespace modu
