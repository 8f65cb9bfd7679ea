// The network front: one TCP port serving HTTP/1.1 and WebSocket, optionally over TLS.
//
// Threading: `threads` event loops, each an io_context run by one thread. The acceptor
// hands each new connection to the next loop, round-robin; from then on the connection
// lives and dies on that loop. A loop owns a JSON parser reused by all its connections,
// a read gate for flow control (net/read_gate.h), the buffer its WebSocket connections read
// into, the keep-alive timer of those connections (net/websocket/keep_alive.h), and its
// part of the hub's registry (realtime/hub.h).
#pragma once

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl/context.hpp>

#include <simdjson.h>

#include <atomic>
#include <functional>
#include <memory>
#include <optional>
#include <thread>
#include <vector>

#include "metrics/metrics.h"
#include "modu/error.h"
#include "net/options.h"
#include "net/read_gate.h"
#include "net/send_batch.h"
#include "net/websocket/keep_alive.h"
#include "realtime/hub.h"
#include "services/router.h"

namespace modu {

struct Loop {
  static constexpr std::size_t kReadBufferBytes = 64 * 1024;

  Loop(std::size_t i, bool batch_sends) : index(i), sends(batch_sends), read_buffer(kReadBufferBytes) {}
  boost::asio::io_context io{1};
  std::size_t index;
  simdjson::dom::parser parser;  // reused for every frame parsed on this loop
  ReadGate read_gate{io};        // where this loop's connections wait while the store is behind
  websocket::KeepAlive keep_alive{io};  // pings, idle and close timeouts of its WebSockets
  SendBatch sends;  // many connections' sends in one system call, while `writer` writes
  LoopWriter writer{io, &sends};  // writes what the hub delivers to its connections (after io: dies first)
  std::vector<char> read_buffer;  // a readable plain WebSocket reads here, then parses in place
};

// What the sessions need from the rest of the server.
struct NetContext {
  const NetOptions& options;
  const Router& router;
  Services& services;
  // Returns an empty string when ready, or why not.
  std::function<std::string()> readiness;
  std::atomic<bool> draining{false};
  // The `hello` event every connection gets first, framed; Server::start builds it once.
  std::string hello;
};

class Server {
 public:
  // Creates the event loops (not yet running). Build the hub from `loops()`: each loop's writer.
  explicit Server(const NetOptions& options);
  ~Server();

  std::vector<LoopWriter*> loops() const;

  // Binds and starts accepting; runs the loops on their threads. Returns the bound port.
  Result<std::uint16_t> start(NetContext& context);

  // Stops accepting new connections; existing ones go on. Thread-safe.
  void stop_accepting();

  // Stops accepting, closes connections, joins the loop threads. Idempotent.
  void stop();

 private:
  void accept_next();

  NetOptions options_;
  std::vector<std::unique_ptr<Loop>> loops_;
  std::vector<std::thread> threads_;
  std::optional<boost::asio::ip::tcp::acceptor> acceptor_;
  std::optional<boost::asio::ssl::context> tls_;
  NetContext* context_ = nullptr;
  std::size_t next_loop_ = 0;
  bool stopped_ = false;
};

}  // namespace modu
