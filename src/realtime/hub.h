// The hub routes frames to the online devices of users.
//
// Each event loop keeps its own registry of signed-in connections (user -> connections).
// Publishing posts one task per loop carrying a shared, already-encoded frame: a group
// message is serialised once, and no lock guards the registries because each is touched
// only by its own loop. Frames published from one thread reach every connection in the
// order they were published (each loop runs posted tasks in order).
#pragma once

#include <boost/asio/io_context.hpp>

#include <functional>
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
  // Sends a frame to one connection (an answer); batched like publish.
  void send_to(std::shared_ptr<Connection> conn, SharedFrame frame);
  void publish(UserId user, SharedFrame frame);
  // Sends `notice` to the device's connections and closes them.
  void disconnect_device(UserId user, DeviceId device, SharedFrame notice);

  // Batching, for the thread that produces many frames at once (the store's committer):
  // between begin_batch and end_batch, frames published *from that thread* are collected
  // and then handed to each loop in one task, instead of one task (and possibly one wake-up)
  // per frame. Connections then also get all their frames of the batch in one write.
  // `shard`, `from` and `to`: the shard the batch committed to and its positions (store.h).
  void begin_batch(int shard = 0, Pos from = 0, Pos to = 0);
  void end_batch();

  // Several nodes: a batch's events (not its answers) go to `sink` instead of the loops;
  // the sink publishes them to the other nodes and delivers every node's batches here in
  // position order through `deliver_events`. Set before the first batch.
  struct Event {
    std::shared_ptr<const std::vector<UserId>> users;
    SharedFrame frame;
    DeviceId disconnect;  // set: send to that device of users[0], then close it
  };
  using BatchSink = std::function<void(int shard, Pos from, Pos to, std::vector<Event> events)>;
  void set_batch_sink(BatchSink sink) { sink_ = std::move(sink); }
  // Delivers events to this node's connections, each loop's share in one task. Thread-safe.
  void deliver_events(const std::vector<Event>& events);
  // Sends a frame to every signed-in connection of this node. Thread-safe.
  void broadcast(SharedFrame frame);

  // Closes every signed-in connection with "going away" after what is queued for it.
  void close_all();

  // Number of signed-in connections on a loop (call on that loop).
  std::size_t local_count(std::size_t loop) const;

 private:
  using Registry = std::unordered_map<UserId, std::vector<Connection*>>;
  std::vector<boost::asio::io_context*> loops_;
  std::vector<Registry> registries_;  // one per loop, touched only by that loop

  struct Delivery {
    std::shared_ptr<const std::vector<UserId>> users;  // to these users' connections, or
    std::shared_ptr<Connection> conn;                  // to this one connection
    SharedFrame frame;
    DeviceId disconnect;  // set: send to that device of users[0], then close it
  };
  void deliver(std::size_t loop, const Delivery& d);
  std::vector<std::vector<Delivery>> pending_;  // per loop; only the batching thread
  BatchSink sink_;
  std::vector<Event> batch_events_;  // with a sink; only the batching thread
  int batch_shard_ = 0;
  Pos batch_from_ = 0, batch_to_ = 0;
  static thread_local Hub* batching_;         // the hub this thread is batching for
};

}  // namespace modu
