// A client connection as the services see it: a place to send frames, plus who is signed
// in. The network layer implements it (net/ws_session.h).
#pragma once

#include <functional>

#include "modu/ids.h"
#include "protocol/frames.h"

namespace modu {

class Connection {
 public:
  virtual ~Connection() = default;

  // Thread-safe. Queues a frame for sending; frames leave in the order they were queued
  // from any one thread. A connection whose queue grows past its limit (a client that does
  // not read) is closed rather than allowed to drop frames: the client then reconnects
  // and catches up with `sync`.
  virtual void send(SharedFrame frame) = 0;

  // On the owning loop: queues a frame like `send` but holds it until `write_held`, so that
  // the frames one handler gives a connection leave in one write. Returns true when the
  // connection held nothing before; the caller must then call `write_held` before its
  // handler returns. (The hub delivers a batch this way.)
  virtual bool hold(SharedFrame frame) = 0;
  virtual void write_held() = 0;

  // Thread-safe. Sends `last` (if not null) after everything queued, then closes.
  virtual void close_after(SharedFrame last) = 0;

  // Thread-safe. Sends what is queued, then closes with 1001 (going away): the server is
  // shutting down.
  virtual void close_going_away() = 0;

  // Thread-safe. Runs `fn` on the connection's loop (for changes to its state).
  virtual void run_on_loop(std::function<void()> fn) = 0;

  // Index of the event loop that owns this connection.
  virtual std::size_t loop_index() const = 0;

  // On the owning loop: marks the connection as signed in and subscribes it to the
  // user's events. Ignored if it is already signed in or closed.
  virtual void sign_in(UserId user, DeviceId device) = 0;

  // Signed-in identity. Read and written only on the owning loop.
  UserId user;
  DeviceId device;
  bool signed_in() const { return static_cast<bool>(user); }
};

}  // namespace modu
