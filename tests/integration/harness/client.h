// A synchronous WebSocket client for the Modu protocol (docs/protocol.md), built for tests.
//
// Every wait is bounded (default 5 s), so a test can never hang on a silent server.
// Incoming WebSocket messages are split on '\n' into frames; responses are matched to
// requests by id, and events that arrive while waiting are buffered in arrival order until
// a test asks for them. Protocol violations throw std::runtime_error (failing the test): a
// binary message, a frame that is not a JSON object, a second response for the same id.
//
//   Client alice(server.port());                 // connects and reads `hello`
//   auto account = alice.register_user("alice");
//   JsonRef chat = alice.ok("chats.memo")["chat"];
//   Response r = alice.call("chats.get", JsonObj().set("chat_id", 999));
//   EXPECT_EQ(r.error_code(), "chat_not_found");
//   JsonRef ev = alice.expect_event("message.new");
#pragma once

#include <chrono>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "harness/json.h"

namespace modu_it {

using namespace std::chrono_literals;
using Millis = std::chrono::milliseconds;

inline constexpr Millis kDefaultTimeout = 5s;

struct ClientOptions {
  std::optional<std::string> origin;  // sent as the Origin header when set
  std::string target = "/v1/ws";
  Millis timeout = kDefaultTimeout;   // default bound for every wait
  bool read_hello = true;             // wait for the `hello` event while connecting
};

// The response to one request.
struct Response {
  JsonRef frame;  // the whole response frame: {"id":…, "ok":…, "result"|"error":…}
  bool ok() const { return frame["ok"].boolean(); }
  JsonRef result() const;          // throws (with the error) unless ok
  std::string error_code() const;  // "" when ok
  std::string dump() const { return frame.dump(); }
};

// The credentials of a signed-in device.
struct Account {
  std::string handle;
  std::string password;
  std::string token;
  std::int64_t user_id = 0;
  std::int64_t device_id = 0;
};

// How the server ended the connection.
struct CloseInfo {
  bool closed = false;     // the connection is gone (close frame, EOF or reset)
  int code = 0;            // WebSocket close code when a close frame arrived, else 0
  std::string reason;      // close reason text, or the transport error
};

// Thrown when the WebSocket handshake is refused; carries the HTTP status.
struct HandshakeRefused : std::runtime_error {
  HandshakeRefused(int status, const std::string& what) : std::runtime_error(what), status(status) {}
  int status;
};

class Client {
 public:
  // Connects to ws://127.0.0.1:<port><target>. Throws HandshakeRefused when the server
  // answers the upgrade with an HTTP error, std::runtime_error on other failures.
  explicit Client(std::uint16_t port, ClientOptions options = {});
  ~Client();
  Client(const Client&) = delete;
  Client& operator=(const Client&) = delete;

  // The `hello` event read while connecting.
  const JsonRef& hello() const;

  // --- requests ---------------------------------------------------------------------
  // Sends a request and waits for its response. Throws on timeout or a closed connection.
  Response call(std::string_view op, const JsonObj& args = {}, std::optional<Millis> timeout = {});
  // call() and require ok; returns `result`. Throws with the error frame otherwise.
  JsonRef ok(std::string_view op, const JsonObj& args = {});
  // call() and require failure; returns error.code. Throws if the request succeeded.
  std::string error(std::string_view op, const JsonObj& args = {});
  // Sends a request without waiting; returns its id (for pipelining).
  std::int64_t send_request(std::string_view op, const JsonObj& args = {});
  // Waits for the response with the given numeric id.
  Response wait_response(std::int64_t id, std::optional<Millis> timeout = {});
  // Waits for the response whose id is the given JSON text (e.g. "null", "\"abc\"").
  Response wait_response_raw(const std::string& id_json, std::optional<Millis> timeout = {});
  // Like wait_response_raw but returns nullopt on timeout.
  std::optional<Response> try_wait_response_raw(const std::string& id_json, Millis timeout);
  // The first response carrying any of the given ids (JSON text), or nullopt on timeout.
  // For bad input whose answer may carry the request's id or null.
  std::optional<Response> try_wait_any_response(const std::vector<std::string>& ids_json, Millis timeout);

  // --- events -----------------------------------------------------------------------
  // The next buffered or arriving event named `name` (earlier events of other names stay
  // buffered). Returns the whole event frame ({"event","pos"?,"data"}); nullopt on timeout.
  std::optional<JsonRef> next_event(std::string_view name, std::optional<Millis> timeout = {});
  // next_event() that throws on timeout.
  JsonRef expect_event(std::string_view name, std::optional<Millis> timeout = {});
  // The next event named `name` for which `match` is true; earlier events of that name
  // that do not match are dropped. Throws on timeout.
  JsonRef expect_event_matching(std::string_view name, const std::function<bool(const JsonRef&)>& match,
                                std::optional<Millis> timeout = {});
  // Collects every event named `name` arriving within `window`.
  std::vector<JsonRef> events_within(std::string_view name, Millis window);
  // Reads whatever arrives within `window` into the buffers (events, responses).
  void pump(Millis window);
  // Buffered events not yet taken, in arrival order.
  const std::deque<JsonRef>& buffered_events() const;
  void clear_events();

  // --- raw frame recording (for leak checks) -------------------------------------------
  // While on, every frame received (response or event, exactly as the server sent it) is
  // appended to recorded_frames(). Off by default.
  void record_frames(bool on = true);
  const std::vector<std::string>& recorded_frames() const;

  // --- raw access for bad-input tests ------------------------------------------------
  void send_text(std::string_view text);
  void send_binary(std::string_view bytes);
  // Waits until the server closes the connection (buffering anything read meanwhile).
  CloseInfo wait_closed(std::optional<Millis> timeout = {});
  bool is_open() const;
  // Closes the connection from this side (normal closure, bounded).
  void close();

  // --- account helpers ----------------------------------------------------------------
  // auth.register with password "password-<handle>" unless given; device {kind, name}.
  Account register_user(const std::string& handle, const std::string& display_name = "",
                        const std::string& password = "", const std::string& device_kind = "pc");
  Account login(const std::string& handle, const std::string& password,
                const std::string& device_kind = "pc", const std::string& device_name = "test device");
  // auth.resume with account.token; returns the result.
  JsonRef resume(const Account& account);

  Millis default_timeout() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// The default password register_user() picks for a handle.
std::string default_password(const std::string& handle);

}  // namespace modu_it
