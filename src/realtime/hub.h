// The hub routes frames to the online devices of users.
//
// Each event loop keeps its own registry of signed-in connections (user -> connections).
// Publishing posts one task per loop carrying a shared, already-encoded frame: a group
// message is serialised once, and no lock guards the registries because each is touched
// only by its own loop. Frames published from one thread reach every connection in the
// order they were published (each loop runs posted tasks in order).
#pragma once

#include <boost/asio/io_context.hpp>

#include <memory>
#include <unordered_map>
#include <vector>

#include "modu/ids.h"
#include "protocol/frames.h"
#include "realtime/connection.h"

namespace modu {

class Hub {
 public:
  explicit Hub(std::vector<boost::asio::io_context*> loops);

  // On the connection's own loop, once it is signed in / when it goes away.
  void attach(Connection& conn);
  void detach(Connection& conn);

  // Thread-safe.
  void publish(std::shared_ptr<const std::vector<UserId>> users, SharedFrame frame);
  void publish(UserId user, SharedFrame frame);
  // Sends `notice` to the device's connections and closes them.
  void disconnect_device(UserId user, DeviceId device, SharedFrame notice);

  // Closes every signed-in connection with "going away" after what is queued for it.
  void close_all();

  // Number of signed-in connections on a loop (call on that loop).
  std::size_t local_count(std::size_t loop) const;

 private:
  using Registry = std::unordered_map<UserId, std::vector<Connection*>>;
  std::vector<boost::asio::io_context*> loops_;
  std::vector<Registry> registries_;  // one per loop, touched only by that loop
};

}  // namespace modu
