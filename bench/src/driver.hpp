// The driver interface: what a scenario needs from a messaging protocol.
//
// A scenario only talks to `Client` objects made by a `Driver`, so the same scenario runs
// against Modu (WebSocket + JSON, drivers/modu_ws.cpp) and against the raw-TCP fan-out
// baseline (drivers/baseline_client.cpp). Every Client lives on one io_context thread and
// must be used from that thread only. Coroutine calls throw `BenchError` on failure;
// callback calls report failure through `Ack::ok == false`.
#pragma once
#include <utility>  // before Asio: Boost 1.74's awaitable.hpp needs std::exchange

#include <boost/asio/awaitable.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/address.hpp>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <stdexcept>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace bench {

using boost::asio::awaitable;

/// A failed operation: `code` is the protocol's error code or a local one
/// ("timeout", "closed", "connect", "protocol").
struct BenchError : std::runtime_error {
  std::string code;
  BenchError(std::string c, const std::string& msg) : std::runtime_error(msg), code(std::move(c)) {}
};

struct Endpoint {
  boost::asio::ip::address addr;
  uint16_t port = 0;
};

/// A pushed message (Modu `message.new`). Views are valid only during the callback.
struct MessageEvent {
  int64_t chat_id = 0;
  int64_t seq = 0;
  int64_t sender_id = 0;
  std::string_view client_id;
  std::string_view text;
  std::string_view kind;
  int64_t unread = -1;  // members who have not read it, when the server says (Modu)
};

/// A read-pointer change (Modu `chat.read`): one member's pointer, or (`user_id` 0, rooms
/// above Driver::read_pointers_up_to) the unread counts of the messages a batch of reads
/// changed. Views are valid only during the callback.
struct ReadEvent {
  int64_t chat_id = 0;
  int64_t user_id = 0;
  int64_t read_seq = 0;
  /// Messages with seq from steps[i].first up to the next step (the last to until_seq) have
  /// steps[i].second members who have not read them.
  std::span<const std::pair<int64_t, int64_t>> unread_steps;
  int64_t until_seq = 0;
};

/// Completion of a callback-style request. For sends, `seq` is the message's seq.
struct Ack {
  bool ok = false;
  int64_t seq = 0;
  std::string_view error;  // error code when !ok
};

struct Account {
  int64_t user_id = 0;
  std::string handle;
  std::string token;  // what resume() needs
};

struct ChatInfo {
  int64_t chat_id = 0;
  int64_t last_seq = 0;
};

/// A sync cursor: one position per shard of the server's store (one entry unless the store
/// is split into shards; docs/protocol.md, "Shards").
using SyncCursor = std::vector<int64_t>;

/// Text payload of a benchmark message: the intended send time in ns, then padding to `size`.
std::string make_text(int64_t send_ns, int size);
/// Parses the send time back out of a payload; 0 if it is not one of ours.
int64_t text_send_ns(std::string_view text);

/// A stored message as a history page gives it: what the checks need, nothing copied.
struct StoredMessage {
  int64_t seq = 0;
  int64_t sender_id = 0;
  int64_t sent_ns = 0;  // text_send_ns of its text: 0 if it is not a benchmark message
};

/// A chat in a sync page: its last_seq and, if the sync asked for them, the messages stored
/// since the cursor (docs/protocol.md, "Messages in the sync").
struct SyncedChat : ChatInfo {
  bool listed = false;                  // the summary carried `messages`
  std::vector<StoredMessage> messages;  // ascending: the chat's tail
};

struct SyncPage {
  SyncCursor pos;
  std::vector<SyncedChat> chats;
  bool has_more = false;
};

struct HistoryPage {
  std::vector<StoredMessage> messages;  // ascending by seq
  bool has_more = false;
};

struct ClientHandlers {
  std::function<void(const MessageEvent&)> on_message;
  std::function<void(const ReadEvent&)> on_read;
  /// The connection broke without close() being called.
  std::function<void(const std::string& why)> on_lost;
};

class Client {
 public:
  virtual ~Client() = default;

  /// TCP connect from `source` (port chosen by the kernel) plus the protocol handshake.
  virtual awaitable<void> connect(boost::asio::ip::address source) = 0;
  /// Creates an account and signs this connection in as its (first) device.
  virtual awaitable<Account> register_account(const std::string& handle) = 0;
  /// Signs this connection in as an existing device.
  virtual awaitable<void> resume(const Account& account) = 0;
  virtual awaitable<ChatInfo> open_direct(int64_t peer_user_id) = 0;
  virtual awaitable<ChatInfo> create_group(const std::vector<int64_t>& user_ids) = 0;
  virtual awaitable<ChatInfo> get_chat(int64_t chat_id) = 0;
  /// Makes this member receive the chat's messages. Servers with membership (Modu, the
  /// baseline) do that when the chat is created, so the default does nothing; MQTT subscribes.
  virtual awaitable<void> join(const ChatInfo&) { co_return; }
  /// One sync page from `since`; `messages_per_chat` > 0 asks for each chat's new messages.
  virtual awaitable<SyncPage> sync(const SyncCursor& since, int messages_per_chat) = 0;
  /// resume() and the first sync() page, in one round trip where the protocol allows it.
  virtual awaitable<SyncPage> resume_and_sync(const Account& account, const SyncCursor& since, int messages_per_chat) {
    co_await resume(account);
    co_return co_await sync(since, messages_per_chat);
  }
  /// after_seq < 0: the newest page.
  virtual awaitable<HistoryPage> history(int64_t chat_id, int64_t after_seq, int limit) = 0;
  /// Awaitable send (setup and back-fill); returns the seq.
  virtual awaitable<int64_t> send_wait(int64_t chat_id, std::string_view client_id, std::string_view text) = 0;

  /// Hot path: fire a send, `done` runs on the response (or with ok=false on loss/close).
  virtual void send(int64_t chat_id, std::string_view client_id, std::string_view text,
                    std::function<void(const Ack&)> done) = 0;
  virtual void mark_read(int64_t chat_id, int64_t seq, std::function<void(const Ack&)> done) = 0;
  virtual void ping(std::function<void(const Ack&)> done) = 0;

  /// Servers without sync (Driver::pushes_missed): signs in as the account's one lasting
  /// device, whose messages the server keeps while it is offline and pushes when it is back
  /// (MQTT: a persistent session; XMPP: offline storage). Sync-based servers: resume().
  virtual awaitable<void> resume_lasting(const Account& account) { co_await resume(account); }
  /// Goes offline as a device that will come back does, then closes (XMPP: unavailable
  /// presence first, so the server stores what arrives instead of holding it for a stream
  /// resumption; MQTT: DISCONNECT, keeping the session).
  virtual awaitable<void> go_offline() {
    close();
    co_return;
  }

  /// Closes at once (no goodbye). Outstanding callbacks complete with ok=false "closed".
  virtual void close() = 0;
  virtual bool is_open() const = 0;
  /// Requests sent but not yet answered.
  virtual size_t outstanding() const = 0;

  ClientHandlers handlers;
};

/// The rest of a Client::resume_and_sync that sent its sign-in ahead of `sync` without
/// waiting for the answer: awaits the sync, and reports the sign-in's failure
/// (`*resume_error`, filled in by its answer, empty when it succeeded) before the sync's,
/// which follows from it. `resume_op` names the sign-in in the error.
inline awaitable<SyncPage> sync_after_resume(std::shared_ptr<const std::string> resume_error, awaitable<SyncPage> sync,
                                             const char* resume_op) {
  std::optional<SyncPage> page;
  try {
    page = co_await std::move(sync);
  } catch (const BenchError&) {
    if (resume_error->empty()) throw;
  }
  if (!resume_error->empty()) throw BenchError(*resume_error, std::string(resume_op) + " failed: " + *resume_error);
  co_return std::move(*page);
}

class Driver {
 public:
  virtual ~Driver() = default;
  virtual std::string name() const = 0;
  /// Whether sync/history (reconnect, catch-up, history scenarios) are available.
  virtual bool has_history() const = 0;
  /// Whether the server numbers each chat's messages (seq). Without it (MQTT), delivery
  /// order and completeness are checked per sender from the client_id counters.
  virtual bool has_server_seq() const { return true; }
  /// Whether read pointers (mark_read / ReadEvent) exist.
  virtual bool has_reads() const { return true; }
  /// The largest room whose members learn each other's read pointers; bigger rooms get the
  /// messages' unread counts instead (Modu: rooms of more than 100).
  virtual size_t read_pointers_up_to() const { return SIZE_MAX; }
  /// Whether a device catches up by being pushed what it missed when it signs in again
  /// (MQTT, XMPP) rather than by sync + history (Modu): reconnect runs that way.
  virtual bool pushes_missed() const { return false; }
  /// Whether a sender receives its own message (Modu: yes; XMPP 1:1: no).
  virtual bool echoes_sender(bool /*group*/) const { return true; }
  virtual std::shared_ptr<Client> make_client(boost::asio::io_context& ioc, const Endpoint& target,
                                              double request_timeout_s) = 0;
};

std::unique_ptr<Driver> make_modu_driver();
std::unique_ptr<Driver> make_baseline_driver();
std::unique_ptr<Driver> make_mqtt_driver();
std::unique_ptr<Driver> make_xmpp_driver();
std::unique_ptr<Driver> make_driver(const std::string& name);

}  // namespace bench
