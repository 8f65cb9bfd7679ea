#include "harness/client.h"

#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/websocket.hpp>
#include <functional>
#include <set>
#include <stdexcept>

namespace modu_it {

namespace net = boost::asio;
namespace beast = boost::beast;
namespace websocket = beast::websocket;
using tcp = net::ip::tcp;
using Clock = std::chrono::steady_clock;

JsonRef Response::result() const {
  if (!ok()) throw std::runtime_error("request failed: " + frame.dump());
  return frame["result"];
}

std::string Response::error_code() const {
  if (ok()) return "";
  return frame["error"]["code"].str();
}

std::string default_password(const std::string& handle) { return "password-" + handle; }

struct Client::Impl {
  ClientOptions options;
  net::io_context ioc;
  websocket::stream<beast::tcp_stream> ws{ioc};
  beast::flat_buffer read_buffer;
  bool handshake_done = false;  // reads start only once the WebSocket is open
  bool read_in_flight = false;
  bool closed = false;
  CloseInfo close_info;
  std::deque<JsonRef> events;
  std::map<std::string, JsonRef> responses;  // keyed by the id's JSON text
  std::set<std::string> answered_ids;         // every non-null id a response arrived for
  std::int64_t next_id = 1;
  std::optional<JsonRef> hello;
  bool recording = false;
  std::vector<std::string> recorded;  // raw frames received while recording

  Clock::time_point deadline_after(std::optional<Millis> timeout) const {
    return Clock::now() + timeout.value_or(options.timeout);
  }

  // Runs the io_context until `done()` or the deadline. Keeps one read in flight so
  // incoming frames are always consumed (and pings answered) while waiting.
  bool run_until(const std::function<bool()>& done, Clock::time_point deadline) {
    while (!done()) {
      if (closed && !read_in_flight) return done();
      start_read();
      if (ioc.stopped()) ioc.restart();
      auto now = Clock::now();
      if (now >= deadline) return false;
      ioc.run_one_for(deadline - now);
    }
    return true;
  }

  void start_read() {
    if (read_in_flight || closed || !handshake_done) return;
    read_in_flight = true;
    ws.async_read(read_buffer, [this](beast::error_code ec, std::size_t) { on_read(ec); });
  }

  void on_read(beast::error_code ec) {
    read_in_flight = false;
    if (ec) {
      closed = true;
      close_info.closed = true;
      // A close frame may have arrived even when the error is a transport one (the server
      // dropping TCP before our close reply is written): keep its code either way.
      close_info.code = static_cast<int>(ws.reason().code);
      close_info.reason = ec == websocket::error::closed ? std::string(ws.reason().reason.c_str()) : ec.message();
      return;
    }
    std::string message = beast::buffers_to_string(read_buffer.data());
    read_buffer.consume(read_buffer.size());
    if (!ws.got_text())
      throw std::runtime_error("server sent a binary WebSocket message (" +
                               std::to_string(message.size()) + " bytes)");
    std::size_t start = 0;
    while (start <= message.size()) {
      std::size_t end = message.find('\n', start);
      if (end == std::string::npos) end = message.size();
      std::string_view line(message.data() + start, end - start);
      start = end + 1;
      if (line.empty() || line == "\r") continue;
      if (recording) recorded.emplace_back(line);
      auto frame = JsonRef::try_parse(line);
      if (!frame || !frame->is_object())
        throw std::runtime_error("server sent a frame that is not a JSON object: " + std::string(line));
      if (frame->has("event")) {
        events.push_back(*frame);
      } else if (frame->has("id")) {
        std::string id = (*frame)["id"].dump();
        // "Exactly one [response] per request": a second answer to an id is a server bug.
        if (id != "null" && !answered_ids.insert(id).second)
          throw std::runtime_error("server sent a second response for id " + id + ": " + std::string(line));
        responses.insert_or_assign(id, *frame);
      } else {
        throw std::runtime_error("server sent a frame that is neither event nor response: " +
                                 std::string(line));
      }
    }
  }

  void write(std::string_view data, bool text, Clock::time_point deadline) {
    if (closed) throw std::runtime_error("cannot send: connection closed (" + close_info.reason + ")");
    bool done = false;
    beast::error_code result;
    ws.text(text);
    ws.async_write(net::buffer(data.data(), data.size()), [&](beast::error_code ec, std::size_t) {
      done = true;
      result = ec;
    });
    if (!run_until([&] { return done; }, deadline)) {
      beast::get_lowest_layer(ws).cancel();
      run_until([&] { return done; }, Clock::now() + 1s);
      throw std::runtime_error(closed ? "connection closed while sending (" + close_info.reason + ")"
                                      : std::string("timed out sending a WebSocket message"));
    }
    if (result) throw std::runtime_error("WebSocket write failed: " + result.message());
  }
};

Client::Client(std::uint16_t port, ClientOptions options) : impl_(std::make_unique<Impl>()) {
  auto& d = *impl_;
  d.options = std::move(options);
  auto deadline = d.deadline_after({});
  auto& tcp_layer = beast::get_lowest_layer(d.ws);

  bool done = false;
  beast::error_code error;
  tcp_layer.async_connect(tcp::endpoint(net::ip::make_address("127.0.0.1"), port),
                          [&](beast::error_code ec) { done = true; error = ec; });
  if (!d.run_until([&] { return done; }, deadline))
    throw std::runtime_error("timed out connecting to 127.0.0.1:" + std::to_string(port));
  if (error) throw std::runtime_error("connect to 127.0.0.1:" + std::to_string(port) + " failed: " + error.message());

  d.ws.read_message_max(64u << 20);
  d.ws.auto_fragment(false);
  if (d.options.origin) {
    std::string origin = *d.options.origin;
    d.ws.set_option(websocket::stream_base::decorator(
        [origin](websocket::request_type& req) { req.set(beast::http::field::origin, origin); }));
  }
  websocket::response_type response;
  done = false;
  d.ws.async_handshake(response, "127.0.0.1:" + std::to_string(port), d.options.target,
                       [&](beast::error_code ec) { done = true; error = ec; });
  if (!d.run_until([&] { return done; }, deadline)) {
    tcp_layer.cancel();
    throw std::runtime_error("timed out in the WebSocket handshake");
  }
  if (error) {
    if (response.result_int() != 0 && response.result_int() != 101)
      throw HandshakeRefused(static_cast<int>(response.result_int()),
                             "WebSocket upgrade refused with HTTP " + std::to_string(response.result_int()));
    throw std::runtime_error("WebSocket handshake failed: " + error.message());
  }
  d.handshake_done = true;
  if (d.options.read_hello) d.hello = expect_event("hello");
}

Client::~Client() {
  try {
    close();
  } catch (...) {
  }
}

const JsonRef& Client::hello() const {
  if (!impl_->hello) throw std::runtime_error("no hello event was read");
  return *impl_->hello;
}

Millis Client::default_timeout() const { return impl_->options.timeout; }

std::int64_t Client::send_request(std::string_view op, const JsonObj& args) {
  std::int64_t id = impl_->next_id++;
  std::string frame = "{\"id\":" + std::to_string(id) + ",\"op\":" + json_quote(op);
  if (!args.empty()) frame += ",\"args\":" + args.str();
  frame += '}';
  impl_->write(frame, true, impl_->deadline_after({}));
  return id;
}

Response Client::wait_response(std::int64_t id, std::optional<Millis> timeout) {
  return wait_response_raw(std::to_string(id), timeout);
}

std::optional<Response> Client::try_wait_response_raw(const std::string& id_json, Millis timeout) {
  auto& d = *impl_;
  d.run_until([&] { return d.responses.count(id_json) > 0; }, Clock::now() + timeout);
  auto it = d.responses.find(id_json);
  if (it == d.responses.end()) return std::nullopt;
  Response r{it->second};
  d.responses.erase(it);
  return r;
}

std::optional<Response> Client::try_wait_any_response(const std::vector<std::string>& ids_json, Millis timeout) {
  auto& d = *impl_;
  auto find = [&] {
    for (const auto& id : ids_json)
      if (auto it = d.responses.find(id); it != d.responses.end()) return it;
    return d.responses.end();
  };
  d.run_until([&] { return find() != d.responses.end(); }, Clock::now() + timeout);
  auto it = find();
  if (it == d.responses.end()) return std::nullopt;
  Response r{it->second};
  d.responses.erase(it);
  return r;
}

Response Client::wait_response_raw(const std::string& id_json, std::optional<Millis> timeout) {
  auto r = try_wait_response_raw(id_json, timeout.value_or(impl_->options.timeout));
  if (!r) {
    if (impl_->closed)
      throw std::runtime_error("connection closed (code " + std::to_string(impl_->close_info.code) + ", " +
                               impl_->close_info.reason + ") before the response to id " + id_json);
    throw std::runtime_error("no response to id " + id_json + " within " +
                             std::to_string(timeout.value_or(impl_->options.timeout).count()) + " ms");
  }
  return *r;
}

Response Client::call(std::string_view op, const JsonObj& args, std::optional<Millis> timeout) {
  return wait_response(send_request(op, args), timeout);
}

JsonRef Client::ok(std::string_view op, const JsonObj& args) {
  Response r = call(op, args);
  if (!r.ok())
    throw std::runtime_error(std::string(op) + " " + args.str() + " failed: " + r.dump());
  return r.frame["result"];
}

std::string Client::error(std::string_view op, const JsonObj& args) {
  Response r = call(op, args);
  if (r.ok())
    throw std::runtime_error(std::string(op) + " " + args.str() + " unexpectedly succeeded: " + r.dump());
  return r.error_code();
}

std::optional<JsonRef> Client::next_event(std::string_view name, std::optional<Millis> timeout) {
  auto& d = *impl_;
  auto find = [&]() -> std::deque<JsonRef>::iterator {
    for (auto it = d.events.begin(); it != d.events.end(); ++it)
      if ((*it)["event"].is_string() && (*it)["event"].str() == name) return it;
    return d.events.end();
  };
  d.run_until([&] { return find() != d.events.end(); }, d.deadline_after(timeout));
  auto it = find();
  if (it == d.events.end()) return std::nullopt;
  JsonRef event = *it;
  d.events.erase(it);
  return event;
}

JsonRef Client::expect_event(std::string_view name, std::optional<Millis> timeout) {
  auto event = next_event(name, timeout);
  if (!event) {
    std::string seen;
    for (const auto& e : impl_->events) seen += " " + e["event"].dump();
    throw std::runtime_error("no '" + std::string(name) + "' event within " +
                             std::to_string(timeout.value_or(impl_->options.timeout).count()) +
                             " ms" + (impl_->closed ? " (connection closed)" : "") +
                             "; other buffered events:" + (seen.empty() ? " none" : seen));
  }
  return *event;
}

JsonRef Client::expect_event_matching(std::string_view name, const std::function<bool(const JsonRef&)>& match,
                                      std::optional<Millis> timeout) {
  auto deadline = impl_->deadline_after(timeout);
  std::string skipped;
  while (true) {
    auto left = std::chrono::duration_cast<Millis>(deadline - Clock::now());
    auto event = next_event(name, std::max(left, Millis(0)));
    if (!event)
      throw std::runtime_error("no matching '" + std::string(name) + "' event within " +
                               std::to_string(timeout.value_or(impl_->options.timeout).count()) +
                               " ms; non-matching ones:" + (skipped.empty() ? " none" : skipped));
    if (match(*event)) return *event;
    skipped += " " + event->dump();
  }
}

std::vector<JsonRef> Client::events_within(std::string_view name, Millis window) {
  pump(window);
  std::vector<JsonRef> out;
  auto& events = impl_->events;
  for (auto it = events.begin(); it != events.end();) {
    if ((*it)["event"].is_string() && (*it)["event"].str() == name) {
      out.push_back(*it);
      it = events.erase(it);
    } else {
      ++it;
    }
  }
  return out;
}

void Client::pump(Millis window) {
  impl_->run_until([] { return false; }, Clock::now() + window);
}

const std::deque<JsonRef>& Client::buffered_events() const { return impl_->events; }
void Client::clear_events() { impl_->events.clear(); }

void Client::record_frames(bool on) { impl_->recording = on; }
const std::vector<std::string>& Client::recorded_frames() const { return impl_->recorded; }

void Client::send_text(std::string_view text) { impl_->write(text, true, impl_->deadline_after({})); }
void Client::send_binary(std::string_view bytes) { impl_->write(bytes, false, impl_->deadline_after({})); }

CloseInfo Client::wait_closed(std::optional<Millis> timeout) {
  auto& d = *impl_;
  d.run_until([&] { return d.closed; }, d.deadline_after(timeout));
  return d.close_info;
}

bool Client::is_open() const { return !impl_->closed; }

void Client::close() {
  auto& d = *impl_;
  if (d.closed || !d.handshake_done) return;
  bool done = false;
  d.ws.async_close(websocket::close_code::normal, [&](beast::error_code) { done = true; });
  if (!d.run_until([&] { return done && !d.read_in_flight; }, Clock::now() + 1s)) {
    beast::error_code ignored;
    beast::get_lowest_layer(d.ws).socket().close(ignored);
    d.run_until([&] { return done && !d.read_in_flight; }, Clock::now() + 1s);
  }
  d.closed = true;
  d.close_info.closed = true;
}

Account Client::register_user(const std::string& handle, const std::string& display_name,
                              const std::string& password, const std::string& device_kind) {
  Account account;
  account.handle = handle;
  account.password = password.empty() ? default_password(handle) : password;
  JsonObj args;
  args.set("handle", handle).set("password", account.password);
  if (!display_name.empty()) args.set("display_name", display_name);
  args.set("device", JsonObj().set("kind", device_kind).set("name", "test " + device_kind));
  JsonRef result = ok("auth.register", args);
  account.token = result["token"].str();
  account.device_id = result["device_id"].i64();
  account.user_id = result["profile"]["user_id"].i64();
  return account;
}

Account Client::login(const std::string& handle, const std::string& password,
                      const std::string& device_kind, const std::string& device_name) {
  JsonRef result = ok("auth.login", JsonObj()
                                        .set("handle", handle)
                                        .set("password", password)
                                        .set("device", JsonObj().set("kind", device_kind).set("name", device_name)));
  Account account;
  account.handle = handle;
  account.password = password;
  account.token = result["token"].str();
  account.device_id = result["device_id"].i64();
  account.user_id = result["profile"]["user_id"].i64();
  return account;
}

JsonRef Client::resume(const Account& account) {
  return ok("auth.resume", JsonObj().set("token", account.token));
}

}  // namespace modu_it
