// The hub routes frames to the online devices of users.
//
// Each event loop keeps its own registry of signed-in connections (user -> connections).
// Publishing posts one task per loop carrying a shared, already-encoded frame: a group
// message is serialised once, and no lock guards the registries because each is touched
// only by its own loop. Frames published from one thread reach every connection in the
// order they were published (each loop runs posted tasks in order). Each loop's LoopWriter
// writes what the loop's tasks delivered (realtime/loop_writer.h).
#pragma once

#include <boost/asio/io_context.hpp>

#include <functional>
#include <memory>
#include <unordered_map>
#include <vector>

#include "modu/ids.h"
#include "protocol/frames.h"
#include "realtime/connection.h"
#include "realtime/loop_writer.h"

namespace modu {

class Hub {
 public:
  // One writer per event loop, each living as long as the hub uses it.
  explicit Hub(std::vector<LoopWriter*> loops);

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

  // An event that later events of the same key may absorb (read receipts: one frame per
  // chat per batch instead of one per read). Outside a batch it is sent at once, alone.
  class Mergeable {
   public:
    virtual ~Mergeable() = default;
    // The frame that stands for `parts` (in publish order; `*this` is the last of them).
    virtual SharedFrame merged_frame(const std::vector<std::shared_ptr<const Mergeable>>& parts) const = 0;
  };
  struct MergeKey {
    int kind;          // what the parts are (one number per kind of Mergeable)
    std::int64_t id;   // which of them merge (for read receipts, the chat)
    bool operator==(const MergeKey&) const = default;
  };
  // Within a batch, every earlier part published under `key` is withdrawn and one frame built
  // from all parts goes out at this part's place in the order, to `users` (the last part's
  // audience). Events reach a connection in position order, and the merged frame carries the
  // last part's position: a device that misses it has not passed that position either, and
  // catches up by sync.
  void publish_merged(MergeKey key, std::shared_ptr<const std::vector<UserId>> users,
                      std::shared_ptr<const Mergeable> part);

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
  std::vector<LoopWriter*> loops_;
  std::vector<Registry> registries_;  // one per loop, touched only by that loop

  struct Delivery {
    std::shared_ptr<const std::vector<UserId>> users;  // to these users' connections, or
    std::shared_ptr<Connection> conn;                  // to this one connection
    SharedFrame frame;
    DeviceId disconnect;  // set: send to that device of users[0], then close it
  };
  // Inside a batch, queues `d` for the loop's task at the end of the batch; otherwise posts
  // a task of its own that delivers and writes it.
  void route(std::size_t loop, Delivery d);
  // Runs on `loop`: hands `d.frame` to its connections, held by the loop's writer; the
  // task then calls its `write`.
  void deliver(std::size_t loop, const Delivery& d);
  std::vector<std::vector<Delivery>> pending_;  // per loop; only the batching thread
  BatchSink sink_;
  std::vector<Event> batch_events_;  // with a sink; only the batching thread

  // The batch's mergeable parts by key, and where the frame standing for them will go.
  struct MergeKeyHash {
    std::size_t operator()(const MergeKey& k) const noexcept {
      return std::hash<std::int64_t>()(k.id) * 31 + std::size_t(k.kind);
    }
  };
  struct Merging {
    std::vector<std::shared_ptr<const Mergeable>> parts;
    std::vector<std::size_t> slots;  // per loop, or one slot in batch_events_ with a sink
  };
  std::unordered_map<MergeKey, Merging, MergeKeyHash> merging_;  // only the batching thread
  void fill_merged_frames();
  int batch_shard_ = 0;
  Pos batch_from_ = 0, batch_to_ = 0;
  static thread_local Hub* batching_;         // the hub this thread is batching for
};

}  // namespace modu
