// The storage contract.
//
// Services never see SQL: they read through `ReadView` and write through `WriteTx`, both
// expressed in the domain's nouns (records.h). The embedded SQLite store and the PostgreSQL
// store (shared by several nodes) implement it.
//
// Threading:
//  * `Store::reader()` returns a view bound to the calling thread (each thread gets its own
//    connection, created on first use). A view sees committed data only. Never share a
//    view between threads.
//  * Writes are jobs submitted with `Store::submit`. All jobs run on one committer thread,
//    many per transaction (group commit): each job runs inside its own savepoint, so a job
//    that fails leaves no trace, and the batch is committed with one durable sync. A job's
//    `done` callback runs on the committer thread after the commit (or the failure) and
//    must only hand work off (post to an event loop), never block.
//    Jobs of one shard run in submission order, and their `done` callbacks run in the same
//    order (jobs of different shards commit in separate transactions, see "Shards").
//  * The committer thread owns anything a job's `apply` touches besides the transaction;
//    that is how the chat engine keeps its in-memory chat state without locks.
//
// Shards: a store may be split into shards (ids.h), each a database of its own. A chat's
// messages, members and room records live on the chat's shard; a user's profile, devices,
// friend edges and saved nickname on the user's home shard. Each shard numbers its own
// positions, so a user's sync cursor is one position per shard (`Cursor`). A write job names
// the shard it writes (`WriteJob::placement`) and writes to that shard only; the committer
// runs each shard's jobs of a batch as one transaction of that shard. Reads go wherever the
// ids they are given live; reads keyed by something else (a handle, a token, a user's chat
// list) ask every shard and merge, so their cost grows with the number of shards, not with
// the data. The embedded store has one shard, 0.
//
// Errors: expected outcomes (absent rows, duplicates) are return values. A failure of the
// storage engine itself (I/O error, disk full, corruption) throws `StorageError`; the
// committer turns it into a failed job and the request layer into an `unavailable` error.
#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "modu/error.h"
#include "modu/ids.h"
#include "modu/open_rooms.h"
#include "modu/records.h"

namespace modu {

class StorageError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// A sync cursor: one position per shard, indexed by shard (a missing entry is 0).
using Cursor = std::vector<Pos>;
inline Pos cursor_at(const Cursor& cursor, int shard) {
  return shard < static_cast<int>(cursor.size()) ? cursor[static_cast<std::size_t>(shard)] : 0;
}

// A page cursor for a user's chat list: (last activity, chat id) of the last entry seen.
struct ChatListCursor {
  TimeMs last_activity_at = 0;
  ChatId chat;
};

class ReadView {
 public:
  virtual ~ReadView() = default;

  // How many shards the store has (see the file comment); 1 when it is not split.
  virtual int shard_count() { return 1; }
  // The shard that holds `user`'s own records.
  int home_shard(UserId user) { return shard_count() == 1 ? 0 : shard_of(user); }

  // The highest position of `shard` whose changes are all visible to this view.
  virtual Pos current_pos(int shard) = 0;
  Pos current_pos() { return current_pos(0); }

  // Pins one consistent snapshot for the reads between begin and end (use ReadSnapshot).
  // Without it each read sees the latest commit on its own.
  virtual void begin_snapshot() = 0;
  virtual void end_snapshot() = 0;

  // Users and credentials.
  virtual std::optional<UserRecord> user_by_id(UserId id) = 0;
  virtual std::optional<UserRecord> user_by_handle(std::string_view handle) = 0;
  virtual std::optional<UserCredentials> credentials_by_handle(std::string_view handle) = 0;
  virtual std::vector<UserRecord> users_by_ids(const std::vector<UserId>& ids) = 0;
  virtual std::vector<UserRecord> list_users(std::int64_t limit, UserId after) = 0;

  // Devices. `session_by_token_hash` finds live and revoked devices alike, each with its
  // user, in one read: signing in again after an outage is a herd of these.
  virtual std::optional<SessionRecord> session_by_token_hash(std::string_view token_hash) = 0;
  virtual std::optional<DeviceRecord> device_by_id(DeviceId id) = 0;
  virtual std::vector<DeviceRecord> devices_of(UserId user) = 0;

  // Friends (one-way edges owner -> friend), current ones only.
  virtual std::vector<UserRecord> friends_of(UserId owner) = 0;
  virtual bool is_friend(UserId owner, UserId other) = 0;
  // Users who have `user` on their friend list.
  virtual std::vector<UserId> friend_owners_of(UserId user) = 0;
  // Friends whose edge or profile changed in (since, until], removed edges included. The
  // cursors hold a position per shard: an edge changed at a position of the owner's home
  // shard, a profile at a position of the friend's home shard.
  virtual std::vector<FriendChange> friend_changes(UserId owner, const Cursor& since,
                                                   const Cursor& until) = 0;

  // Chats and membership.
  virtual std::optional<ChatRecord> chat(ChatId id) = 0;
  virtual std::optional<ChatId> chat_by_direct_key(std::string_view key) = 0;
  virtual std::optional<MemberRecord> membership(ChatId chat, UserId user) = 0;
  virtual std::vector<MemberRecord> active_members(ChatId chat) = 0;
  // The user's active chats, most recent activity first, strictly after `cursor` if given.
  virtual std::vector<ChatListEntry> chat_list(UserId user, std::int64_t limit,
                                               std::optional<ChatListCursor> cursor) = 0;
  // The user's chats on `shard` (active or left) whose state changed after `since` (a
  // position of that shard), by position, at most `limit`. Each entry's `me.pos` is the
  // chat's last change the user can see: for an active member of a wide chat, the later of
  // the membership's own position and the chat's.
  virtual std::vector<ChatListEntry> changed_chats(int shard, UserId user, Pos since,
                                                   std::int64_t limit) = 0;
  std::vector<ChatListEntry> changed_chats(UserId user, Pos since, std::int64_t limit) {
    return changed_chats(0, user, since, limit);
  }

  // Messages.
  virtual std::optional<MessageRecord> message(ChatId chat, Seq seq) = 0;
  // (In a write transaction of a split store: among the messages of the transaction's shard.)
  virtual std::optional<MessageRecord> message_by_client_id(UserId sender,
                                                            std::string_view client_id) = 0;
  // Up to `limit` messages with seq < before (newest first internally), returned ascending.
  virtual std::vector<MessageRecord> messages_before(ChatId chat, Seq before, std::int64_t limit) = 0;
  // Messages deleted, hidden or shown again after position `since`, with their current
  // state: the `limit` earliest changes, in the order of their positions.
  virtual std::vector<ModeratedMessage> moderated_since(ChatId chat, Pos since, std::int64_t limit) = 0;
  // Up to `limit` messages with seq > after, ascending.
  virtual std::vector<MessageRecord> messages_after(ChatId chat, Seq after, std::int64_t limit) = 0;
  // The newest messages stored after position `since`, at most `limit`, returned ascending:
  // a suffix of the chat, since a chat's positions grow with its seqs. Reads no more than
  // `limit` rows, however long the chat. Messages stored before positions were kept
  // (pos 0) count as stored before any position.
  virtual std::vector<MessageRecord> messages_since(ChatId chat, Pos since, std::int64_t limit) = 0;

  // Open chats and communities.
  virtual OpenRoomsView& open_rooms() = 0;

  // Administration.
  virtual StoreStats stats() = 0;
  // Returns a list of problems; empty when the store is consistent.
  virtual std::vector<std::string> check_integrity() = 0;
};

// Scoped consistent snapshot over a ReadView.
class ReadSnapshot {
 public:
  explicit ReadSnapshot(ReadView& view) : view_(view) { view_.begin_snapshot(); }
  ReadSnapshot(const ReadSnapshot&) = delete;
  ReadSnapshot& operator=(const ReadSnapshot&) = delete;
  ~ReadSnapshot() { view_.end_snapshot(); }

 private:
  ReadView& view_;
};

// Writes, visible to reads through the same transaction before commit.
class WriteTx : public ReadView {
 public:
  // The shard this transaction writes (its job's placement).
  virtual int shard() const { return 0; }
  // Hands out the next position of the transaction's shard. Positions of a rolled-back job
  // are skipped.
  virtual Pos next_pos() = 0;

  virtual UserId insert_user(const UserRecord& user, std::string_view password_hash) = 0;
  virtual void update_profile(const UserRecord& user) = 0;

  // Deletes the account's content: blank profile, freed handle, no password, no sessions.
  virtual void scrub_user(UserId user, Pos pos) = 0;

  virtual DeviceId insert_device(const DeviceRecord& device, std::string_view token_hash) = 0;
  virtual bool revoke_device(UserId user, DeviceId device) = 0;
  virtual void touch_device(DeviceId device, TimeMs now) = 0;

  // Adds or re-adds the edge; returns false if it was already current.
  virtual bool add_friend(UserId owner, UserId other, Pos pos, TimeMs now) = 0;
  virtual bool remove_friend(UserId owner, UserId other, Pos pos) = 0;
  // Marks every edge pointing at `user` as changed (a profile update).
  virtual void touch_friend_edges_to(UserId user, Pos pos) = 0;

  virtual ChatId insert_chat(const ChatRecord& chat, std::optional<std::string_view> direct_key) = 0;
  virtual void update_chat_title(ChatId chat, std::string_view title) = 0;
  // Records the chat's newest message and activity, and `pos`, its last change (any kind:
  // message, read pointer, membership, settings), which tells other writers sharing the
  // database which cached chats are stale (CommitHooks::forget_chats).
  virtual void update_chat_last(ChatId chat, Seq last_seq, TimeMs last_activity_at, Pos pos) = 0;
  // Inserts or reactivates a membership (every field of the record is written). In a wide
  // chat the membership follows the chat's position from then on.
  virtual void upsert_member(const MemberRecord& member) = 0;
  virtual void set_member_left(ChatId chat, UserId user, Pos pos) = 0;
  virtual void set_read_seq(ChatId chat, UserId user, Seq read_seq) = 0;
  // Makes the chat wide or narrow. A wide chat's changes need only update_chat_last: its
  // active members see the chat's position (changed_chats), so a change rewrites one row
  // instead of one per member. A narrow chat's changes must also touch_members. Making a
  // chat narrow first gives each active membership the chat's position, so nothing a
  // member has not seen is lost.
  virtual void set_chat_wide(ChatId chat, bool wide) = 0;
  // Sets `pos` on every active membership of the chat.
  virtual void touch_members(ChatId chat, Pos pos) = 0;
  // touch_members, and set_read_seq for each of `reads` (active members of the chat), in one
  // pass over the chat's memberships where the store can: a send moves the sender's read
  // pointer and every member's position, so each membership row is rewritten once, not twice.
  // A store may write the first few pointers in that pass and the rest one by one.
  virtual void touch_members_and_reads(ChatId chat, Pos pos, std::span<const MemberReadSeq> reads) {
    for (const MemberReadSeq& r : reads) set_read_seq(chat, r.user, r.read_seq);
    touch_members(chat, pos);
  }

  // Stores the message. Its sender's client_id must be new (a taken one is a StorageError).
  virtual void insert_message(const MessageRecord& message) = 0;
  // Stores the message and returns true, unless its sender already stored one with the same
  // client_id (a send's retry): then it writes nothing and returns false, and
  // message_by_client_id finds the earlier one. A store may decide that with the key's
  // unique index as it inserts, instead of a lookup first.
  virtual bool insert_message_once(const MessageRecord& message) {
    if (message_by_client_id(message.sender, message.client_id)) return false;
    insert_message(message);
    return true;
  }
  virtual void mark_message_deleted(ChatId chat, Seq seq, Pos pos) = 0;
  virtual void set_message_hidden(ChatId chat, Seq seq, bool hidden, Pos pos) = 0;

  OpenRoomsTx& open_rooms() override = 0;
};

// A message's idempotency key: its sender and the client's id for it.
struct ClientKey {
  UserId sender;
  std::string client_id;
};

struct WriteJob {
  // Runs on the committer thread inside the batch transaction, in its own savepoint
  // (but see checks_before_writing). A returned error rolls back the savepoint and fails
  // only this job; it must be returned before the job changes any state outside the
  // transaction (caches). Any exception (a StorageError, or a bug) aborts and fails the
  // whole batch, and the `after_abort` hook tells the owners of in-memory state to drop it.
  std::function<Status(WriteTx&)> apply;
  // Runs on the committer thread once the outcome is durable (or definitely failed).
  std::function<void(const Status&)> done;
  // Any id (user, chat, device, or a `Store::new_user_placement`) on the shard this job
  // writes to; 0 is shard 0. Writing a row of another shard is a bug (StorageError).
  std::int64_t placement = 0;
  // The key the job will look up with `message_by_client_id`, or store with
  // `insert_message_once`, if any (a send). A store may read the keys of a whole batch in
  // one statement before the batch takes its position lock, instead of one round trip per
  // job while holding it. A message with the key stored by another writer in between still
  // cannot be stored twice (the key is unique): the batch then fails with `unavailable`, and
  // the retry finds the message.
  std::optional<ClientKey> client_key;
  // The job returns any error before its first change to the transaction (a send checks
  // membership and its arguments, then writes). A store may then run it without a
  // savepoint of its own, which spares a copy of every page the job changes. Should such a
  // job return an error after a change all the same, the store fails the whole batch, as
  // for an exception, so nothing half-applied commits.
  bool checks_before_writing = false;
};

// Hooks the owner of committer-thread state registers with the store.
struct CommitHooks {
  // Called once per batch, inside the transaction, after all jobs and before COMMIT.
  std::function<void(WriteTx&)> before_commit;
  // Called when a batch failed to commit: in-memory state derived from it is stale.
  std::function<void()> after_abort;
  // Called at the start of a batch, inside its transaction, with the chats that other
  // writers sharing the database changed since this store's previous batch (only stores
  // that several nodes share call it): in-memory state of those chats is stale.
  std::function<void(const std::vector<ChatId>&)> forget_chats;
  // Called on the committer thread before and after the batch's `done` callbacks run
  // (whether the batch committed or failed), so their effects can be sent as one batch.
  // `shard` is the shard the batch wrote (a split store commits one batch per shard), and
  // `from` and `to` bound the positions it committed there, (from, to]; a shard's batches
  // chain: each starts where the previous committed one ended, across every writer of the
  // database (a failed batch reports from == to).
  std::function<void(int shard, Pos from, Pos to)> before_done;
  std::function<void()> after_done;
  // Observes each committed batch (for metrics).
  std::function<void(std::size_t jobs, double commit_seconds)> after_commit;
};

// What a store's cache of recent messages did (storage/recent_messages.h), for /metrics.
struct RecentMessagesStats {
  std::int64_t hits = 0;    // messages_since answered from memory
  std::int64_t misses = 0;  // … left to the database
  std::int64_t chats = 0;
  std::int64_t messages = 0;
  std::int64_t bytes = 0;   // estimated, as counted against the budget
};

class Store {
 public:
  virtual ~Store() = default;

  // The calling thread's read view. Thread-safe; the view is not.
  virtual ReadView& reader() = 0;

  // Queues a write job. Thread-safe. After `stop()`, jobs fail with `unavailable`.
  virtual void submit(WriteJob job) = 0;

  // Must be called before the first `submit`; not thread-safe.
  virtual void set_hooks(CommitHooks hooks) = 0;

  // Finishes queued jobs, then stops the committer thread. Idempotent.
  virtual void stop() = 0;

  // Number of jobs waiting (for metrics and back-pressure).
  virtual std::size_t queued() const = 0;

  // The placement (WriteJob::placement) of the job that creates an account with `handle`:
  // the new user's home shard. Thread-safe.
  virtual std::int64_t new_user_placement(std::string_view /*handle*/) const { return 0; }

  // Why the store cannot serve now (its database is unreachable), for readiness checks;
  // empty while it can. Thread-safe.
  virtual std::string unavailable_reason() const { return ""; }

  // The cache of recent messages, if the store keeps one. Thread-safe.
  virtual RecentMessagesStats recent_messages() const { return {}; }
};

// Runs `task` on a thread of the caller's choosing (an event loop), no sooner than `at`.
// Thread-safe, and it must not run `task` inside the call. Tasks may run in any order and
// on any thread: the store runs its batches one at a time and in submission order itself.
using CommitScheduler =
    std::function<void(std::chrono::steady_clock::time_point at, std::function<void()> task)>;

struct SqliteOptions {
  std::string directory;         // created if missing (see create_if_missing)
  bool synchronous_full = true;  // fsync every commit; off only for throwaway benchmarks
  std::size_t max_batch = 4096;  // jobs per transaction
  // A commit starts no sooner than this after the previous one started. A commit costs
  // about the same whatever it holds (its sync above all), so while writes keep coming
  // they gather into fewer, larger commits; a write after a quiet spell this long is
  // committed at once. Zero commits every batch as soon as the last one is done.
  std::chrono::microseconds commit_interval{1000};
  // Where commits run. Empty: on the store's own committer thread. Set: as tasks given to
  // this scheduler (`modu serve --committer loop` commits on its first event loop, between
  // its reads; docs/benchmarks.md, entry 34). The committer-thread contract above then
  // holds for the scheduler's thread: jobs run there, one batch at a time, and so do their
  // `done` callbacks and the hooks. `stop()` runs what is still queued on the calling
  // thread; tasks that run after the store was destroyed do nothing.
  CommitScheduler commit_scheduler;
  // Memory for the newest messages of recently written chats, from which `messages_since`
  // answers a catching-up device without reading the database (storage/recent_messages.h).
  // 0 keeps none.
  std::size_t recent_messages_bytes = std::size_t{256} << 20;
  // Holds the directory's lock while open, so that no other process's store writes it
  // (storage/sqlite/directory_lock.h). Off only for `modu admin`'s reading commands, which
  // may run beside a server.
  bool lock_directory = true;
  // Off: opening fails (kInvalidState) unless the directory already holds a Modu database, so
  // that `modu admin`'s reading commands given a mistyped --data report it instead of
  // creating an empty store there and counting nothing.
  bool create_if_missing = true;
  // The keys of new messages the timeline's tail keeps before the committer files them into
  // the timeline, a slice per batch (schema v9, docs/ARCHITECTURE.md). Tests set 0 to file
  // everything at every commit.
  std::int64_t timeline_tail_rows = 8192;
};

// Opens (and migrates) the embedded store in `options.directory`. Fails with kUnavailable
// if another process holds the directory's lock.
Result<std::unique_ptr<Store>> open_sqlite_store(const SqliteOptions& options);

// The embedded database's size before and after `compact_sqlite_store`.
struct CompactReport {
  std::int64_t bytes_before = 0;
  std::int64_t free_bytes_before = 0;  // of bytes_before: free pages, which it gives back
  std::int64_t bytes_after = 0;
};

// What `compact_sqlite_store` tells its caller while it runs. Either may be empty.
struct CompactProgress {
  // Once, with the sizes before the rewrite begins, unless there is nothing to give back.
  std::function<void(const CompactReport&)> starting;
  // As the new file grows: the bytes written so far, of about `expected` (the pages kept).
  // `written` only grows, and may end a little below `expected`, as the rewrite packs the
  // indexes' pages tighter.
  std::function<void(std::int64_t written, std::int64_t expected)> copied;
};

// Rewrites the embedded store in `directory` without its free pages, so that the file gives
// back the space an upgrade or deleted rows left behind. The copy (SQLite's VACUUM INTO) is
// written beside the database as `modu.db.new`, synced, and then renamed over it, so an
// interrupted run leaves the database as it was (the next run removes the leftover copy).
// Needs free disk for the pages it keeps. Takes the directory's lock, so it fails with
// kUnavailable while a server runs there, and with kInvalidState where there is no database.
Result<CompactReport> compact_sqlite_store(const std::string& directory, const CompactProgress& progress);

struct PostgresOptions {
  std::string dsn;               // libpq connection string or URI (postgres://user@host:port/db)
  // More databases, shards 1, 2, … of the shard map (shard 0 is `dsn`). Shards are only ever
  // appended: each database records its number and refuses to serve as another one.
  std::vector<std::string> more_shards;
  std::size_t max_batch = 4096;  // jobs per transaction (per shard)
};

// Opens (and migrates) a store in a PostgreSQL database, which several `modu serve` nodes
// may share: each batch locks the stored position, so positions stay in commit order across
// nodes, and each node is told (CommitHooks::forget_chats) which chats the others changed.
// Commits are durable (synchronous_commit on). While the database is unreachable, reads
// throw StorageError, batches fail with `unavailable`, the committer reconnects with
// backoff, and `unavailable_reason()` says why.
Result<std::unique_ptr<Store>> open_postgres_store(const PostgresOptions& options);

}  // namespace modu
