// Submitting a write job on behalf of a request.
//
// `submit_write` runs `apply` on the committer thread inside the batch transaction. The
// job records what to announce in `Effects`; only after the batch has committed are the
// events published (in commit order) and the request answered with the job's result.
// If the job or its batch fails, nothing is published and the request gets the error.
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "services/router.h"

namespace modu {

class Effects {
 public:
  void publish(std::shared_ptr<const std::vector<UserId>> to, SharedFrame frame) {
    events_.push_back(Event{std::move(to), std::move(frame), DeviceId()});
  }
  void publish(UserId to, SharedFrame frame) {
    publish(std::make_shared<const std::vector<UserId>>(1, to), std::move(frame));
  }
  // An event that later ones of the same key in the batch absorb (Hub::publish_merged).
  void publish_merged(Hub::MergeKey key, std::shared_ptr<const std::vector<UserId>> to,
                      std::shared_ptr<const Hub::Mergeable> part) {
    events_.push_back(Event{std::move(to), nullptr, DeviceId(), key, std::move(part)});
  }
  // Sends `notice` to the device's connections and closes them.
  void disconnect(UserId user, DeviceId device, SharedFrame notice) {
    events_.push_back(Event{std::make_shared<const std::vector<UserId>>(1, user), std::move(notice), device});
  }
  void count_stored_message() { ++messages_stored_; }

  // Called by submit_write after the commit, on the committer thread.
  void deliver(Hub& hub, Metrics& metrics) const;

 private:
  struct Event {
    std::shared_ptr<const std::vector<UserId>> to;
    SharedFrame frame;
    DeviceId disconnect_device;  // set: close that device's connections after the frame
    Hub::MergeKey merge_key{};
    std::shared_ptr<const Hub::Mergeable> part;  // set: a mergeable event instead of `frame`
  };
  std::vector<Event> events_;
  int messages_stored_ = 0;
};

// The shard a write job writes to (store.h, WriteJob::placement), named by a user or chat
// on it, or by any other id of a record there.
struct Placement {
  Placement(UserId user) : id(user.value) {}  // NOLINT: implicit, reads well at call sites
  Placement(ChatId chat) : id(chat.value) {}  // NOLINT
  static Placement of_id(std::int64_t id) { return Placement(id); }
  std::int64_t id;

 private:
  explicit Placement(std::int64_t raw) : id(raw) {}
};

// `apply` returns the JSON result for the reply, or an error (returned before it changed
// anything but the transaction; see WriteJob).
using WriteFn = std::function<Result<std::string>(WriteTx&, Effects&)>;

// After the commit, publishes the effects, then answers with the result, or hands the
// result to `after` (which must answer) when given.
using AfterFn = std::function<void(const Reply&, const std::string& result)>;
// What a job may tell the store beyond its function (WriteJob's fields of the same names).
struct WriteHints {
  std::optional<ClientKey> client_key;  // the idempotency key `apply` looks up, for a send
  bool checks_before_writing = false;   // `apply` returns any error before its first change
};
void submit_write(Services& services, Reply reply, Placement placement, WriteFn apply,
                  AfterFn after = nullptr, WriteHints hints = {});

// A write nobody waits for (timers, housekeeping): `apply` runs like a request's job and
// its effects are published after the commit; a failure is logged and dropped.
using UnansweredWriteFn = std::function<void(WriteTx&, Effects&)>;
void submit_unanswered_write(Services& services, Placement placement, UnansweredWriteFn apply);

}  // namespace modu
