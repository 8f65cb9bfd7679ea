// A client connection as the services see it: a place to send frames, plus who is signed
// in. The network layer implements it (net/ws_session.h).
#pragma once

#include <boost/intrusive/list_hook.hpp>

#include <cstdint>
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

  // On the owning loop: writes what was queued while the connection was held (`held()`).
  // Its loop's LoopWriter calls it (realtime/loop_writer.h).
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

  // Kept by the loop's LoopWriter, on the owning loop. While the connection is held (linked),
  // it queues what it is sent and writes nothing until `write_held`. The hook unlinks itself
  // when the connection is destroyed.
  using HeldHook = boost::intrusive::list_member_hook<boost::intrusive::link_mode<boost::intrusive::auto_unlink>>;
  HeldHook held_hook;
  std::uint32_t last_write_round = 0;  // the LoopWriter's round that last wrote it
  bool held() const { return held_hook.is_linked(); }
};

}  // namespace modu
