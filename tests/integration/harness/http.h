// Plain HTTP and raw TCP access to a running server, for /healthz, /metrics, /v1/info and
// handshake-timeout (slowloris) tests. Every call is bounded by its timeout.
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

namespace modu_it {

struct HttpResponse {
  int status = 0;
  std::string body;
  std::map<std::string, std::string> headers;  // lower-case names
};

// GET http://127.0.0.1:<port><target> with HTTP/1.1 and `Connection: close`.
HttpResponse http_get(std::uint16_t port, const std::string& target,
                      std::chrono::milliseconds timeout = std::chrono::seconds(5));

// The value of a Prometheus metric, summed over its label sets; nullopt when absent.
// Lines look like `name value` or `name{label="x"} value`, optionally with a timestamp.
std::optional<double> metric_value(const std::string& text, const std::string& name);

// A bare TCP connection to 127.0.0.1:<port>.
class RawTcpConnection {
 public:
  explicit RawTcpConnection(std::uint16_t port);
  ~RawTcpConnection();
  RawTcpConnection(const RawTcpConnection&) = delete;
  RawTcpConnection& operator=(const RawTcpConnection&) = delete;

  // Sends all of `bytes`; false when the peer closed or reset the connection meanwhile.
  bool send(std::string_view bytes);
  // Reads until the peer closes (EOF or reset) or `timeout` passes; true when closed.
  // Anything the server sent is appended to received().
  bool wait_closed(std::chrono::milliseconds timeout);
  const std::string& received() const { return received_; }

 private:
  int fd_ = -1;
  std::string received_;
};

// A minimal hand-rolled WebSocket client over RawTcpConnection, for frames that the real
// client cannot produce and for reading the server's close frame even when the server drops
// the TCP connection while we are still writing (an oversized frame).
class RawWebSocket {
 public:
  // A frame from the server.
  struct Frame {
    int opcode = 0;
    bool fin = false;
    bool masked = false;
    std::string payload;
  };

  // Connects and completes the upgrade to `target`; throws unless the server answers 101.
  // `after_request`: bytes sent in the same write as the upgrade request (frames a client
  // sends without waiting for the answer).
  explicit RawWebSocket(std::uint16_t port, const std::string& target = "/v1/ws",
                        std::string_view after_request = {});
  // Sends one frame with the given opcode (1 text, 2 binary, 0 continuation, 8 close,
  // 9 ping), masked unless told otherwise. Returns false when the connection broke while
  // sending (the server may legitimately close mid-frame).
  bool send_frame(int opcode, std::string_view payload, bool fin = true, bool masked = true);
  // Sends bytes as they are.
  bool send_raw(std::string_view bytes) { return tcp_.send(bytes); }
  // The next frame from the server; nullopt once the connection ended or `timeout` passed.
  std::optional<Frame> next_frame(std::chrono::milliseconds timeout);
  // Reads until a close frame arrives or the connection ends; returns the close code, 0 if
  // the connection ended without a close frame, -1 on timeout.
  int wait_close_code(std::chrono::milliseconds timeout);
  // After a close frame: true once the server has ended the TCP connection.
  bool wait_ended(std::chrono::milliseconds timeout) { return ended_ || tcp_.wait_closed(timeout); }

  // One masked client frame, as send_frame sends it.
  static std::string client_frame(int opcode, std::string_view payload, bool fin = true, bool masked = true);

 private:
  RawTcpConnection tcp_;
  std::size_t consumed_ = 0;  // bytes of tcp_.received() already parsed
  bool ended_ = false;
};

}  // namespace modu_it
