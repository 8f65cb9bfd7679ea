// The PostgreSQL store: one writer connection in pipeline mode driven by a committer thread
// (group commit, like the embedded store), and one connection per reading thread.
//
// Several nodes may share one database. Each batch starts by locking the `meta.pos` row
// (SELECT … FOR UPDATE), which serialises the batches of every node: commit order is
// position order, and a batch's positions continue from the value it locked. When that
// value is not the one this node last committed, another node wrote in between, and the
// chats it changed (chats.pos beyond ours) are reported through CommitHooks::forget_chats.
//
// Shards (store.h): with `more_shards`, the store is a map of databases, shard 0 being
// `dsn`. Each database records its number (schema.cc) and numbers its ids from its own
// range (ids.h). There is still one committer thread (the chat engine relies on one writer
// thread), with one writer connection, one `meta.pos` and one committed position per shard:
// a batch is split by the shard of each job's placement, and each shard's part runs as one
// transaction of that shard exactly as above, the shards one after another (never holding
// two position locks at once, which could deadlock nodes across databases). Jobs see a
// routed transaction (RoutedTx) and threads a routed view (RoutedReadView, routed.h). With
// one database none of that is built: jobs and threads get the single-database classes.
#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <deque>
#include <functional>
#include <mutex>
#include <sstream>
#include <thread>
#include <unordered_set>

#include "common/thread_name.h"
#include "modu/store.h"
#include "storage/changed_chats.h"
#include "storage/postgres/open_rooms_store.h"
#include "storage/postgres/pg_db.h"
#include "storage/postgres/records_io.h"
#include "storage/postgres/routed.h"
#include "storage/postgres/schema.h"

namespace modu {
namespace pg {
namespace {

#define USER_COLS MODU_PG_USER_COLS
#define DEVICE_COLS "id, user_id, kind, name, created_at, last_seen_at, revoked"
constexpr int kDeviceCols = 7;  // columns of DEVICE_COLS, for rows that continue with a user
#define CHAT_COLS MODU_PG_CHAT_COLS
#define MEMBER_COLS MODU_PG_MEMBER_COLS
#define MESSAGE_COLS \
  "chat_id, seq, client_id, sender_id, kind, text, reply_to, created_at, deleted, hidden, pos"

DeviceRecord read_device(const Rows& r) {
  DeviceRecord d;
  d.id = DeviceId(r.int64(0));
  d.user = UserId(r.int64(1));
  d.kind = parse_device_kind(r.text(2)).value_or(DeviceKind::kWeb);
  d.name = r.text(3);
  d.created_at = r.int64(4);
  d.last_seen_at = r.int64(5);
  d.revoked = r.boolean(6);
  return d;
}

MessageRecord read_message(const Rows& r) {
  MessageRecord m;
  m.chat = ChatId(r.int64(0));
  m.seq = r.int64(1);
  m.client_id = r.text(2);
  m.sender = UserId(r.int64(3));
  m.kind = parse_message_kind(r.text(4)).value_or(MessageKind::kText);
  m.text = r.text(5);
  m.reply_to = r.int64(6);
  m.created_at = r.int64(7);
  m.deleted = r.boolean(8);
  m.hidden = r.boolean(9);
  m.pos = r.int64(10);
  return m;
}

// All reads, shared by the read views and the write transaction.
template <class Base>
class Reads : public Base {
 public:
  explicit Reads(Conn& db) : db_(db) {}

  Conn& conn() { return db_; }

  using Base::changed_chats;
  using Base::current_pos;

  Pos current_pos(int /*shard: one here*/) override {
    auto r = db_.query("SELECT value FROM meta WHERE key = 'pos'");
    return r.next() ? r.int64(0) : 0;
  }

  void begin_snapshot() override {
    if (snapshot_depth_ == 0) db_.exec("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY");
    ++snapshot_depth_;
  }
  // Never throws (ReadSnapshot calls it from a destructor): a snapshot on a lost
  // connection has nothing left to end.
  void end_snapshot() override {
    if (--snapshot_depth_ != 0) return;
    try {
      db_.exec("COMMIT");
    } catch (const StorageError& e) {
      spdlog::warn("ending a read snapshot: {}", e.what());
    }
  }

  std::optional<UserRecord> user_by_id(UserId id) override {
    auto r = db_.query("SELECT " USER_COLS " FROM users WHERE id = $1", Params().add(id.value));
    if (!r.next()) return std::nullopt;
    return read_user(r);
  }

  std::optional<UserRecord> user_by_handle(std::string_view handle) override {
    auto r = db_.query("SELECT " USER_COLS " FROM users WHERE handle = $1", Params().add(handle));
    if (!r.next()) return std::nullopt;
    return read_user(r);
  }

  std::optional<UserCredentials> credentials_by_handle(std::string_view handle) override {
    auto r = db_.query("SELECT id, password_hash FROM users WHERE handle = $1", Params().add(handle));
    if (!r.next()) return std::nullopt;
    return UserCredentials{UserId(r.int64(0)), r.text(1)};
  }

  std::vector<UserRecord> users_by_ids(const std::vector<UserId>& ids) override {
    std::vector<UserRecord> out;
    out.reserve(ids.size());
    for (UserId id : ids)
      if (auto u = user_by_id(id)) out.push_back(std::move(*u));
    return out;
  }

  std::vector<UserRecord> list_users(std::int64_t limit, UserId after) override {
    auto r = db_.query("SELECT " USER_COLS " FROM users WHERE id > $1 ORDER BY id LIMIT $2",
                       Params().add(after.value).add(limit));
    std::vector<UserRecord> out;
    while (r.next()) out.push_back(read_user(r));
    return out;
  }

  std::optional<SessionRecord> session_by_token_hash(std::string_view token_hash) override {
    auto r = db_.query(
        "SELECT d.id, d.user_id, d.kind, d.name, d.created_at, d.last_seen_at, d.revoked, "
        "u.id, u.handle, u.display_name, u.status_message, u.avatar, u.created_at, u.profile_pos "
        "FROM devices d JOIN users u ON u.id = d.user_id WHERE d.token_hash = $1",
        Params().add_bytes(token_hash));
    if (!r.next()) return std::nullopt;
    return SessionRecord{read_device(r), read_user(r, kDeviceCols)};
  }

  std::optional<DeviceRecord> device_by_id(DeviceId id) override {
    auto r = db_.query("SELECT " DEVICE_COLS " FROM devices WHERE id = $1", Params().add(id.value));
    if (!r.next()) return std::nullopt;
    return read_device(r);
  }

  std::vector<DeviceRecord> devices_of(UserId user) override {
    auto r = db_.query("SELECT " DEVICE_COLS " FROM devices WHERE user_id = $1 AND revoked = 0 ORDER BY id",
                       Params().add(user.value));
    std::vector<DeviceRecord> out;
    while (r.next()) out.push_back(read_device(r));
    return out;
  }

  std::vector<UserRecord> friends_of(UserId owner) override {
    // Ordered by bytes (COLLATE "C"), as the embedded store orders text.
    auto r = db_.query(
        "SELECT u.id, u.handle, u.display_name, u.status_message, u.avatar, u.created_at, "
        "u.profile_pos FROM friends f JOIN users u ON u.id = f.friend_id "
        "WHERE f.owner_id = $1 AND f.active = 1 ORDER BY u.display_name COLLATE \"C\", u.id",
        Params().add(owner.value));
    std::vector<UserRecord> out;
    while (r.next()) out.push_back(read_user(r));
    return out;
  }

  bool is_friend(UserId owner, UserId other) override {
    auto r = db_.query("SELECT 1 FROM friends WHERE owner_id = $1 AND friend_id = $2 AND active = 1",
                       Params().add(owner.value).add(other.value));
    return r.next();
  }

  std::vector<UserId> friend_owners_of(UserId user) override {
    auto r = db_.query("SELECT owner_id FROM friends WHERE friend_id = $1 AND active = 1",
                       Params().add(user.value));
    std::vector<UserId> out;
    while (r.next()) out.push_back(UserId(r.int64(0)));
    return out;
  }

  std::vector<FriendChange> friend_changes(UserId owner, const Cursor& since_at,
                                           const Cursor& until_at) override {
    Pos since = cursor_at(since_at, 0), until = cursor_at(until_at, 0);
    auto r = db_.query(
        "SELECT u.id, u.handle, u.display_name, u.status_message, u.avatar, u.created_at, "
        "u.profile_pos, f.active FROM friends f JOIN users u ON u.id = f.friend_id "
        "WHERE f.owner_id = $1 AND f.pos > $2 AND f.pos <= $3 ORDER BY f.pos",
        Params().add(owner.value).add(since).add(until));
    std::vector<FriendChange> out;
    while (r.next()) out.push_back(FriendChange{read_user(r), !r.boolean(7)});
    return out;
  }

  std::optional<ChatRecord> chat(ChatId id) override {
    auto r = db_.query("SELECT " CHAT_COLS " FROM chats c WHERE c.id = $1", Params().add(id.value));
    if (!r.next()) return std::nullopt;
    return read_chat(r);
  }

  std::optional<ChatId> chat_by_direct_key(std::string_view key) override {
    auto r = db_.query("SELECT id FROM chats WHERE direct_key = $1", Params().add(key));
    if (!r.next()) return std::nullopt;
    return ChatId(r.int64(0));
  }

  std::optional<MemberRecord> membership(ChatId chat, UserId user) override {
    // (also the row of a member who left: their room identity outlives the membership)
    auto r = db_.query("SELECT " MEMBER_COLS " FROM members m WHERE m.chat_id = $1 AND m.user_id = $2",
                       Params().add(chat.value).add(user.value));
    if (!r.next()) return std::nullopt;
    return read_member(r);
  }

  std::vector<MemberRecord> active_members(ChatId chat) override {
    auto r = db_.query("SELECT " MEMBER_COLS
                       " FROM members m WHERE m.chat_id = $1 AND m.active = 1 ORDER BY m.user_id",
                       Params().add(chat.value));
    std::vector<MemberRecord> out;
    while (r.next()) out.push_back(read_member(r));
    return out;
  }

  std::vector<ChatListEntry> chat_list(UserId user, std::int64_t limit,
                                       std::optional<ChatListCursor> cursor) override {
    auto r = db_.query(
        "SELECT " CHAT_COLS ", " MEMBER_COLS " FROM members m JOIN chats c ON c.id = m.chat_id "
        "WHERE m.user_id = $1 AND m.active = 1 AND ($2 = 0 OR (c.last_activity_at, c.id) < ($3, $4)) "
        "ORDER BY c.last_activity_at DESC, c.id DESC LIMIT $5",
        Params()
            .add(user.value)
            .add(cursor ? 1 : 0)
            .add(cursor ? cursor->last_activity_at : 0)
            .add(cursor ? cursor->chat.value : 0)
            .add(limit));
    std::vector<ChatListEntry> out;
    while (r.next()) out.push_back(ChatListEntry{read_chat(r, 0), read_member(r, kChatCols)});
    return out;
  }

  std::vector<ChatListEntry> changed_chats(int /*shard: one here*/, UserId user, Pos since,
                                           std::int64_t limit) override {
    // Memberships that carry their own position, in the order of the (user_id, pos) index;
    // then those that follow their wide chat's position, by the partial index of those.
    auto own = db_.query(
        "SELECT " CHAT_COLS ", " MEMBER_COLS " FROM members m JOIN chats c ON c.id = m.chat_id "
        "WHERE m.user_id = $1 AND m.pos > $2 AND m.via_chat = 0 ORDER BY m.pos LIMIT $3",
        Params().add(user.value).add(since).add(limit));
    std::vector<ChatListEntry> mine;
    while (own.next()) mine.push_back(ChatListEntry{read_chat(own, 0), read_member(own, kChatCols)});
    auto wide = db_.query(
        "SELECT " CHAT_COLS ", " MEMBER_COLS ", GREATEST(m.pos, c.pos) AS seen FROM members m "
        "JOIN chats c ON c.id = m.chat_id WHERE m.user_id = $1 AND m.via_chat = 1 "
        "AND GREATEST(m.pos, c.pos) > $2 ORDER BY seen LIMIT $3",
        Params().add(user.value).add(since).add(limit));
    std::vector<ChatListEntry> followed;
    while (wide.next()) {
      ChatListEntry& e = followed.emplace_back(ChatListEntry{read_chat(wide, 0), read_member(wide, kChatCols)});
      e.me.pos = wide.int64(kChatCols + kMemberCols);
    }
    return storage::merge_changed_chats(std::move(mine), std::move(followed), limit);
  }

  std::optional<MessageRecord> message(ChatId chat, Seq seq) override {
    auto r = db_.query("SELECT " MESSAGE_COLS " FROM messages WHERE chat_id = $1 AND seq = $2",
                       Params().add(chat.value).add(seq));
    if (!r.next()) return std::nullopt;
    return read_message(r);
  }

  std::optional<MessageRecord> message_by_client_id(UserId sender, std::string_view client_id) override {
    auto r = db_.query("SELECT " MESSAGE_COLS " FROM messages WHERE sender_id = $1 AND client_id = $2",
                       Params().add(sender.value).add(client_id));
    if (!r.next()) return std::nullopt;
    return read_message(r);
  }

  std::vector<MessageRecord> messages_before(ChatId chat, Seq before, std::int64_t limit) override {
    auto r = db_.query("SELECT " MESSAGE_COLS
                       " FROM messages WHERE chat_id = $1 AND seq < $2 ORDER BY seq DESC LIMIT $3",
                       Params().add(chat.value).add(before).add(limit));
    std::vector<MessageRecord> out;
    while (r.next()) out.push_back(read_message(r));
    std::reverse(out.begin(), out.end());
    return out;
  }

  std::vector<ModeratedMessage> moderated_since(ChatId chat, Pos since, std::int64_t limit) override {
    auto r = db_.query("SELECT seq, deleted, hidden, deleted_pos FROM messages WHERE chat_id = $1 "
                       "AND deleted_pos != 0 AND deleted_pos > $2 ORDER BY deleted_pos LIMIT $3",
                       Params().add(chat.value).add(since).add(limit));
    std::vector<ModeratedMessage> out;
    while (r.next()) out.push_back(ModeratedMessage{r.int64(0), r.boolean(1), r.boolean(2), r.int64(3)});
    return out;
  }

  std::vector<MessageRecord> messages_after(ChatId chat, Seq after, std::int64_t limit) override {
    auto r = db_.query("SELECT " MESSAGE_COLS
                       " FROM messages WHERE chat_id = $1 AND seq > $2 ORDER BY seq LIMIT $3",
                       Params().add(chat.value).add(after).add(limit));
    std::vector<MessageRecord> out;
    while (r.next()) out.push_back(read_message(r));
    return out;
  }

  std::vector<MessageRecord> messages_since(ChatId chat, Pos since, std::int64_t limit) override {
    // The newest `limit` rows, then the suffix stored after `since`, ascending.
    auto r = db_.query("SELECT " MESSAGE_COLS " FROM (SELECT " MESSAGE_COLS
                       " FROM messages WHERE chat_id = $1 ORDER BY seq DESC LIMIT $3) newest "
                       "WHERE pos > $2 ORDER BY seq",
                       Params().add(chat.value).add(since).add(limit));
    std::vector<MessageRecord> out;
    out.reserve(static_cast<std::size_t>(r.count()));
    while (r.next()) out.push_back(read_message(r));
    return out;
  }

  StoreStats stats() override {
    StoreStats st;
    auto count = [&](const char* sql) {
      auto r = db_.query(sql);
      return r.next() ? r.int64(0) : 0;
    };
    st.users = count("SELECT count(*) FROM users");
    st.devices = count("SELECT count(*) FROM devices WHERE revoked = 0");
    st.chats = count("SELECT count(*) FROM chats");
    st.messages = count("SELECT count(*) FROM messages");
    st.bytes_on_disk = count("SELECT pg_database_size(current_database())");
    return st;
  }

  std::vector<std::string> check_integrity() override {
    std::vector<std::string> problems;
    // Domain invariants: seqs are gap-free and end at the chat's last_seq.
    {
      auto r = db_.query(
          "SELECT c.id, c.last_seq, count(m.seq), coalesce(max(m.seq), 0) FROM chats c "
          "LEFT JOIN messages m ON m.chat_id = c.id GROUP BY c.id "
          "HAVING count(m.seq) != c.last_seq OR coalesce(max(m.seq), 0) != c.last_seq");
      while (r.next())
        problems.push_back(fmt::format("chat {}: last_seq {} but {} messages up to seq {}", r.int64(0),
                                       r.int64(1), r.int64(2), r.int64(3)));
    }
    {
      auto r = db_.query(
          "SELECT m.chat_id, m.user_id FROM members m LEFT JOIN chats c ON c.id = m.chat_id "
          "WHERE c.id IS NULL");
      while (r.next())
        problems.push_back(fmt::format("membership of user {} in missing chat {}", r.int64(1), r.int64(0)));
    }
    {
      // Active members of a wide chat follow its position; nobody else does.
      auto r = db_.query(
          "SELECT count(*) FROM members m JOIN chats c ON c.id = m.chat_id "
          "WHERE m.via_chat != c.wide * m.active");
      if (r.next() && r.int64(0) > 0)
        problems.push_back(fmt::format("{} memberships disagree with their chat's width", r.int64(0)));
    }
    {
      auto r = db_.query(
          "SELECT count(*) FROM members WHERE pos > (SELECT value FROM meta WHERE key = 'pos')");
      if (r.next() && r.int64(0) > 0)
        problems.push_back(fmt::format("{} memberships carry a position beyond the stored one", r.int64(0)));
    }
    return problems;
  }

 protected:
  Conn& db_;
  int snapshot_depth_ = 0;
};

class ReadViewImpl final : public Reads<ReadView> {
 public:
  explicit ReadViewImpl(std::unique_ptr<Conn> db)
      : Reads(*db), owned_(std::move(db)), open_rooms_(make_open_rooms(*owned_)) {}

  OpenRoomsView& open_rooms() override { return *open_rooms_; }

  // A view whose connection was lost reconnects before its next read (outside a snapshot,
  // which cannot survive the loss). The read that met the loss has already thrown.
  void reconnect_if_lost() {
    if (snapshot_depth_ == 0 && owned_->broken()) owned_->reconnect();
  }

 private:
  std::unique_ptr<Conn> owned_;
  std::unique_ptr<OpenRoomsTx> open_rooms_;  // used read-only here
};

class WriteTxImpl final : public Reads<WriteTx> {
 public:
  WriteTxImpl(Conn& db, Pos committed_pos) : Reads(db), pos_(committed_pos), open_rooms_(make_open_rooms(db)) {}

  OpenRoomsTx& open_rooms() override { return *open_rooms_; }

  using Reads::current_pos;
  Pos current_pos(int /*shard: one here*/) override { return pos_; }
  void begin_snapshot() override {}  // already inside the batch transaction
  void end_snapshot() override {}

  Pos next_pos() override { return ++pos_; }
  Pos last_pos() const { return pos_; }
  // Continues from `committed`: after a failed batch (its positions were never persisted),
  // or after another node committed up to it.
  void reset_pos(Pos committed) { pos_ = committed; }

  UserId insert_user(const UserRecord& u, std::string_view password_hash) override {
    auto r = db_.query(
        "INSERT INTO users(handle, password_hash, display_name, status_message, avatar, "
        "created_at, profile_pos) VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id",
        Params().add(u.handle).add(password_hash).add(u.display_name).add(u.status_message)
            .add(u.avatar).add(u.created_at).add(u.profile_pos));
    r.next();
    return UserId(r.int64(0));
  }

  void update_profile(const UserRecord& u) override {
    db_.exec("UPDATE users SET display_name = $1, status_message = $2, avatar = $3, profile_pos = $4 "
             "WHERE id = $5",
             Params().add(u.display_name).add(u.status_message).add(u.avatar).add(u.profile_pos)
                 .add(u.id.value));
  }

  DeviceId insert_device(const DeviceRecord& d, std::string_view token_hash) override {
    auto r = db_.query(
        "INSERT INTO devices(user_id, kind, name, token_hash, created_at, last_seen_at) "
        "VALUES ($1, $2, $3, $4, $5, $6) RETURNING id",
        Params().add(d.user.value).add(device_kind_name(d.kind)).add(d.name).add_bytes(token_hash)
            .add(d.created_at).add(d.last_seen_at));
    r.next();
    return DeviceId(r.int64(0));
  }

  bool revoke_device(UserId user, DeviceId device) override {
    auto r = db_.query("UPDATE devices SET revoked = 1 WHERE id = $1 AND user_id = $2 AND revoked = 0",
                       Params().add(device.value).add(user.value));
    return r.affected() > 0;
  }

  void touch_device(DeviceId device, TimeMs now) override {
    db_.exec("UPDATE devices SET last_seen_at = $1 WHERE id = $2", Params().add(now).add(device.value));
  }

  bool add_friend(UserId owner, UserId other, Pos pos, TimeMs now) override {
    if (is_friend(owner, other)) return false;
    db_.exec(
        "INSERT INTO friends(owner_id, friend_id, active, created_at, pos) VALUES ($1, $2, 1, $3, $4) "
        "ON CONFLICT(owner_id, friend_id) DO UPDATE SET active = 1, created_at = excluded.created_at, "
        "pos = excluded.pos",
        Params().add(owner.value).add(other.value).add(now).add(pos));
    return true;
  }

  bool remove_friend(UserId owner, UserId other, Pos pos) override {
    auto r = db_.query(
        "UPDATE friends SET active = 0, pos = $1 WHERE owner_id = $2 AND friend_id = $3 AND active = 1",
        Params().add(pos).add(owner.value).add(other.value));
    return r.affected() > 0;
  }

  void touch_friend_edges_to(UserId user, Pos pos) override {
    db_.exec("UPDATE friends SET pos = $1 WHERE friend_id = $2 AND active = 1",
             Params().add(pos).add(user.value));
  }

  ChatId insert_chat(const ChatRecord& c, std::optional<std::string_view> direct_key) override {
    auto r = db_.query(
        "INSERT INTO chats(kind, title, created_by, created_at, last_seq, last_activity_at, "
        "direct_key) VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id",
        Params().add(chat_kind_name(c.kind)).add(c.title).add(c.created_by.value).add(c.created_at)
            .add(c.last_seq).add(c.last_activity_at).add_optional(direct_key));
    r.next();
    return ChatId(r.int64(0));
  }

  void update_chat_title(ChatId chat, std::string_view title) override {
    db_.exec("UPDATE chats SET title = $1 WHERE id = $2", Params().add(title).add(chat.value));
  }

  void update_chat_last(ChatId chat, Seq last_seq, TimeMs last_activity_at, Pos pos) override {
    db_.exec("UPDATE chats SET last_seq = $1, last_activity_at = $2, pos = $3 WHERE id = $4",
             Params().add(last_seq).add(last_activity_at).add(pos).add(chat.value));
  }

  void upsert_member(const MemberRecord& m) override {
    db_.exec(
        "INSERT INTO members(chat_id, user_id, role, joined_seq, read_seq, active, pos, public_id, "
        "nickname, room_avatar, permissions, joined_at, via_chat) "
        "VALUES ($1, $2, $3, $4, $5, 1, $6, $7, $8, $9, $10, $11, (SELECT wide FROM chats WHERE id = $1)) "
        "ON CONFLICT(chat_id, user_id) DO UPDATE SET role = excluded.role, "
        "joined_seq = excluded.joined_seq, read_seq = excluded.read_seq, active = 1, "
        "pos = excluded.pos, public_id = excluded.public_id, nickname = excluded.nickname, "
        "room_avatar = excluded.room_avatar, permissions = excluded.permissions, "
        "joined_at = excluded.joined_at, via_chat = excluded.via_chat",
        Params().add(m.chat.value).add(m.user.value).add(member_role_name(m.role)).add(m.joined_seq)
            .add(m.read_seq).add(m.pos).add(m.public_id).add_optional(m.nickname).add(m.room_avatar)
            .add(static_cast<std::int64_t>(m.permissions)).add(m.joined_at));
  }

  void set_member_left(ChatId chat, UserId user, Pos pos) override {
    db_.exec("UPDATE members SET active = 0, via_chat = 0, pos = $1 WHERE chat_id = $2 AND user_id = $3",
             Params().add(pos).add(chat.value).add(user.value));
  }

  void set_read_seq(ChatId chat, UserId user, Seq read_seq) override {
    db_.exec("UPDATE members SET read_seq = $1 WHERE chat_id = $2 AND user_id = $3",
             Params().add(read_seq).add(chat.value).add(user.value));
  }

  void set_chat_wide(ChatId chat, bool wide) override {
    db_.exec("UPDATE chats SET wide = $1 WHERE id = $2", Params().add(wide ? 1 : 0).add(chat.value));
    db_.exec("UPDATE members SET via_chat = $1, pos = GREATEST(pos, (SELECT pos FROM chats WHERE id = $2)) "
             "WHERE chat_id = $2 AND active = 1",
             Params().add(wide ? 1 : 0).add(chat.value));
  }

  void touch_members(ChatId chat, Pos pos) override {
    db_.exec("UPDATE members SET pos = $1 WHERE chat_id = $2 AND active = 1",
             Params().add(pos).add(chat.value));
  }

  void touch_members_and_reads(ChatId chat, Pos pos, std::span<const MemberReadSeq> reads) override {
    // One statement per number of pointers it sets (index), up to four; more go one by one.
    static constexpr const char* kSql[] = {
        "UPDATE members SET pos = $1 WHERE chat_id = $2 AND active = 1",
        "UPDATE members SET pos = $1, read_seq = CASE user_id WHEN $3 THEN $4 ELSE read_seq END "
        "WHERE chat_id = $2 AND active = 1",
        "UPDATE members SET pos = $1, read_seq = CASE user_id WHEN $3 THEN $4 WHEN $5 THEN $6 "
        "ELSE read_seq END WHERE chat_id = $2 AND active = 1",
        "UPDATE members SET pos = $1, read_seq = CASE user_id WHEN $3 THEN $4 WHEN $5 THEN $6 "
        "WHEN $7 THEN $8 ELSE read_seq END WHERE chat_id = $2 AND active = 1",
        "UPDATE members SET pos = $1, read_seq = CASE user_id WHEN $3 THEN $4 WHEN $5 THEN $6 "
        "WHEN $7 THEN $8 WHEN $9 THEN $10 ELSE read_seq END WHERE chat_id = $2 AND active = 1",
    };
    const std::size_t together = std::min(reads.size(), std::size(kSql) - 1);
    for (const MemberReadSeq& r : reads.subspan(together)) set_read_seq(chat, r.user, r.read_seq);
    Params params;
    params.add(pos).add(chat.value);
    for (const MemberReadSeq& r : reads.first(together)) params.add(r.user.value).add(r.read_seq);
    db_.exec(kSql[together], params);
  }

  // Idempotency keys the batch read up front and found absent (WriteJob::client_key): their
  // lookups need no round trip while the batch holds the position lock. Cleared per batch.
  void prefetch_client_keys(const std::vector<WriteJob>& jobs) {
    absent_keys_.clear();
    std::vector<std::int64_t> senders;
    std::vector<std::string> ids;
    for (const auto& job : jobs)
      if (job.client_key) {
        senders.push_back(job.client_key->sender.value);
        ids.push_back(job.client_key->client_id);
      }
    if (senders.empty()) return;
    for (std::size_t i = 0; i < senders.size(); ++i) absent_keys_.insert(key_of(UserId(senders[i]), ids[i]));
    auto r = db_.query(
        "SELECT sender_id, client_id FROM messages WHERE (sender_id, client_id) IN "
        "(SELECT * FROM unnest($1::bigint[], $2::text[]))",
        Params().add_int_array(senders).add_text_array(ids));
    while (r.next()) absent_keys_.erase(key_of(UserId(r.int64(0)), r.text(1)));
  }
  void forget_prefetched_keys() { absent_keys_.clear(); }

  std::optional<MessageRecord> message_by_client_id(UserId sender, std::string_view client_id) override {
    if (!absent_keys_.empty() && absent_keys_.count(key_of(sender, client_id))) return std::nullopt;
    return Reads::message_by_client_id(sender, client_id);
  }

  void insert_message(const MessageRecord& m) override {
    if (!absent_keys_.empty()) absent_keys_.erase(key_of(m.sender, m.client_id));  // present now
    db_.exec(
        "INSERT INTO messages(chat_id, seq, sender_id, client_id, kind, text, reply_to, "
        "created_at, deleted, pos) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, 0, $9)",
        Params().add(m.chat.value).add(m.seq).add(m.sender.value).add(m.client_id)
            .add(message_kind_name(m.kind)).add_bytes(m.text).add(m.reply_to).add(m.created_at)
            .add(m.pos));
  }

  void mark_message_deleted(ChatId chat, Seq seq, Pos pos) override {
    db_.exec("UPDATE messages SET deleted = 1, text = '', deleted_pos = $1 WHERE chat_id = $2 AND seq = $3",
             Params().add(pos).add(chat.value).add(seq));
  }

  void set_message_hidden(ChatId chat, Seq seq, bool hidden, Pos pos) override {
    db_.exec("UPDATE messages SET hidden = $1, deleted_pos = $2 WHERE chat_id = $3 AND seq = $4",
             Params().add(hidden ? 1 : 0).add(pos).add(chat.value).add(seq));
  }

  void scrub_user(UserId user, Pos pos) override {
    db_.exec(
        "UPDATE users SET handle = '~' || id, password_hash = '', display_name = '', "
        "status_message = '', avatar = '', profile_pos = $1 WHERE id = $2",
        Params().add(pos).add(user.value));
    db_.exec("UPDATE devices SET revoked = 1 WHERE user_id = $1", Params().add(user.value));
    db_.exec("DELETE FROM open_nicknames WHERE user_id = $1", Params().add(user.value));
  }

  void persist_pos() { db_.exec("UPDATE meta SET value = $1 WHERE key = 'pos'", Params().add(pos_)); }

 private:
  static std::string key_of(UserId sender, std::string_view client_id) {
    std::string key = std::to_string(sender.value);
    key.push_back('\0');  // client ids hold no NUL
    key.append(client_id);
    return key;
  }
  std::unordered_set<std::string> absent_keys_;
  Pos pos_;
  std::unique_ptr<OpenRoomsTx> open_rooms_;
};

// --- A store split into shards ------------------------------------------------------------

// The per-thread read view of a split store: one connection per shard, opened on first use,
// each reconnecting like the single view. A snapshot pins every shard it reads (each one
// from its first read inside the snapshot on).
class RoutedReadView final : public Routed<ReadView> {
 public:
  explicit RoutedReadView(const std::vector<std::string>& dsns)
      : dsns_(dsns), views_(dsns.size()), pinned_(dsns.size(), false), open_rooms_(*this, nullptr, 0) {}

  int shards() const override { return static_cast<int>(dsns_.size()); }

  ShardSide side(int k) override {
    auto& view = views_[static_cast<std::size_t>(k)];
    if (!view)
      view = std::make_unique<ReadViewImpl>(std::make_unique<Conn>(dsns_[static_cast<std::size_t>(k)]));
    else
      view->reconnect_if_lost();
    if (depth_ > 0 && !pinned_[static_cast<std::size_t>(k)]) {
      view->begin_snapshot();
      pinned_[static_cast<std::size_t>(k)] = true;
    }
    return ShardSide{*view, view->conn()};
  }

  void begin_snapshot() override { ++depth_; }
  void end_snapshot() override {  // never throws (see Reads::end_snapshot)
    if (--depth_ != 0) return;
    for (std::size_t k = 0; k < views_.size(); ++k)
      if (pinned_[k]) {
        views_[k]->end_snapshot();
        pinned_[k] = false;
      }
  }

  OpenRoomsView& open_rooms() override { return open_rooms_; }

 private:
  std::vector<std::string> dsns_;
  std::vector<std::unique_ptr<ReadViewImpl>> views_;
  std::vector<bool> pinned_;
  int depth_ = 0;
  RoutedOpenRooms open_rooms_;  // read-only here
};

// The transaction a job of a split store sees: writes go to its shard's batch transaction,
// and only for rows of that shard (anything else is a bug of the caller: StorageError);
// reads of its shard see the batch's writes, reads of other shards go to committer-owned
// read connections (committed data).
class RoutedTx final : public Routed<WriteTx> {
 public:
  RoutedTx(int shards, std::function<ShardSide(int)> other)
      : shards_(shards), other_(std::move(other)), open_rooms_(*this, nullptr, 0) {}

  RoutedTx& bind(int shard, WriteTxImpl& local) {
    shard_ = shard;
    local_ = &local;
    open_rooms_.bind(&local.open_rooms(), shard);
    return *this;
  }

  int shards() const override { return shards_; }
  ShardSide side(int k) override {
    if (k == shard_) return ShardSide{*local_, local_->conn()};
    return other_(k);
  }
  int own_shard() const override { return shard_; }
  int shard() const override { return shard_; }

  void begin_snapshot() override {}  // already inside the batch transaction
  void end_snapshot() override {}
  OpenRoomsTx& open_rooms() override { return open_rooms_; }

  Pos next_pos() override { return local_->next_pos(); }

  UserId insert_user(const UserRecord& u, std::string_view password_hash) override {
    return local_->insert_user(u, password_hash);
  }
  void update_profile(const UserRecord& u) override { mine("user", u.id.value).update_profile(u); }
  void scrub_user(UserId user, Pos pos) override { mine("user", user.value).scrub_user(user, pos); }
  DeviceId insert_device(const DeviceRecord& d, std::string_view token_hash) override {
    return mine("device of user", d.user.value).insert_device(d, token_hash);
  }
  bool revoke_device(UserId user, DeviceId device) override {
    return mine("device", device.value).revoke_device(user, device);
  }
  void touch_device(DeviceId device, TimeMs now) override {
    mine("device", device.value).touch_device(device, now);
  }
  bool add_friend(UserId owner, UserId other, Pos pos, TimeMs now) override {
    return mine("friend edge of user", owner.value).add_friend(owner, other, pos, now);
  }
  bool remove_friend(UserId owner, UserId other, Pos pos) override {
    return mine("friend edge of user", owner.value).remove_friend(owner, other, pos);
  }
  // The edges of this shard's owners; owners elsewhere see the change through profile_pos.
  void touch_friend_edges_to(UserId user, Pos pos) override { local_->touch_friend_edges_to(user, pos); }
  ChatId insert_chat(const ChatRecord& c, std::optional<std::string_view> direct_key) override {
    return local_->insert_chat(c, direct_key);
  }
  void update_chat_title(ChatId chat, std::string_view title) override {
    mine("chat", chat.value).update_chat_title(chat, title);
  }
  void update_chat_last(ChatId chat, Seq last_seq, TimeMs last_activity_at, Pos pos) override {
    mine("chat", chat.value).update_chat_last(chat, last_seq, last_activity_at, pos);
  }
  void upsert_member(const MemberRecord& m) override { mine("member of chat", m.chat.value).upsert_member(m); }
  void set_member_left(ChatId chat, UserId user, Pos pos) override {
    mine("member of chat", chat.value).set_member_left(chat, user, pos);
  }
  void set_read_seq(ChatId chat, UserId user, Seq read_seq) override {
    mine("member of chat", chat.value).set_read_seq(chat, user, read_seq);
  }
  void set_chat_wide(ChatId chat, bool wide) override { mine("chat", chat.value).set_chat_wide(chat, wide); }
  void touch_members(ChatId chat, Pos pos) override { mine("members of chat", chat.value).touch_members(chat, pos); }
  void touch_members_and_reads(ChatId chat, Pos pos, std::span<const MemberReadSeq> reads) override {
    mine("members of chat", chat.value).touch_members_and_reads(chat, pos, reads);
  }
  void insert_message(const MessageRecord& m) override { mine("message of chat", m.chat.value).insert_message(m); }
  bool insert_message_once(const MessageRecord& m) override {
    return mine("message of chat", m.chat.value).insert_message_once(m);
  }
  void mark_message_deleted(ChatId chat, Seq seq, Pos pos) override {
    mine("message of chat", chat.value).mark_message_deleted(chat, seq, pos);
  }
  void set_message_hidden(ChatId chat, Seq seq, bool hidden, Pos pos) override {
    mine("message of chat", chat.value).set_message_hidden(chat, seq, hidden, pos);
  }

 private:
  WriteTxImpl& mine(const char* what, std::int64_t id) {
    if (shard_of_id(id) != shard_)
      throw StorageError(fmt::format("cross-shard write: {} {} (shard {}) in a transaction of shard {}",
                                     what, id, shard_of_id(id), shard_));
    return *local_;
  }

  int shards_;
  std::function<ShardSide(int)> other_;
  int shard_ = 0;
  WriteTxImpl* local_ = nullptr;
  RoutedOpenRooms open_rooms_;
};

// Distinguishes store instances in the per-thread reader cache (see the embedded store).
std::atomic<std::uint64_t> g_store_generation{0};

using Clock = std::chrono::steady_clock;
constexpr std::chrono::milliseconds kMinBackoff{100};
constexpr std::chrono::milliseconds kMaxBackoff{2000};

// One database of the shard map, as the committer drives it.
struct Shard {
  int index = 0;
  std::string dsn;
  std::unique_ptr<Conn> writer;
  std::unique_ptr<WriteTxImpl> tx;
  Pos committed_pos = 0;
  std::chrono::milliseconds backoff = kMinBackoff;
  // (Several shards) while a lost shard waits for its backoff, its jobs fail at once rather
  // than holding up the other shards' jobs.
  Clock::time_point retry_at{};
  // The committer's reads of this shard for transactions of other shards (opened on use).
  std::unique_ptr<ReadViewImpl> reader;
};

class PostgresStore final : public Store {
 public:
  explicit PostgresStore(const PostgresOptions& options)
      : options_(options), generation_(++g_store_generation) {
    dsns_.push_back(options_.dsn);
    for (const auto& dsn : options_.more_shards) dsns_.push_back(dsn);
    if (dsns_.size() > static_cast<std::size_t>(kMaxShards))
      throw StorageError(fmt::format("postgres: {} shards, at most {}", dsns_.size(), kMaxShards));
    for (std::size_t k = 0; k < dsns_.size(); ++k) {
      Conn setup(dsns_[k]);
      migrate(setup, static_cast<int>(k));
    }
    shards_.resize(dsns_.size());
    reasons_.assign(dsns_.size(), std::string());
    for (std::size_t k = 0; k < dsns_.size(); ++k) {
      Shard& sh = shards_[k];
      sh.index = static_cast<int>(k);
      sh.dsn = dsns_[k];
      sh.writer = std::make_unique<Conn>(sh.dsn);
      sh.writer->set_setup("SET synchronous_commit = on");
      sh.writer->script("SET synchronous_commit = on");
      {
        auto r = sh.writer->query("SELECT value FROM meta WHERE key = 'pos'");
        if (!r.next()) throw StorageError("postgres: meta.pos is missing");
        sh.committed_pos = r.int64(0);
      }
      sh.writer->enter_pipeline();
      sh.tx = std::make_unique<WriteTxImpl>(*sh.writer, sh.committed_pos);
    }
    if (split())
      routed_ = std::make_unique<RoutedTx>(static_cast<int>(shards_.size()),
                                           [this](int k) { return committer_side(k); });
    committer_ = std::thread([this] {
      name_this_thread("modu-commit");
      run_committer();
    });
  }

  ~PostgresStore() override { stop(); }

  ReadView& reader() override {
    struct Cached {
      std::uint64_t generation = 0;
      ReadView* view = nullptr;
      ReadViewImpl* single = nullptr;  // the view when the store is not split
    };
    thread_local Cached cached;
    if (cached.generation == generation_) {
      if (cached.single) cached.single->reconnect_if_lost();
      return *cached.view;
    }
    std::unique_ptr<ReadView> view;
    ReadViewImpl* single = nullptr;
    if (split()) {
      view = std::make_unique<RoutedReadView>(dsns_);
    } else {
      auto impl = std::make_unique<ReadViewImpl>(std::make_unique<Conn>(options_.dsn));
      single = impl.get();
      view = std::move(impl);
    }
    ReadView* raw = view.get();
    {
      std::lock_guard lock(readers_mu_);
      readers_.push_back(std::move(view));
    }
    cached = Cached{generation_, raw, single};
    return *raw;
  }

  void submit(WriteJob job) override {
    {
      std::lock_guard lock(mu_);
      if (!stopping_) {
        queue_.push_back(std::move(job));
        queued_.store(queue_.size(), std::memory_order_relaxed);
        if (committer_idle_) cv_.notify_one();
        return;
      }
    }
    job.done(make_error(ErrorCode::kUnavailable, "the server is shutting down"));
  }

  void set_hooks(CommitHooks hooks) override { hooks_ = std::move(hooks); }

  void stop() override {
    {
      std::lock_guard lock(mu_);
      if (stopping_) return;
      stopping_ = true;
      cv_.notify_one();
    }
    if (committer_.joinable()) committer_.join();
  }

  std::size_t queued() const override { return queued_.load(std::memory_order_relaxed); }

  std::int64_t new_user_placement(std::string_view handle) const override {
    if (!split()) return 0;
    return first_id_of_shard(handle_shard(handle, static_cast<int>(dsns_.size())));
  }

  std::string unavailable_reason() const override {
    std::lock_guard lock(reason_mu_);
    if (reasons_.size() == 1) return reasons_[0];
    std::string out;
    for (std::size_t k = 0; k < reasons_.size(); ++k) {
      if (reasons_[k].empty()) continue;
      if (!out.empty()) out += "; ";
      out += fmt::format("shard {}: {}", k, reasons_[k]);
    }
    return out;
  }

 private:
  bool split() const { return dsns_.size() > 1; }

  void set_reason(const Shard& sh, std::string reason) {
    std::lock_guard lock(reason_mu_);
    reasons_[static_cast<std::size_t>(sh.index)] = std::move(reason);
  }

  // The committer's reads of shard `k`, for a transaction of another shard.
  ShardSide committer_side(int k) {
    Shard& sh = shards_[static_cast<std::size_t>(k)];
    if (!sh.reader)
      sh.reader = std::make_unique<ReadViewImpl>(std::make_unique<Conn>(sh.dsn));
    else
      sh.reader->reconnect_if_lost();
    return ShardSide{*sh.reader, sh.reader->conn()};
  }

  void run_committer() {
    std::vector<WriteJob> batch;
    std::vector<std::vector<WriteJob>> parts(shards_.size());
    for (;;) {
      batch.clear();
      {
        std::unique_lock lock(mu_);
        committer_idle_ = true;
        // While idle, the connections are checked now and then so that readiness notices a
        // lost database (and a lost connection is re-established) without waiting for a write.
        while (queue_.empty() && !stopping_) {
          auto wait = std::chrono::milliseconds(2000);
          for (const auto& sh : shards_)
            if (sh.writer->broken()) wait = std::min(wait, sh.backoff);
          if (cv_.wait_for(lock, wait) == std::cv_status::timeout && queue_.empty() && !stopping_) {
            lock.unlock();
            for (auto& sh : shards_) check_connection(sh);
            lock.lock();
          }
        }
        committer_idle_ = false;
        if (queue_.empty()) return;  // stopping, and nothing left to do
        std::size_t n = std::min(queue_.size(), options_.max_batch);
        for (std::size_t i = 0; i < n; ++i) {
          batch.push_back(std::move(queue_.front()));
          queue_.pop_front();
        }
        queued_.store(queue_.size(), std::memory_order_relaxed);
      }
      if (!split()) {
        commit_part(shards_[0], batch);
        continue;
      }
      // Each shard's jobs, in submission order, run as one transaction of that shard; the
      // shards commit one after another (never holding two position locks at once).
      for (auto& job : batch) {
        // A placement beyond the map (an id no shard holds, say a client's made-up chat id)
        // runs on shard 0, where its reads of that id find nothing and its writes of it
        // are refused like any other cross-shard write.
        int k = shard_of_id(job.placement);
        if (job.placement < 0 || k >= static_cast<int>(shards_.size())) k = 0;
        parts[static_cast<std::size_t>(k)].push_back(std::move(job));
      }
      for (std::size_t k = 0; k < shards_.size(); ++k) {
        if (parts[k].empty()) continue;
        commit_part(shards_[k], parts[k]);
        parts[k].clear();
      }
    }
  }

  // Runs one shard's part of a batch, then its hooks and `done` callbacks.
  void commit_part(Shard& sh, std::vector<WriteJob>& jobs) {
    auto started = Clock::now();
    // (Several shards) a lost shard still inside its backoff fails the part without trying.
    bool backing_off = split() && sh.writer->broken() && started < sh.retry_at;
    Pos from = sh.committed_pos, to = sh.committed_pos;
    bool committed = run_batch(sh, jobs, results_, from, to);
    double seconds = std::chrono::duration<double>(Clock::now() - started).count();
    if (hooks_.before_done) hooks_.before_done(sh.index, from, to);
    for (std::size_t i = 0; i < jobs.size(); ++i)
      if (jobs[i].done) jobs[i].done(results_[i]);
    if (hooks_.after_done) hooks_.after_done();
    if (committed && hooks_.after_commit) hooks_.after_commit(jobs.size(), seconds);
    if (!committed && sh.writer->broken()) {
      if (split()) {
        // The other shards go on; this one's jobs fail at once until its backoff passed.
        if (backing_off) return;
        sh.retry_at = Clock::now() + sh.backoff;
        sh.backoff = std::min(sh.backoff * 2, kMaxBackoff);
        return;
      }
      // Do not spin on a database that is down: the next batch waits for the backoff.
      std::unique_lock lock(mu_);
      cv_.wait_for(lock, sh.backoff, [&] { return stopping_; });
      sh.backoff = std::min(sh.backoff * 2, kMaxBackoff);
    }
  }

  // Reconnects a lost writer connection, or probes a live one. Never throws.
  void check_connection(Shard& sh) {
    try {
      if (sh.writer->broken()) {
        sh.writer->reconnect();
      } else {
        sh.writer->query("SELECT 1");
        sh.writer->sync();
      }
      sh.backoff = kMinBackoff;
      sh.retry_at = {};
      set_reason(sh, "");
    } catch (const StorageError& e) {
      sh.writer->recover();
      set_reason(sh, fmt::format("database unreachable: {}", e.what()));
      sh.backoff = std::min(sh.backoff * 2, kMaxBackoff);
    }
  }

  // Runs the jobs in one transaction of the shard; returns whether it committed. `from` and
  // `to` get the positions it committed, (from, to] (equal when it failed).
  bool run_batch(Shard& sh, std::vector<WriteJob>& batch, std::vector<Status>& results, Pos& from, Pos& to) {
    results.assign(batch.size(), ok_status());
    Conn& db = *sh.writer;
    WriteTxImpl& local = *sh.tx;
    try {
      if (db.broken()) {
        if (split() && Clock::now() < sh.retry_at)
          throw StorageError("postgres: the connection is lost; reconnecting after a backoff");
        db.reconnect();
      }
      WriteTx& tx = split() ? static_cast<WriteTx&>(routed_->bind(sh.index, local)) : local;
      db.exec("BEGIN");
      // Before the lock: the one read most jobs would otherwise make while holding it.
      local.prefetch_client_keys(batch);
      Pos locked = 0;
      {
        // Serialises the batches of every node sharing the database (see the file comment).
        auto r = db.query("SELECT value FROM meta WHERE key = 'pos' FOR UPDATE");
        if (!r.next()) throw StorageError("postgres: meta.pos is missing");
        locked = r.int64(0);
      }
      if (locked != sh.committed_pos) {
        std::vector<ChatId> stale;
        {
          auto r = db.query("SELECT id FROM chats WHERE pos > $1", Params().add(sh.committed_pos));
          while (r.next()) stale.push_back(ChatId(r.int64(0)));
        }
        sh.committed_pos = locked;
        local.reset_pos(locked);
        if (hooks_.forget_chats) hooks_.forget_chats(stale);
      }
      for (std::size_t i = 0; i < batch.size(); ++i) {
        // A savepoint is a subtransaction. A job that checks before writing goes without:
        // its statements all go through this connection (writing another shard throws).
        bool savepoint = !batch[i].checks_before_writing;
        if (savepoint) db.exec("SAVEPOINT job");
        std::uint64_t writes_before = db.writes_sent();
        // A returned error fails only this job; an exception (storage failure or bug)
        // aborts the whole batch below, so no half-applied job can ever commit.
        Status status = batch[i].apply(tx);
        if (!status.ok()) {
          if (savepoint)
            db.exec("ROLLBACK TO SAVEPOINT job");
          else if (db.writes_sent() != writes_before)
            throw StorageError(fmt::format("a job that checks before writing wrote, then failed: {}",
                                           status.error().message));
        }
        if (savepoint) db.exec("RELEASE SAVEPOINT job");
        results[i] = std::move(status);
      }
      if (hooks_.before_commit) hooks_.before_commit(tx);
      local.persist_pos();
      db.exec("COMMIT");
      db.sync();
      local.forget_prefetched_keys();
      from = locked;
      to = sh.committed_pos = local.last_pos();
      sh.backoff = kMinBackoff;
      sh.retry_at = {};
      set_reason(sh, "");
      return true;
    } catch (const std::exception& e) {
      if (split())
        spdlog::error("batch of {} writes on shard {} failed to commit: {}", batch.size(), sh.index, e.what());
      else
        spdlog::error("batch of {} writes failed to commit: {}", batch.size(), e.what());
      db.recover();
      local.forget_prefetched_keys();
      // Whatever this batch handed out was not persisted (if its COMMIT's outcome is unknown,
      // the next batch finds meta.pos moved and forgets the chats as another node's).
      local.reset_pos(sh.committed_pos);
      from = to = sh.committed_pos;
      for (auto& r : results) r = make_error(ErrorCode::kUnavailable, "storage error; retry");
      if (db.broken()) set_reason(sh, fmt::format("database unreachable: {}", e.what()));
      if (hooks_.after_abort) hooks_.after_abort();
      return false;
    }
  }

  PostgresOptions options_;
  std::vector<std::string> dsns_;  // the shard map: shard k is dsns_[k]
  std::uint64_t generation_;
  std::vector<Shard> shards_;           // committer thread only (after construction)
  std::unique_ptr<RoutedTx> routed_;    // split stores only; committer thread only
  std::vector<Status> results_;         // committer thread only
  CommitHooks hooks_;

  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<WriteJob> queue_;   // GUARDED_BY(mu_)
  bool stopping_ = false;        // GUARDED_BY(mu_)
  bool committer_idle_ = false;  // GUARDED_BY(mu_)
  std::atomic<std::size_t> queued_{0};
  std::thread committer_;

  mutable std::mutex reason_mu_;
  std::vector<std::string> reasons_;  // per shard; GUARDED_BY(reason_mu_)

  std::mutex readers_mu_;
  std::vector<std::unique_ptr<ReadView>> readers_;  // GUARDED_BY(readers_mu_)
};

}  // namespace
}  // namespace pg

Result<std::unique_ptr<Store>> open_postgres_store(const PostgresOptions& options) {
  try {
    return std::unique_ptr<Store>(std::make_unique<pg::PostgresStore>(options));
  } catch (const std::exception& e) {
    return make_error(ErrorCode::kUnavailable, e.what());
  }
}

}  // namespace modu
