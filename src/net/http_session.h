// One HTTP/1.1 connection (plain or TLS): health, metrics, info, the web client, and the
// upgrade to WebSocket at /v1/ws (with the Origin check). Every read is bounded by the
// handshake timeout, so a client that trickles a request (slowloris) is cut off.
#pragma once

#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>
#include <boost/beast/websocket/rfc6455.hpp>

#include <memory>
#include <optional>
#include <type_traits>

#include "net/origin.h"
#include "net/server.h"
#include "net/static_files.h"
#include "net/websocket/handshake.h"
#include "net/ws_session.h"

namespace modu {

namespace http = beast::http;

template <class Stream>
class HttpSession final : public std::enable_shared_from_this<HttpSession<Stream>> {
  static constexpr bool kTls = !std::is_same_v<Stream, beast::tcp_stream>;

 public:
  HttpSession(Stream&& stream, Loop& loop, NetContext& ctx)
      : stream_(std::move(stream)), loop_(loop), ctx_(ctx) {}

  void start() {
    if constexpr (kTls) {
      beast::get_lowest_layer(stream_).expires_after(ctx_.options.handshake_timeout);
      stream_.async_handshake(boost::asio::ssl::stream_base::server,
                              [self = this->shared_from_this()](beast::error_code ec) {
                                if (!ec) self->do_read();
                              });
    } else {
      do_read();
    }
  }

 private:
  void do_read() {
    parser_.emplace();
    parser_->header_limit(16 * 1024);
    parser_->body_limit(16 * 1024);
    beast::get_lowest_layer(stream_).expires_after(ctx_.options.handshake_timeout);
    http::async_read(stream_, buffer_, *parser_,
                     [self = this->shared_from_this()](beast::error_code ec, std::size_t) {
                       self->on_read(ec);
                     });
  }

  void on_read(beast::error_code ec) {
    if (ec) return close();
    auto& req = parser_->get();
    if (beast::websocket::is_upgrade(req)) return upgrade();
    handle(req);
  }

  void upgrade() {
    auto& req = parser_->get();
    std::string_view target(req.target().data(), req.target().size());
    if (target.substr(0, target.find('?')) != "/v1/ws")
      return respond(http::status::not_found, "text/plain", "no WebSocket endpoint here; use /v1/ws\n", req);
    std::string_view origin(req[http::field::origin].data(), req[http::field::origin].size());
    std::string_view host(req[http::field::host].data(), req[http::field::host].size());
    if (!origin_allowed(origin, host, ctx_.options.allowed_origins))
      return respond(http::status::forbidden, "text/plain", "origin not allowed\n", req);
    if (req[http::field::sec_websocket_version] != websocket::kVersion) {
      auto res = std::make_shared<http::response<http::string_body>>(http::status::upgrade_required, req.version());
      res->set(http::field::server, "modu");
      res->set(http::field::sec_websocket_version, websocket::kVersion);
      res->set(http::field::content_type, "text/plain");
      res->body() = "only WebSocket version 13 is spoken here\n";
      res->keep_alive(false);
      res->prepare_payload();
      return write(std::move(res));
    }
    auto accept = websocket::accept_value(req[http::field::sec_websocket_key]);
    if (!accept) return respond(http::status::bad_request, "text/plain", "missing or malformed Sec-WebSocket-Key\n", req);
    // Bytes the client sent after its request (it need not wait for our answer) were read
    // into our buffer; the WebSocket session starts with them.
    std::string early(static_cast<const char*>(buffer_.data().data()), buffer_.size());
    beast::get_lowest_layer(stream_).expires_never();
    if constexpr (kTls) {
      std::make_shared<WsSession<Stream>>(std::move(stream_), loop_, ctx_)->start(*accept, std::move(early));
    } else {
      // A plain WebSocket runs on the bare socket (see WsSession).
      std::make_shared<WsSession<boost::asio::ip::tcp::socket>>(stream_.release_socket(), loop_, ctx_)
          ->start(*accept, std::move(early));
    }
  }

  void handle(http::request<http::string_body>& req) {
    if (req.method() != http::verb::get && req.method() != http::verb::head)
      return respond(http::status::method_not_allowed, "text/plain", "method not allowed\n", req);
    std::string_view target(req.target().data(), req.target().size());
    std::string_view path = target.substr(0, target.find('?'));
    if (path == "/healthz") {
      std::string why = ctx_.readiness ? ctx_.readiness() : std::string();
      if (why.empty()) return respond(http::status::ok, "text/plain", "ok\n", req);
      return respond(http::status::service_unavailable, "text/plain", why + "\n", req);
    }
    if (path == "/metrics") {
      std::string page =
          ctx_.services.metrics.render(ctx_.services.store.queued(), ctx_.services.store.recent_messages());
      ctx_.router.render_metrics(page);
      return respond(http::status::ok, "text/plain; version=0.0.4", std::move(page), req);
    }
    if (path == "/v1/info")
      return respond(http::status::ok, "application/json",
                     R"({"server":"modu","version":")" MODU_VERSION R"(","protocol":1})", req);
    if (auto file = resolve_static(ctx_.options.web_root, target)) return serve_file(*file, req);
    if (path == "/" )
      return respond(http::status::ok, "text/html; charset=utf-8",
                     "<!doctype html><meta charset=utf-8><title>Modu</title>"
                     "<h1>Modu is running</h1><p>The web client is not built. Run "
                     "<code>scripts/run</code>, or build it with <code>npm run build</code> in "
                     "<code>web/</code> and start with <code>--web web/dist</code>.</p>\n",
                     req);
    respond(http::status::not_found, "text/plain", "not found\n", req);
  }

  void serve_file(const std::filesystem::path& file, http::request<http::string_body>& req) {
    http::file_body::value_type body;
    beast::error_code ec;
    body.open(file.c_str(), beast::file_mode::scan, ec);
    if (ec) return respond(http::status::not_found, "text/plain", "not found\n", req);
    auto size = body.size();
    auto res = std::make_shared<http::response<http::file_body>>(
        std::piecewise_construct, std::make_tuple(std::move(body)),
        std::make_tuple(http::status::ok, req.version()));
    res->set(http::field::server, "modu");
    res->set(http::field::content_type, content_type_for(file));
    res->set("X-Content-Type-Options", "nosniff");
    bool hashed_asset = file.parent_path().filename() == "assets";
    res->set(http::field::cache_control, hashed_asset ? "public, max-age=31536000, immutable" : "no-cache");
    res->content_length(size);
    res->keep_alive(req.keep_alive());
    if (req.method() == http::verb::head) res->body().close();
    write(std::move(res));
  }

  void respond(http::status status, std::string_view type, std::string body,
               const http::request<http::string_body>& req) {
    auto res = std::make_shared<http::response<http::string_body>>(status, req.version());
    res->set(http::field::server, "modu");
    res->set(http::field::content_type, type);
    res->set("X-Content-Type-Options", "nosniff");
    res->keep_alive(req.keep_alive());
    if (req.method() != http::verb::head) res->body() = std::move(body);
    res->prepare_payload();
    write(std::move(res));
  }

  template <class Body>
  void write(std::shared_ptr<http::response<Body>> res) {
    bool close_after = res->need_eof();
    beast::get_lowest_layer(stream_).expires_after(std::chrono::seconds(30));
    http::async_write(stream_, *res, [self = this->shared_from_this(), res, close_after](
                                         beast::error_code ec, std::size_t) {
      if (ec || close_after) return self->close();
      self->do_read();
    });
  }

  void close() {
    beast::error_code ignored;
    beast::get_lowest_layer(stream_).socket().shutdown(boost::asio::ip::tcp::socket::shutdown_both, ignored);
    beast::get_lowest_layer(stream_).close();
  }

  Stream stream_;
  Loop& loop_;
  NetContext& ctx_;
  beast::flat_buffer buffer_;
  std::optional<http::request_parser<http::string_body>> parser_;
};

}  // namespace modu
