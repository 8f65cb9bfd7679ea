// The embedded store: SQLite in WAL mode, one writer connection driven by a committer
// thread (group commit), and one read-only connection per reading thread.
#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <deque>
#include <filesystem>
#include <mutex>
#include <thread>
#include <algorithm>
#include <limits>

#include "common/thread_name.h"
#include "modu/store.h"
#include "storage/changed_chats.h"
#include "storage/recent_messages.h"
#include "storage/sqlite/data_directory.h"
#include "storage/sqlite/directory_lock.h"
#include "storage/sqlite/open_rooms_store.h"
#include "storage/sqlite/schema.h"
#include "storage/sqlite/sqlite_db.h"
#include "storage/sqlite/write_gather_vfs.h"

namespace modu {
namespace sqlite {
namespace {

#define USER_COLS "id, handle, display_name, status_message, avatar, created_at, profile_pos"
#define DEVICE_COLS "id, user_id, kind, name, created_at, last_seen_at, revoked"
#define CHAT_COLS \
  "c.id, c.kind, c.title, c.created_by, c.created_at, c.last_seq, c.last_activity_at, c.wide"
#define MEMBER_COLS \
  "m.chat_id, m.user_id, m.role, m.joined_seq, m.read_seq, m.active, m.pos, m.public_id, " \
  "m.nickname, m.room_avatar, m.permissions, m.joined_at"
#define MESSAGE_COLS \
  "chat_id, seq, client_id, sender_id, kind, text, reply_to, created_at, deleted, hidden, pos"
#define MESSAGE_COLS_M                                                                          \
  "m.chat_id, m.seq, m.client_id, m.sender_id, m.kind, m.text, m.reply_to, m.created_at, " \
  "m.deleted, m.hidden, m.pos"
#define INSERT_MESSAGE                                                                     \
  "INSERT INTO messages(chat_id, seq, sender_id, client_id, kind, text, reply_to, created_at, " \
  "deleted, pos) VALUES (?, ?, ?, ?, ?, ?, ?, ?, 0, ?)"
// A chat's messages in seq order, from one of the two tables that key them (schema v9):
// `timeline`, and `timeline_tail` for the newest until the committer files them
// (WriteTxImpl::file_timeline_tail). ?1 chat, seqs in (?2, ?3), at most ?4.
#define TIMELINE_QUERY(table, order)                                                        \
  "SELECT " MESSAGE_COLS_M " FROM " table " k JOIN messages m ON m.rowid = k.msg "         \
  "WHERE k.chat_id = ?1 AND k.seq > ?2 AND k.seq < ?3 ORDER BY k.seq " order " LIMIT ?4"

constexpr int kDeviceCols = 7;  // columns of DEVICE_COLS, for rows that continue with a user
constexpr int kChatCols = 8;    // columns of CHAT_COLS, for rows that continue with a member
constexpr int kMemberCols = 12;  // columns of MEMBER_COLS

UserRecord read_user(const Stmt& s, int c = 0) {
  UserRecord u;
  u.id = UserId(s.int64(c));
  u.handle = s.text(c + 1);
  u.display_name = s.text(c + 2);
  u.status_message = s.text(c + 3);
  u.avatar = s.text(c + 4);
  u.created_at = s.int64(c + 5);
  u.profile_pos = s.int64(c + 6);
  return u;
}

DeviceRecord read_device(const Stmt& s) {
  DeviceRecord d;
  d.id = DeviceId(s.int64(0));
  d.user = UserId(s.int64(1));
  d.kind = parse_device_kind(s.text_view(2)).value_or(DeviceKind::kWeb);
  d.name = s.text(3);
  d.created_at = s.int64(4);
  d.last_seen_at = s.int64(5);
  d.revoked = s.int64(6) != 0;
  return d;
}

ChatRecord read_chat(const Stmt& s, int c = 0) {
  ChatRecord r;
  r.id = ChatId(s.int64(c));
  r.kind = parse_chat_kind(s.text(c + 1)).value_or(ChatKind::kGroup);
  r.title = s.text(c + 2);
  r.created_by = UserId(s.int64(c + 3));
  r.created_at = s.int64(c + 4);
  r.last_seq = s.int64(c + 5);
  r.last_activity_at = s.int64(c + 6);
  r.wide = s.int64(c + 7) != 0;
  return r;
}

MemberRecord read_member(const Stmt& s, int c = 0) {
  MemberRecord m;
  m.chat = ChatId(s.int64(c));
  m.user = UserId(s.int64(c + 1));
  m.role = parse_member_role(s.text(c + 2)).value_or(MemberRole::kMember);
  m.joined_seq = s.int64(c + 3);
  m.read_seq = s.int64(c + 4);
  m.active = s.int64(c + 5) != 0;
  m.pos = s.int64(c + 6);
  m.public_id = s.int64(c + 7);
  if (!s.is_null(c + 8)) m.nickname = s.text(c + 8);
  m.room_avatar = s.text(c + 9);
  m.permissions = static_cast<std::uint32_t>(s.int64(c + 10));
  m.joined_at = s.int64(c + 11);
  return m;
}

// Rows reserved up front for a page of messages (a history page is at most 201).
constexpr std::int64_t kPageReserve = 256;
constexpr Seq kNoSeqAbove = std::numeric_limits<Seq>::max();
// The rowid of chat ?2's message ?3, from whichever table keys it.
#define MESSAGE_ROWID                                                            \
  "coalesce((SELECT msg FROM timeline_tail WHERE chat_id = ?2 AND seq = ?3), " \
  "(SELECT msg FROM timeline WHERE chat_id = ?2 AND seq = ?3))"

MessageRecord read_message(const Stmt& s) {
  MessageRecord m;
  m.chat = ChatId(s.int64(0));
  m.seq = s.int64(1);
  m.client_id = s.text(2);
  m.sender = UserId(s.int64(3));
  m.kind = parse_message_kind(s.text_view(4)).value_or(MessageKind::kText);
  m.text = s.text(5);
  m.reply_to = s.int64(6);
  m.created_at = s.int64(7);
  m.deleted = s.int64(8) != 0;
  m.hidden = s.int64(9) != 0;
  m.pos = s.int64(10);
  return m;
}

// All reads, shared by the read-only views and the write transaction.
template <class Base>
class Reads : public Base {
 public:
  explicit Reads(Db& db) : db_(db) {}

  using Base::changed_chats;
  using Base::current_pos;

  Pos current_pos(int /*shard: one here*/) override {
    auto s = db_.prepare("SELECT value FROM meta WHERE key = 'pos'");
    return s.step() ? s.int64(0) : 0;
  }

  void begin_snapshot() override {
    if (snapshot_depth_++ == 0) db_.prepare("BEGIN").run();
  }
  void end_snapshot() override {
    if (--snapshot_depth_ == 0) db_.prepare("COMMIT").run();
  }

  std::optional<UserRecord> user_by_id(UserId id) override {
    auto s = db_.prepare("SELECT " USER_COLS " FROM users WHERE id = ?");
    s.bind(1, id.value);
    if (!s.step()) return std::nullopt;
    return read_user(s);
  }

  std::optional<UserRecord> user_by_handle(std::string_view handle) override {
    auto s = db_.prepare("SELECT " USER_COLS " FROM users WHERE handle = ?");
    s.bind(1, handle);
    if (!s.step()) return std::nullopt;
    return read_user(s);
  }

  std::optional<UserCredentials> credentials_by_handle(std::string_view handle) override {
    auto s = db_.prepare("SELECT id, password_hash FROM users WHERE handle = ?");
    s.bind(1, handle);
    if (!s.step()) return std::nullopt;
    return UserCredentials{UserId(s.int64(0)), s.text(1)};
  }

  std::vector<UserRecord> users_by_ids(const std::vector<UserId>& ids) override {
    std::vector<UserRecord> out;
    out.reserve(ids.size());
    for (UserId id : ids)
      if (auto u = user_by_id(id)) out.push_back(std::move(*u));
    return out;
  }

  std::vector<UserRecord> list_users(std::int64_t limit, UserId after) override {
    auto s = db_.prepare("SELECT " USER_COLS " FROM users WHERE id > ? ORDER BY id LIMIT ?");
    s.bind(1, after.value).bind(2, limit);
    std::vector<UserRecord> out;
    while (s.step()) out.push_back(read_user(s));
    return out;
  }

  std::optional<SessionRecord> session_by_token_hash(std::string_view token_hash) override {
    auto s = db_.prepare(
        "SELECT d.id, d.user_id, d.kind, d.name, d.created_at, d.last_seen_at, d.revoked, "
        "u.id, u.handle, u.display_name, u.status_message, u.avatar, u.created_at, u.profile_pos "
        "FROM devices d JOIN users u ON u.id = d.user_id WHERE d.token_hash = ?");
    s.bind_blob(1, token_hash);
    if (!s.step()) return std::nullopt;
    return SessionRecord{read_device(s), read_user(s, kDeviceCols)};
  }

  std::optional<DeviceRecord> device_by_id(DeviceId id) override {
    auto s = db_.prepare("SELECT " DEVICE_COLS " FROM devices WHERE id = ?");
    s.bind(1, id.value);
    if (!s.step()) return std::nullopt;
    return read_device(s);
  }

  std::vector<DeviceRecord> devices_of(UserId user) override {
    auto s = db_.prepare("SELECT " DEVICE_COLS
                         " FROM devices WHERE user_id = ? AND revoked = 0 ORDER BY id");
    s.bind(1, user.value);
    std::vector<DeviceRecord> out;
    while (s.step()) out.push_back(read_device(s));
    return out;
  }

  std::vector<UserRecord> friends_of(UserId owner) override {
    auto s = db_.prepare(
        "SELECT u.id, u.handle, u.display_name, u.status_message, u.avatar, u.created_at, "
        "u.profile_pos FROM friends f JOIN users u ON u.id = f.friend_id "
        "WHERE f.owner_id = ? AND f.active = 1 ORDER BY u.display_name, u.id");
    s.bind(1, owner.value);
    std::vector<UserRecord> out;
    while (s.step()) out.push_back(read_user(s));
    return out;
  }

  bool is_friend(UserId owner, UserId other) override {
    auto s = db_.prepare("SELECT 1 FROM friends WHERE owner_id = ? AND friend_id = ? AND active = 1");
    s.bind(1, owner.value).bind(2, other.value);
    return s.step();
  }

  std::vector<UserId> friend_owners_of(UserId user) override {
    auto s = db_.prepare("SELECT owner_id FROM friends WHERE friend_id = ? AND active = 1");
    s.bind(1, user.value);
    std::vector<UserId> out;
    while (s.step()) out.push_back(UserId(s.int64(0)));
    return out;
  }

  std::vector<FriendChange> friend_changes(UserId owner, const Cursor& since_at,
                                           const Cursor& until_at) override {
    Pos since = cursor_at(since_at, 0), until = cursor_at(until_at, 0);
    auto s = db_.prepare(
        "SELECT u.id, u.handle, u.display_name, u.status_message, u.avatar, u.created_at, "
        "u.profile_pos, f.active FROM friends f JOIN users u ON u.id = f.friend_id "
        "WHERE f.owner_id = ? AND f.pos > ? AND f.pos <= ? ORDER BY f.pos");
    s.bind(1, owner.value).bind(2, since).bind(3, until);
    std::vector<FriendChange> out;
    while (s.step()) out.push_back(FriendChange{read_user(s), s.int64(7) == 0});
    return out;
  }

  std::optional<ChatRecord> chat(ChatId id) override {
    auto s = db_.prepare("SELECT " CHAT_COLS " FROM chats c WHERE c.id = ?");
    s.bind(1, id.value);
    if (!s.step()) return std::nullopt;
    return read_chat(s);
  }

  std::optional<ChatId> chat_by_direct_key(std::string_view key) override {
    auto s = db_.prepare("SELECT id FROM chats WHERE direct_key = ?");
    s.bind(1, key);
    if (!s.step()) return std::nullopt;
    return ChatId(s.int64(0));
  }

  std::optional<MemberRecord> membership(ChatId chat, UserId user) override {
    // (also the row of a member who left: their room identity outlives the membership)
    auto s = db_.prepare("SELECT " MEMBER_COLS " FROM members m WHERE m.chat_id = ? AND m.user_id = ?");
    s.bind(1, chat.value).bind(2, user.value);
    if (!s.step()) return std::nullopt;
    return read_member(s);
  }

  std::vector<MemberRecord> active_members(ChatId chat) override {
    auto s = db_.prepare("SELECT " MEMBER_COLS
                         " FROM members m WHERE m.chat_id = ? AND m.active = 1 ORDER BY m.user_id");
    s.bind(1, chat.value);
    std::vector<MemberRecord> out;
    while (s.step()) out.push_back(read_member(s));
    return out;
  }

  std::vector<ChatListEntry> chat_list(UserId user, std::int64_t limit,
                                       std::optional<ChatListCursor> cursor) override {
    auto s = db_.prepare(
        "SELECT " CHAT_COLS ", " MEMBER_COLS " FROM members m JOIN chats c ON c.id = m.chat_id "
        "WHERE m.user_id = ?1 AND m.active = 1 AND (?2 = 0 OR (c.last_activity_at, c.id) < (?3, ?4)) "
        "ORDER BY c.last_activity_at DESC, c.id DESC LIMIT ?5");
    s.bind(1, user.value)
        .bind(2, cursor ? 1 : 0)
        .bind(3, cursor ? cursor->last_activity_at : 0)
        .bind(4, cursor ? cursor->chat.value : 0)
        .bind(5, limit);
    std::vector<ChatListEntry> out;
    while (s.step()) out.push_back(ChatListEntry{read_chat(s, 0), read_member(s, kChatCols)});
    return out;
  }

  std::vector<ChatListEntry> changed_chats(int /*shard: one here*/, UserId user, Pos since,
                                           std::int64_t limit) override {
    // Memberships that carry their own position, in the order of the (user_id, pos) index;
    // then those that follow their wide chat's position, by the partial index of those.
    auto own = db_.prepare(
        "SELECT " CHAT_COLS ", " MEMBER_COLS " FROM members m JOIN chats c ON c.id = m.chat_id "
        "WHERE m.user_id = ? AND m.pos > ? AND m.via_chat = 0 ORDER BY m.pos LIMIT ?");
    own.bind(1, user.value).bind(2, since).bind(3, limit);
    std::vector<ChatListEntry> mine;
    while (own.step()) mine.push_back(ChatListEntry{read_chat(own, 0), read_member(own, kChatCols)});
    // Sorted here, not with ORDER BY: SQLite would open a temporary B-tree for the sort on
    // every call, even for the usual user in no wide chat, whose probe finds nothing.
    auto wide = db_.prepare(
        "SELECT " CHAT_COLS ", " MEMBER_COLS ", max(m.pos, c.pos) AS seen FROM members m "
        "INDEXED BY members_via_chat JOIN chats c ON c.id = m.chat_id "
        "WHERE m.user_id = ? AND m.via_chat = 1 AND seen > ?");
    wide.bind(1, user.value).bind(2, since);
    std::vector<ChatListEntry> followed;
    while (wide.step()) {
      ChatListEntry& e = followed.emplace_back(ChatListEntry{read_chat(wide, 0), read_member(wide, kChatCols)});
      e.me.pos = wide.int64(kChatCols + kMemberCols);
    }
    std::sort(followed.begin(), followed.end(), storage::earlier_change);  // the merge cuts at limit
    return storage::merge_changed_chats(std::move(mine), std::move(followed), limit);
  }

  std::optional<MessageRecord> message(ChatId chat, Seq seq) override {
    std::vector<MessageRecord> found = timeline(chat, seq - 1, seq + 1, 1, false);
    if (found.empty()) return std::nullopt;
    return std::move(found.front());
  }

  std::optional<MessageRecord> message_by_client_id(UserId sender,
                                                    std::string_view client_id) override {
    auto s = db_.prepare("SELECT " MESSAGE_COLS
                         " FROM messages WHERE sender_id = ? AND client_id = ?");
    s.bind(1, sender.value).bind(2, client_id);
    if (!s.step()) return std::nullopt;
    return read_message(s);
  }

  std::vector<MessageRecord> messages_before(ChatId chat, Seq before, std::int64_t limit) override {
    std::vector<MessageRecord> out = timeline(chat, 0, before, limit, true);
    std::reverse(out.begin(), out.end());
    return out;
  }

  std::vector<ModeratedMessage> moderated_since(ChatId chat, Pos since, std::int64_t limit) override {
    // The partial index holds only changed rows, in position order: no sort. (Left to
    // itself the planner could walk the chat's whole timeline.)
    auto s = db_.prepare("SELECT seq, deleted, hidden, deleted_pos FROM messages INDEXED BY messages_moderated "
                         "WHERE chat_id = ? AND deleted_pos != 0 AND deleted_pos > ? ORDER BY deleted_pos LIMIT ?");
    s.bind(1, chat.value).bind(2, since).bind(3, limit);
    std::vector<ModeratedMessage> out;
    while (s.step())
      out.push_back(ModeratedMessage{s.int64(0), s.int64(1) != 0, s.int64(2) != 0, s.int64(3)});
    return out;
  }

  std::vector<MessageRecord> messages_after(ChatId chat, Seq after, std::int64_t limit) override {
    return timeline(chat, after, kNoSeqAbove, limit, false);
  }

  std::vector<MessageRecord> messages_since(ChatId chat, Pos since, std::int64_t limit) override {
    std::vector<MessageRecord> out = timeline(chat, 0, kNoSeqAbove, limit, true);
    // Newest first; the first message at or before `since` ends the suffix.
    auto stale = std::find_if(out.begin(), out.end(), [since](const MessageRecord& m) { return m.pos <= since; });
    out.erase(stale, out.end());
    std::reverse(out.begin(), out.end());
    return out;
  }

  // The chat's messages with after < seq < before, at most `limit` of them, from the newest
  // end when `newest_first` (and in that order), else from the oldest: both tables of keys
  // read and merged by seq.
  std::vector<MessageRecord> timeline(ChatId chat, Seq after, Seq before, std::int64_t limit, bool newest_first) {
    // One snapshot for both tables: a statement that has finished holds none, and a commit
    // between the two could move keys from the tail into the timeline unseen by either.
    ReadSnapshot snapshot(*this);
    auto filed = db_.prepare(newest_first ? TIMELINE_QUERY("timeline", "DESC") : TIMELINE_QUERY("timeline", "ASC"));
    auto tail = db_.prepare(newest_first ? TIMELINE_QUERY("timeline_tail", "DESC")
                                         : TIMELINE_QUERY("timeline_tail", "ASC"));
    for (Stmt* s : {&filed, &tail}) s->bind(1, chat.value).bind(2, after).bind(3, before).bind(4, limit);
    std::vector<MessageRecord> out;
    out.reserve(static_cast<std::size_t>(std::clamp<std::int64_t>(limit, 0, kPageReserve)));
    bool more_filed = filed.step();
    bool more_tail = tail.step();
    auto comes_first = [newest_first](Seq a, Seq b) { return newest_first ? a > b : a < b; };
    while ((more_filed || more_tail) && static_cast<std::int64_t>(out.size()) < limit) {
      bool take_filed = more_filed && (!more_tail || comes_first(filed.int64(1), tail.int64(1)));
      Stmt& from = take_filed ? filed : tail;
      out.push_back(read_message(from));
      (take_filed ? more_filed : more_tail) = from.step();
    }
    return out;
  }

  StoreStats stats() override {
    StoreStats st;
    auto count = [&](const char* sql) {
      auto s = db_.prepare(sql);
      return s.step() ? s.int64(0) : 0;
    };
    st.users = count("SELECT count(*) FROM users");
    st.devices = count("SELECT count(*) FROM devices WHERE revoked = 0");
    st.chats = count("SELECT count(*) FROM chats");
    st.messages = count("SELECT count(*) FROM messages");
    st.bytes_on_disk = count("SELECT page_count * page_size FROM pragma_page_count(), pragma_page_size()");
    return st;
  }

  std::vector<std::string> check_integrity() override {
    std::vector<std::string> problems;
    {
      auto s = db_.prepare("PRAGMA integrity_check");
      while (s.step()) {
        std::string line = s.text(0);
        if (line != "ok") problems.push_back("sqlite: " + line);
      }
    }
    // Domain invariants: seqs are gap-free and end at the chat's last_seq.
    {
      auto s = db_.prepare(
          // Each table grouped in its key's order (no sort), then the two added up per chat.
          "SELECT c.id, c.last_seq, coalesce(f.n, 0) + coalesce(t.n, 0) AS keyed, "
          "max(coalesce(f.top, 0), coalesce(t.top, 0)) AS newest FROM chats c "
          "LEFT JOIN (SELECT chat_id, count(*) AS n, max(seq) AS top FROM timeline GROUP BY chat_id) f "
          "ON f.chat_id = c.id "
          "LEFT JOIN (SELECT chat_id, count(*) AS n, max(seq) AS top FROM timeline_tail GROUP BY chat_id) t "
          "ON t.chat_id = c.id WHERE keyed != c.last_seq OR newest != c.last_seq");
      while (s.step())
        problems.push_back(fmt::format("chat {}: last_seq {} but {} messages up to seq {}",
                                       s.int64(0), s.int64(1), s.int64(2), s.int64(3)));
    }
    // Every message is keyed once, in one of the two timeline tables, by its own chat and seq.
    {
      auto s = db_.prepare(
          "SELECT (SELECT count(*) FROM messages), (SELECT count(*) FROM timeline), "
          "(SELECT count(*) FROM timeline_tail), "
          "(SELECT count(*) FROM timeline t JOIN timeline_tail n USING (chat_id, seq)), "
          "(SELECT count(*) FROM (SELECT chat_id, seq, msg FROM timeline UNION ALL "
          "                       SELECT chat_id, seq, msg FROM timeline_tail) k "
          " LEFT JOIN messages m ON m.rowid = k.msg "
          " WHERE m.rowid IS NULL OR m.chat_id != k.chat_id OR m.seq != k.seq)");
      if (s.step() && (s.int64(0) != s.int64(1) + s.int64(2) || s.int64(3) != 0 || s.int64(4) != 0))
        problems.push_back(fmt::format("{} messages but {} + {} timeline keys, {} in both tables, "
                                       "{} pointing at no such message",
                                       s.int64(0), s.int64(1), s.int64(2), s.int64(3), s.int64(4)));
    }
    {
      auto s = db_.prepare(
          "SELECT m.chat_id, m.user_id FROM members m LEFT JOIN chats c ON c.id = m.chat_id "
          "WHERE c.id IS NULL");
      while (s.step())
        problems.push_back(fmt::format("membership of user {} in missing chat {}", s.int64(1), s.int64(0)));
    }
    {
      // Active members of a wide chat follow its position; nobody else does.
      auto s = db_.prepare(
          "SELECT count(*) FROM members m JOIN chats c ON c.id = m.chat_id "
          "WHERE m.via_chat != c.wide * m.active");
      if (s.step() && s.int64(0) > 0)
        problems.push_back(fmt::format("{} memberships disagree with their chat's width", s.int64(0)));
    }
    {
      auto s = db_.prepare(
          "SELECT count(*) FROM members WHERE pos > (SELECT value FROM meta WHERE key = 'pos')");
      if (s.step() && s.int64(0) > 0)
        problems.push_back(fmt::format("{} memberships carry a position beyond the stored one", s.int64(0)));
    }
    return problems;
  }

 protected:
  Db& db_;
  int snapshot_depth_ = 0;
};

class ReadViewImpl final : public Reads<ReadView> {
 public:
  // `recent` (may be null) answers messages_since when it holds the chat as this view sees it.
  ReadViewImpl(std::unique_ptr<Db> db, const RecentMessages* recent)
      : Reads(*db), owned_(std::move(db)), open_rooms_(make_open_rooms(*owned_)), recent_(recent) {}

  OpenRoomsView& open_rooms() override { return *open_rooms_; }

  std::vector<MessageRecord> messages_since(ChatId chat, Pos since, std::int64_t limit) override {
    if (recent_)
      if (auto pos = chat_pos(chat))
        if (auto cached = recent_->messages_since(chat, *pos, since, limit)) return std::move(*cached);
    return Reads::messages_since(chat, since, limit);
  }

  std::vector<MessageRecord> messages_before(ChatId chat, Seq before, std::int64_t limit) override {
    if (recent_)
      if (auto pos = chat_pos(chat))
        if (auto cached = recent_->messages_before(chat, *pos, before, limit)) return std::move(*cached);
    return Reads::messages_before(chat, before, limit);
  }

 private:
  // The chat's position as this view sees it: it names the state the cache must hold.
  std::optional<Pos> chat_pos(ChatId chat) {
    auto s = db_.prepare("SELECT pos FROM chats WHERE id = ?");
    s.bind(1, chat.value);
    if (!s.step()) return std::nullopt;
    return s.int64(0);
  }

  std::unique_ptr<Db> owned_;
  std::unique_ptr<OpenRoomsTx> open_rooms_;  // used read-only here
  const RecentMessages* recent_;
};

// The batch's writes. A statement that may write several rows and may fail (a constraint
// with SQLite's default ABORT) runs in a statement journal, into which SQLite copies every
// page before the statement's first change to it. Nothing here needs one statement undone
// on its own: an exception aborts the whole batch, and a job that fails after writing is
// rolled back to its savepoint or aborts the batch (run_batch). So the hot path's
// multi-row writes say OR FAIL, which skips the journal.
class WriteTxImpl final : public Reads<WriteTx> {
 public:
  // `recent` (may be null) is told what the batch changed (recent_changes()).
  WriteTxImpl(Db& db, Pos committed_pos, RecentMessages* recent, std::int64_t tail_rows_kept)
      : Reads(db),
        pos_(committed_pos),
        tail_rows_kept_(tail_rows_kept),
        open_rooms_(make_open_rooms(db)),
        recent_(recent) {
    count_timeline_tail();
  }

  OpenRoomsTx& open_rooms() override { return *open_rooms_; }

  using Reads::current_pos;
  Pos current_pos(int /*shard: one here*/) override { return pos_; }
  void begin_snapshot() override {}  // already inside the batch transaction
  void end_snapshot() override {}

  Pos next_pos() override { return ++pos_; }
  Pos last_pos() const { return pos_; }
  // After a failed batch: positions it handed out were never persisted, so reuse them.
  void reset_pos(Pos committed) { pos_ = committed; }

  UserId insert_user(const UserRecord& u, std::string_view password_hash) override {
    auto s = db_.prepare(
        "INSERT INTO users(handle, password_hash, display_name, status_message, avatar, "
        "created_at, profile_pos) VALUES (?, ?, ?, ?, ?, ?, ?)");
    s.bind(1, u.handle).bind(2, password_hash).bind(3, u.display_name)
        .bind(4, u.status_message).bind(5, u.avatar).bind(6, u.created_at).bind(7, u.profile_pos);
    s.run();
    return UserId(db_.last_insert_rowid());
  }

  void update_profile(const UserRecord& u) override {
    auto s = db_.prepare(
        "UPDATE users SET display_name = ?, status_message = ?, avatar = ?, profile_pos = ? "
        "WHERE id = ?");
    s.bind(1, u.display_name).bind(2, u.status_message).bind(3, u.avatar)
        .bind(4, u.profile_pos).bind(5, u.id.value);
    s.run();
  }

  DeviceId insert_device(const DeviceRecord& d, std::string_view token_hash) override {
    auto s = db_.prepare(
        "INSERT INTO devices(user_id, kind, name, token_hash, created_at, last_seen_at) "
        "VALUES (?, ?, ?, ?, ?, ?)");
    s.bind(1, d.user.value).bind(2, device_kind_name(d.kind)).bind(3, d.name)
        .bind_blob(4, token_hash).bind(5, d.created_at).bind(6, d.last_seen_at);
    s.run();
    return DeviceId(db_.last_insert_rowid());
  }

  bool revoke_device(UserId user, DeviceId device) override {
    auto s = db_.prepare("UPDATE devices SET revoked = 1 WHERE id = ? AND user_id = ? AND revoked = 0");
    s.bind(1, device.value).bind(2, user.value);
    s.run();
    return db_.changes() > 0;
  }

  void touch_device(DeviceId device, TimeMs now) override {
    auto s = db_.prepare("UPDATE devices SET last_seen_at = ? WHERE id = ?");
    s.bind(1, now).bind(2, device.value);
    s.run();
  }

  bool add_friend(UserId owner, UserId other, Pos pos, TimeMs now) override {
    if (is_friend(owner, other)) return false;
    auto s = db_.prepare(
        "INSERT INTO friends(owner_id, friend_id, active, created_at, pos) VALUES (?, ?, 1, ?, ?) "
        "ON CONFLICT(owner_id, friend_id) DO UPDATE SET active = 1, created_at = excluded.created_at, "
        "pos = excluded.pos");
    s.bind(1, owner.value).bind(2, other.value).bind(3, now).bind(4, pos);
    s.run();
    return true;
  }

  bool remove_friend(UserId owner, UserId other, Pos pos) override {
    auto s = db_.prepare(
        "UPDATE friends SET active = 0, pos = ? WHERE owner_id = ? AND friend_id = ? AND active = 1");
    s.bind(1, pos).bind(2, owner.value).bind(3, other.value);
    s.run();
    return db_.changes() > 0;
  }

  void touch_friend_edges_to(UserId user, Pos pos) override {
    auto s = db_.prepare("UPDATE friends SET pos = ? WHERE friend_id = ? AND active = 1");
    s.bind(1, pos).bind(2, user.value);
    s.run();
  }

  ChatId insert_chat(const ChatRecord& c, std::optional<std::string_view> direct_key) override {
    auto s = db_.prepare(
        "INSERT INTO chats(kind, title, created_by, created_at, last_seq, last_activity_at, "
        "direct_key) VALUES (?, ?, ?, ?, ?, ?, ?)");
    s.bind(1, chat_kind_name(c.kind)).bind(2, c.title).bind(3, c.created_by.value)
        .bind(4, c.created_at).bind(5, c.last_seq).bind(6, c.last_activity_at);
    if (direct_key) s.bind(7, *direct_key); else s.bind_null(7);
    s.run();
    return ChatId(db_.last_insert_rowid());
  }

  void update_chat_title(ChatId chat, std::string_view title) override {
    auto s = db_.prepare("UPDATE chats SET title = ? WHERE id = ?");
    s.bind(1, title).bind(2, chat.value);
    s.run();
  }

  void update_chat_last(ChatId chat, Seq last_seq, TimeMs last_activity_at, Pos pos) override {
    auto first = new_seqs_.find(chat.value);
    if (first == new_seqs_.end()) {
      auto s = db_.prepare("UPDATE chats SET last_seq = ?, last_activity_at = ?, pos = ? WHERE id = ?");
      s.bind(1, last_seq).bind(2, last_activity_at).bind(3, pos).bind(4, chat.value);
      s.run();
    } else {
      // The batch stored messages in this chat: the first must follow the stored last seq.
      auto s = db_.prepare(
          "UPDATE chats SET last_seq = ?, last_activity_at = ?, pos = ? WHERE id = ? AND last_seq < ?");
      s.bind(1, last_seq).bind(2, last_activity_at).bind(3, pos).bind(4, chat.value).bind(5, first->second);
      s.run();
      if (db_.changes() != 1) throw_seq_taken(chat.value, first->second);
      new_seqs_.erase(first);
    }
    if (recent_) changes_.chat_moved(chat, pos);
  }

  void upsert_member(const MemberRecord& m) override {
    auto s = db_.prepare(
        "INSERT INTO members(chat_id, user_id, role, joined_seq, read_seq, active, pos, public_id, "
        "nickname, room_avatar, permissions, joined_at, via_chat) VALUES (?1, ?2, ?3, ?4, ?5, 1, ?6, "
        "?7, ?8, ?9, ?10, ?11, (SELECT wide FROM chats WHERE id = ?1)) "
        "ON CONFLICT(chat_id, user_id) DO UPDATE SET role = excluded.role, "
        "joined_seq = excluded.joined_seq, read_seq = excluded.read_seq, active = 1, "
        "pos = excluded.pos, public_id = excluded.public_id, nickname = excluded.nickname, "
        "room_avatar = excluded.room_avatar, permissions = excluded.permissions, "
        "joined_at = excluded.joined_at, via_chat = excluded.via_chat");
    s.bind(1, m.chat.value).bind(2, m.user.value).bind(3, member_role_name(m.role))
        .bind(4, m.joined_seq).bind(5, m.read_seq).bind(6, m.pos).bind(7, m.public_id)
        .bind(9, m.room_avatar).bind(10, static_cast<std::int64_t>(m.permissions))
        .bind(11, m.joined_at);
    if (m.nickname) s.bind(8, *m.nickname); else s.bind_null(8);
    s.run();
  }

  void set_member_left(ChatId chat, UserId user, Pos pos) override {
    auto s = db_.prepare("UPDATE members SET active = 0, via_chat = 0, pos = ? WHERE chat_id = ? AND user_id = ?");
    s.bind(1, pos).bind(2, chat.value).bind(3, user.value);
    s.run();
  }

  void set_read_seq(ChatId chat, UserId user, Seq read_seq) override {
    auto s = db_.prepare("UPDATE members SET read_seq = ? WHERE chat_id = ? AND user_id = ?");
    s.bind(1, read_seq).bind(2, chat.value).bind(3, user.value);
    s.run();
  }

  void set_chat_wide(ChatId chat, bool wide) override {
    auto c = db_.prepare("UPDATE chats SET wide = ? WHERE id = ?");
    c.bind(1, wide ? 1 : 0).bind(2, chat.value);
    c.run();
    auto m = db_.prepare(
        "UPDATE members SET via_chat = ?1, pos = max(pos, (SELECT pos FROM chats WHERE id = ?2)) "
        "WHERE chat_id = ?2 AND active = 1");
    m.bind(1, wide ? 1 : 0).bind(2, chat.value);
    m.run();
  }

  void touch_members(ChatId chat, Pos pos) override {
    auto s = db_.prepare("UPDATE members SET pos = ? WHERE chat_id = ? AND active = 1");
    s.bind(1, pos).bind(2, chat.value);
    s.run();
  }

  void touch_members_and_reads(ChatId chat, Pos pos, std::span<const MemberReadSeq> reads) override {
    // One statement per number of pointers it sets (index), up to four; more go one by one.
    // OR FAIL: no statement journal (see the class comment).
    static constexpr const char* kSql[] = {
        "UPDATE OR FAIL members SET pos = ?1 WHERE chat_id = ?2 AND active = 1",
        "UPDATE OR FAIL members SET pos = ?1, read_seq = CASE user_id WHEN ?3 THEN ?4 ELSE read_seq END "
        "WHERE chat_id = ?2 AND active = 1",
        "UPDATE OR FAIL members SET pos = ?1, read_seq = CASE user_id WHEN ?3 THEN ?4 WHEN ?5 THEN ?6 "
        "ELSE read_seq END WHERE chat_id = ?2 AND active = 1",
        "UPDATE OR FAIL members SET pos = ?1, read_seq = CASE user_id WHEN ?3 THEN ?4 WHEN ?5 THEN ?6 "
        "WHEN ?7 THEN ?8 ELSE read_seq END WHERE chat_id = ?2 AND active = 1",
        "UPDATE OR FAIL members SET pos = ?1, read_seq = CASE user_id WHEN ?3 THEN ?4 WHEN ?5 THEN ?6 "
        "WHEN ?7 THEN ?8 WHEN ?9 THEN ?10 ELSE read_seq END WHERE chat_id = ?2 AND active = 1",
    };
    const std::size_t together = std::min(reads.size(), std::size(kSql) - 1);
    for (const MemberReadSeq& r : reads.subspan(together)) set_read_seq(chat, r.user, r.read_seq);
    auto s = db_.prepare(kSql[together]);
    s.bind(1, pos).bind(2, chat.value);
    int i = 3;
    for (const MemberReadSeq& r : reads.first(together)) {
      s.bind(i++, r.user.value);
      s.bind(i++, r.read_seq);
    }
    s.run();
  }

  void insert_message(const MessageRecord& m) override {
    insert_message_row(m, false);
    key_new_message(m);
  }

  // The unique index on the client id decides, in the insert itself: a send spares the
  // lookup before it, which only a retry needs.
  bool insert_message_once(const MessageRecord& m) override {
    if (!insert_message_row(m, true)) return false;
    key_new_message(m);
    return true;
  }

  // Inserts the message's row; returns whether it went in. `once`: unless the sender's
  // client_id is taken (else a taken one throws).
  bool insert_message_row(const MessageRecord& m, bool once) {
    auto s = db_.prepare(once ? INSERT_MESSAGE " ON CONFLICT(client_id, sender_id) DO NOTHING"
                              : INSERT_MESSAGE);
    s.bind(1, m.chat.value).bind(2, m.seq).bind(3, m.sender.value).bind_borrowed(4, m.client_id)
        .bind(5, message_kind_name(m.kind)).bind_borrowed(6, m.text).bind(7, m.reply_to)
        .bind(8, m.created_at).bind(9, m.pos);
    s.run();
    return db_.changes() == 1;
  }

  // After the message's row went in: keys it in the timeline's tail (filed into `timeline`
  // later) and notes it for the batch's checks and the cache of recent messages.
  void key_new_message(const MessageRecord& m) {
    // Keyed in the tail, whose key refuses a seq taken earlier in this batch. One taken
    // before it is at or below the chat's stored last seq (check_integrity verifies that
    // every stored message is), which this batch's update of that seq checks for free
    // (update_chat_last, check_new_seqs).
    auto key = db_.prepare("INSERT INTO timeline_tail(chat_id, seq, msg) VALUES (?, ?, ?)");
    key.bind(1, m.chat.value).bind(2, m.seq).bind(3, db_.last_insert_rowid());
    key.run();
    ++tail_rows_;
    auto [first, fresh] = new_seqs_.try_emplace(m.chat.value, m.seq);
    if (!fresh) first->second = std::min(first->second, m.seq);
    if (recent_) changes_.inserted(m);
  }

  void mark_message_deleted(ChatId chat, Seq seq, Pos pos) override {
    auto s = db_.prepare("UPDATE messages SET deleted = 1, text = '', deleted_pos = ?1 WHERE rowid = " MESSAGE_ROWID);
    s.bind(1, pos).bind(2, chat.value).bind(3, seq);
    s.run();
    if (recent_) changes_.deleted(chat, seq);
  }

  void set_message_hidden(ChatId chat, Seq seq, bool hidden, Pos pos) override {
    auto s = db_.prepare("UPDATE messages SET hidden = ?4, deleted_pos = ?1 WHERE rowid = " MESSAGE_ROWID);
    s.bind(1, pos).bind(2, chat.value).bind(3, seq).bind(4, hidden ? 1 : 0);
    s.run();
    if (recent_) changes_.hidden(chat, seq, hidden);
  }

  // Moves entries of `timeline_tail` into `timeline`, a slice at a time in key order, so
  // that the tail keeps about SqliteOptions::timeline_tail_rows entries (8,192 by default:
  // about 30 pages. More would let each chat gather more entries per sweep, but spread each
  // batch's new entries over more of the tail's pages). The slice starts where the last one
  // ended and wraps at the end, so each chat's entries wait for one sweep of the tail: a
  // chat's leaf in `timeline` is rewritten once for all they are, and the tail stays a few
  // dozen pages that each batch's new entries share. Called once per batch, before COMMIT.
  void file_timeline_tail() {
    std::int64_t budget = tail_rows_ - tail_rows_kept_;
    if (budget <= 0) return;
    Seq to_chat = kNoSeqAbove, to_seq = kNoSeqAbove;
    bool to_the_end = true;
    {
      auto end = db_.prepare("SELECT chat_id, seq FROM timeline_tail WHERE (chat_id, seq) > (?1, ?2) "
                             "ORDER BY chat_id, seq LIMIT 1 OFFSET ?3");
      end.bind(1, sweep_chat_).bind(2, sweep_seq_).bind(3, budget - 1);
      if (end.step()) {
        to_chat = end.int64(0);
        to_seq = end.int64(1);
        to_the_end = false;
      }
    }
    auto file = db_.prepare("INSERT OR FAIL INTO timeline(chat_id, seq, msg) SELECT chat_id, seq, msg FROM timeline_tail "
                            "WHERE (chat_id, seq) > (?1, ?2) AND (chat_id, seq) <= (?3, ?4) ORDER BY chat_id, seq");
    file.bind(1, sweep_chat_).bind(2, sweep_seq_).bind(3, to_chat).bind(4, to_seq);
    file.run();
    std::int64_t filed = db_.changes();
    auto drop = db_.prepare("DELETE FROM timeline_tail WHERE (chat_id, seq) > (?1, ?2) AND (chat_id, seq) <= (?3, ?4)");
    drop.bind(1, sweep_chat_).bind(2, sweep_seq_).bind(3, to_chat).bind(4, to_seq);
    drop.run();
    tail_rows_ -= filed;
    sweep_chat_ = to_the_end ? 0 : to_chat;
    sweep_seq_ = to_the_end ? 0 : to_seq;
  }

  // After a job's or a batch's rollback: the tail holds what the database says.
  void count_timeline_tail() {
    auto s = db_.prepare("SELECT count(*) FROM timeline_tail");
    tail_rows_ = s.step() ? s.int64(0) : 0;
  }

  // Before COMMIT: the chats that got messages in this batch but whose last seq it did not
  // update (only direct writes do that) are checked here, one query each.
  void check_new_seqs() {
    for (auto [chat, first] : new_seqs_) {
      auto s = db_.prepare("SELECT last_seq FROM chats WHERE id = ?");
      s.bind(1, chat);
      if (!s.step() || s.int64(0) >= first) throw_seq_taken(chat, first);
    }
    new_seqs_.clear();
  }
  // After a batch failed: nothing of it is stored.
  void forget_new_seqs() { new_seqs_.clear(); }

  [[noreturn]] static void throw_seq_taken(std::int64_t chat, Seq seq) {
    throw StorageError(fmt::format("chat {} has no room for a message with seq {}: it is at or below the "
                                   "chat's last seq, or the chat does not exist", chat, seq));
  }

  void scrub_user(UserId user, Pos pos) override {
    auto s = db_.prepare(
        "UPDATE users SET handle = '~' || id, password_hash = '', display_name = '', "
        "status_message = '', avatar = '', profile_pos = ? WHERE id = ?");
    s.bind(1, pos).bind(2, user.value);
    s.run();
    auto d = db_.prepare("UPDATE devices SET revoked = 1 WHERE user_id = ?");
    d.bind(1, user.value);
    d.run();
    auto n = db_.prepare("DELETE FROM open_nicknames WHERE user_id = ?");
    n.bind(1, user.value);
    n.run();
  }

  void persist_pos() {
    auto s = db_.prepare("UPDATE meta SET value = ? WHERE key = 'pos'");
    s.bind(1, pos_);
    s.run();
  }

  // The batch's message changes, for the cache of recent messages (empty without one).
  RecentMessages::Changes& recent_changes() { return changes_; }

 private:
  Pos pos_;
  // This batch's chats with new messages, each with the smallest new seq, until checked.
  std::unordered_map<std::int64_t, Seq> new_seqs_;
  // The tail's entries (as counted here) and as many as it keeps, and where the next slice
  // of it to file begins.
  std::int64_t tail_rows_ = 0;
  std::int64_t tail_rows_kept_;
  std::int64_t sweep_chat_ = 0;
  Seq sweep_seq_ = 0;
  std::unique_ptr<OpenRoomsTx> open_rooms_;
  RecentMessages* recent_;
  RecentMessages::Changes changes_;
};

// Distinguishes store instances in the per-thread reader cache, so a reader is never
// reused across stores, even when a new store reuses an old one's address.
std::atomic<std::uint64_t> g_store_generation{0};

// Checkpoints (copying WAL pages back into the database file, then syncing it) run on a
// thread of their own, so the committer never stalls a batch behind one. SQLite's own
// auto-checkpoint would run inside the COMMIT of every batch that crosses 1,000 pages.
//  * kCheckpointFrames: the committer wakes the checkpointer each time the WAL has grown by
//    this many frames (2 MiB). After each checkpoint the checkpointer syncs the database
//    file itself: SQLite syncs it only when a checkpoint reaches the WAL's end, which a
//    checkpoint racing a busy writer never does. Small steps keep each sync short; a long
//    one makes the commits' own syncs of the WAL wait behind it on the same disk.
//  * kRestartFrames: a background checkpoint never catches up with a busy writer, and the
//    WAL only starts over from its beginning when a write transaction begins with every
//    frame copied. Past this size the committer, between batches and while the
//    checkpointer is idle, copies the remaining tail itself once it is at most
//    kRestartTailFrames (the checkpointer is asked again until then), and the next batch
//    rewinds the WAL. That copy, and its sync of the database file, stop every write, so
//    it is kept to a few pages. Should the checkpointer never get the tail that short, the
//    committer copies whatever is left once the WAL has doubled. This bounds the WAL at
//    64–128 MiB and keeps its file overwritten in place, not extended.
constexpr int kCheckpointFrames = 500;
constexpr int kRestartFrames = 16000;
constexpr int kRestartTailFrames = 128;
// After this long without a write, the rest of the WAL is checkpointed. Every page a reader
// fetches is first looked up in the WAL's index, and that lookup grows with the frames in
// it (pages rewritten often make long chains); a fully copied WAL is not consulted at all.
constexpr auto kIdleCheckpointDelay = std::chrono::milliseconds(50);

// Syncs `db`'s main database file through its VFS (which first passes on any writes it
// holds). Only the checkpointer calls this, on its own connection.
void sync_database_file(Db& db) {
  sqlite3_file* file = nullptr;
  if (sqlite3_file_control(db.raw(), "main", SQLITE_FCNTL_FILE_POINTER, &file) != SQLITE_OK || !file ||
      !file->pMethods)
    return;
  if (int rc = file->pMethods->xSync(file, SQLITE_SYNC_NORMAL); rc != SQLITE_OK)
    spdlog::warn("syncing the database file after a checkpoint failed: {}", sqlite3_errstr(rc));
}

class SqliteStore final : public Store {
 public:
  SqliteStore(const SqliteOptions& options, std::optional<DirectoryLock> lock)
      : lock_(std::move(lock)),
        options_(options),
        path_(sqlite::database_file(options.directory).string()),
        generation_(++g_store_generation) {
    // With a sync at every commit and checkpoint, the writer passes a commit's WAL frames
    // on in one write, and checkpoints pass runs of adjacent pages on in one write.
    const char* vfs = options.synchronous_full ? write_gather_vfs() : nullptr;
    writer_db_ = std::make_unique<Db>(path_, false, vfs);
    writer_db_->exec("PRAGMA journal_mode = WAL");
    writer_db_->exec(options.synchronous_full ? "PRAGMA synchronous = FULL"
                                              : "PRAGMA synchronous = OFF");
    writer_db_->exec("PRAGMA foreign_keys = OFF; PRAGMA cache_size = -65536; "
                     "PRAGMA temp_store = MEMORY");
    // After the WAL starts over, truncate a file that grew past this (bytes; see
    // kRestartFrames).
    writer_db_->exec("PRAGMA journal_size_limit = 134217728");
    migrate(*writer_db_);
    Pos pos = 0;
    {
      auto s = writer_db_->prepare("SELECT value FROM meta WHERE key = 'pos'");
      if (s.step()) pos = s.int64(0);
    }
    if (options.recent_messages_bytes > 0)
      recent_ = std::make_unique<RecentMessages>(options.recent_messages_bytes);
    tx_ = std::make_unique<WriteTxImpl>(*writer_db_, pos, recent_.get(), options.timeline_tail_rows);
    // Replaces SQLite's auto-checkpoint on the writer (see kCheckpointFrames).
    sqlite3_wal_hook(writer_db_->raw(), &SqliteStore::on_wal_commit, this);
    checkpoint_db_ = std::make_unique<Db>(path_, false, vfs);
    checkpoint_db_->exec(options.synchronous_full ? "PRAGMA synchronous = FULL"
                                                  : "PRAGMA synchronous = OFF");
    checkpointer_ = std::thread([this] {
      name_this_thread("modu-checkpoint");
      run_checkpointer();
    });
    line_->store = this;
    if (!options_.commit_scheduler)
      committer_ = std::thread([this] {
        name_this_thread("modu-commit");
        run_committer();
      });
  }

  ~SqliteStore() override {
    stop();
    std::lock_guard commit(line_->mu);
    line_->store = nullptr;  // tasks still scheduled find no store
  }

  ReadView& reader() override {
    struct Cached {
      std::uint64_t generation = 0;
      ReadView* view = nullptr;
    };
    thread_local Cached cached;
    if (cached.generation == generation_) return *cached.view;
    auto db = std::make_unique<Db>(path_, false);
    db->exec("PRAGMA query_only = 1; PRAGMA cache_size = -16384");
    auto view = std::make_unique<ReadViewImpl>(std::move(db), recent_.get());
    ReadView* raw = view.get();
    {
      std::lock_guard lock(readers_mu_);
      readers_.push_back(std::move(view));
    }
    cached = Cached{generation_, raw};
    return *raw;
  }

  void submit(WriteJob job) override {
    std::chrono::steady_clock::time_point due;
    {
      std::unique_lock lock(mu_);
      if (stopping_) {
        lock.unlock();
        job.done(make_error(ErrorCode::kUnavailable, "the server is shutting down"));
        return;
      }
      queue_.push_back(std::move(job));
      queued_.store(queue_.size(), std::memory_order_relaxed);
      if (!options_.commit_scheduler) {
        // A busy committer takes the job with its next batch; only a sleeping one is woken.
        if (committer_idle_) cv_.notify_one();
        return;
      }
      // A commit already on its way takes the job with its batch.
      if (commit_scheduled_) return;
      commit_scheduled_ = true;
      due = last_commit_started_ + options_.commit_interval;
    }
    options_.commit_scheduler(due, scheduled(&SqliteStore::run_scheduled_commit));
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
    if (options_.commit_scheduler) {
      // Commits run as the scheduler's tasks: finish what is queued here.
      std::lock_guard commit(line_->mu);
      std::vector<WriteJob> batch;
      std::vector<Status> results;
      while (take_batch(batch)) commit_batch(batch, results);
    }
    {
      std::lock_guard lock(checkpoint_mu_);
      checkpoint_stopping_ = true;
      checkpoint_cv_.notify_one();
    }
    if (checkpointer_.joinable()) checkpointer_.join();
  }

  std::size_t queued() const override { return queued_.load(std::memory_order_relaxed); }

  RecentMessagesStats recent_messages() const override { return recent_ ? recent_->stats() : RecentMessagesStats{}; }

 private:
  void run_committer() {
    std::vector<WriteJob> batch;
    std::vector<Status> results;
    for (;;) {
      batch.clear();
      {
        std::unique_lock lock(mu_);
        committer_idle_ = true;
        auto has_work = [&] { return !queue_.empty() || stopping_; };
        // Idle with frames not yet handed to the checkpointer: hand them over after
        // kIdleCheckpointDelay, or once a checkpoint still running has finished.
        while (wal_frames_ > checkpoint_requested_at_ &&
               !cv_.wait_for(lock, kIdleCheckpointDelay, has_work)) {
          lock.unlock();
          checkpoint_when_idle();
          lock.lock();
        }
        cv_.wait(lock, has_work);
        committer_idle_ = false;
        // Group commit by time (SqliteOptions::commit_interval): the writes that come
        // before the interval is up join this batch and share its sync.
        auto due = last_commit_started_ + options_.commit_interval;
        if (!stopping_ && std::chrono::steady_clock::now() < due) {
          lock.unlock();
          std::this_thread::sleep_until(due);
          lock.lock();
        }
        if (!take_batch_locked(batch)) return;  // stopping, and nothing left to do
      }
      commit_batch(batch, results);
    }
  }

  // A task for SqliteOptions::commit_scheduler that runs `step` under line_->mu, or nothing
  // once the store is gone.
  std::function<void()> scheduled(void (SqliteStore::*step)()) {
    return [line = line_, step] {
      std::lock_guard commit(line->mu);
      if (line->store) (line->store->*step)();
    };
  }

  // Commits on the scheduler's thread (SqliteOptions::commit_scheduler): one batch per task,
  // and the next task asked for while jobs are left.
  void run_scheduled_commit() {  // REQUIRES(line_->mu)
    std::vector<WriteJob> batch;
    std::optional<std::chrono::steady_clock::time_point> next;  // jobs left: their commit
    {
      std::lock_guard lock(mu_);
      if (!take_batch_locked(batch)) {
        commit_scheduled_ = false;  // stop() took the queue
        return;
      }
      if (queue_.empty()) commit_scheduled_ = false;  // the next submit asks for a commit
      else next = last_commit_started_ + options_.commit_interval;
    }
    commit_batch(batch, scheduled_results_);
    last_commit_finished_ = std::chrono::steady_clock::now();
    if (next) options_.commit_scheduler(*next, scheduled(&SqliteStore::run_scheduled_commit));
    if (!idle_check_scheduled_ && wal_frames_ > checkpoint_requested_at_) {
      idle_check_scheduled_ = true;
      options_.commit_scheduler(last_commit_finished_ + kIdleCheckpointDelay,
                                scheduled(&SqliteStore::run_idle_check));
    }
  }

  // The scheduler's counterpart of the committer's idle wait: once no batch has run for
  // kIdleCheckpointDelay, hand the WAL's frames to the checkpointer (or look again later,
  // while a checkpoint still runs).
  void run_idle_check() {  // REQUIRES(line_->mu)
    idle_check_scheduled_ = false;
    {
      std::lock_guard lock(mu_);
      if (stopping_) return;
    }
    auto now = std::chrono::steady_clock::now();
    bool idle = now - last_commit_finished_ >= kIdleCheckpointDelay;
    if (idle) checkpoint_when_idle();
    if (wal_frames_ > checkpoint_requested_at_) {
      idle_check_scheduled_ = true;
      options_.commit_scheduler((idle ? now : last_commit_finished_) + kIdleCheckpointDelay,
                                scheduled(&SqliteStore::run_idle_check));
    }
  }

  // Moves up to max_batch queued jobs into `batch` and notes when their commit started.
  // Returns false when nothing was queued.
  bool take_batch_locked(std::vector<WriteJob>& batch) {  // REQUIRES(mu_)
    batch.clear();
    if (queue_.empty()) return false;
    std::size_t n = std::min(queue_.size(), options_.max_batch);
    for (std::size_t i = 0; i < n; ++i) {
      batch.push_back(std::move(queue_.front()));
      queue_.pop_front();
    }
    queued_.store(queue_.size(), std::memory_order_relaxed);
    last_commit_started_ = std::chrono::steady_clock::now();
    return true;
  }
  bool take_batch(std::vector<WriteJob>& batch) {
    std::lock_guard lock(mu_);
    return take_batch_locked(batch);
  }

  // Runs and commits `batch`, then answers its jobs and looks after the WAL. Only one
  // batch at a time: on the committer thread, or under line_->mu.
  void commit_batch(std::vector<WriteJob>& batch, std::vector<Status>& results) {
    auto started = std::chrono::steady_clock::now();
    Pos from = tx_->last_pos();
    bool committed = run_batch(batch, results);
    if (!committed) tx_->reset_pos(from);
    double seconds =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
    if (hooks_.before_done) hooks_.before_done(0, from, tx_->last_pos());
    for (std::size_t i = 0; i < batch.size(); ++i)
      if (batch[i].done) batch[i].done(results[i]);
    if (hooks_.after_done) hooks_.after_done();
    if (hooks_.after_commit) hooks_.after_commit(batch.size(), seconds);
    maintain_wal();
  }

  // SQLite calls this on the committer thread after each commit, with the WAL's size.
  static int on_wal_commit(void* self, sqlite3*, const char*, int frames) {
    static_cast<SqliteStore*>(self)->wal_frames_ = frames;
    return SQLITE_OK;
  }

  // On the committer, between batches (after the batch's answers went out).
  void maintain_wal() {
    if (wal_frames_ < checkpoint_requested_at_) checkpoint_requested_at_ = 0;  // WAL rewound
    if (wal_frames_ >= kRestartFrames) {
      if (checkpoint_running_.load()) return;  // two checkpoints cannot overlap
      // The checkpointer has copied and synced everything up to where it was last asked;
      // the tail since then is left. Copy it here so that the next batch rewinds the WAL,
      // when it is short, or when the WAL has grown to twice the limit (a busy writer can
      // outrun the checkpointer forever); else let the checkpointer shorten it first.
      int tail = wal_frames_ - checkpoint_requested_at_;
      if (tail <= kRestartTailFrames || wal_frames_ >= 2 * kRestartFrames)
        sqlite3_wal_checkpoint_v2(writer_db_->raw(), nullptr, SQLITE_CHECKPOINT_PASSIVE, nullptr,
                                  nullptr);
      else
        request_checkpoint();
      return;
    }
    // One background checkpoint per kCheckpointFrames of growth, not one per batch.
    if (wal_frames_ >= checkpoint_requested_at_ + kCheckpointFrames) request_checkpoint();
  }

  // On the committer, once no write has come for kIdleCheckpointDelay: copy the rest of the
  // WAL, so that readers skip it until the next write, and that write starts it over.
  void checkpoint_when_idle() {
    if (!checkpoint_running_.load()) request_checkpoint();
  }

  void request_checkpoint() {
    checkpoint_requested_at_ = wal_frames_;
    std::lock_guard lock(checkpoint_mu_);
    checkpoint_wanted_ = true;
    checkpoint_running_ = true;
    checkpoint_cv_.notify_one();
  }

  void run_checkpointer() {
    for (;;) {
      {
        std::unique_lock lock(checkpoint_mu_);
        checkpoint_cv_.wait(lock, [&] { return checkpoint_wanted_ || checkpoint_stopping_; });
        if (checkpoint_stopping_) return;
        checkpoint_wanted_ = false;
      }
      // PASSIVE: copies the frames no reader still needs, never blocks the writer or readers.
      int rc = sqlite3_wal_checkpoint_v2(checkpoint_db_->raw(), nullptr, SQLITE_CHECKPOINT_PASSIVE,
                                         nullptr, nullptr);
      if (rc != SQLITE_OK && rc != SQLITE_BUSY)
        spdlog::warn("WAL checkpoint failed: {}", sqlite3_errmsg(checkpoint_db_->raw()));
      // The pages just copied, synced here rather than all at once by the committer before
      // the WAL starts over (see kCheckpointFrames).
      if (options_.synchronous_full) sync_database_file(*checkpoint_db_);
      checkpoint_running_ = false;
    }
  }

  // Returns whether the batch committed.
  bool run_batch(std::vector<WriteJob>& batch, std::vector<Status>& results) {
    results.assign(batch.size(), ok_status());
    Db& db = *writer_db_;
    RecentMessages::Changes& changes = tx_->recent_changes();
    try {
      db.prepare("BEGIN IMMEDIATE").run();
      for (std::size_t i = 0; i < batch.size(); ++i) {
        // A savepoint copies each page the job changes before its first change there.
        bool savepoint = !batch[i].checks_before_writing;
        if (savepoint) db.prepare("SAVEPOINT job").run();
        std::size_t mark = changes.mark();
        std::int64_t changes_before = sqlite3_total_changes64(db.raw());
        // A returned error fails only this job; an exception (storage failure or bug)
        // aborts the whole batch below, so no half-applied job can ever commit.
        Status status = batch[i].apply(*tx_);
        if (!status.ok()) {
          if (savepoint)
            db.prepare("ROLLBACK TO job").run();
          else if (sqlite3_total_changes64(db.raw()) != changes_before)
            throw StorageError(fmt::format("a job that checks before writing changed rows, then "
                                           "failed: {}", status.error().message));
          changes.roll_back_to(mark);
          tx_->count_timeline_tail();
        }
        if (savepoint) db.prepare("RELEASE job").run();
        results[i] = std::move(status);
      }
      if (hooks_.before_commit) hooks_.before_commit(*tx_);
      tx_->check_new_seqs();
      tx_->file_timeline_tail();
      tx_->persist_pos();
      if (recent_) recent_->prepare(changes);
      db.prepare("COMMIT").run();
      // Before the batch's answers go out: a device told of a message finds it cached.
      if (recent_) recent_->apply(changes, [&db](ChatId chat, Seq seq) -> std::optional<Pos> {
          auto s = db.prepare("SELECT pos FROM messages WHERE rowid = " MESSAGE_ROWID);
          s.bind(2, chat.value).bind(3, seq);
          if (!s.step()) return std::nullopt;
          return s.int64(0);
        });
      changes.clear();
      return true;
    } catch (const std::exception& e) {
      spdlog::error("batch of {} writes failed to commit: {}", batch.size(), e.what());
      changes.clear();
      sqlite3_exec(db.raw(), "ROLLBACK", nullptr, nullptr, nullptr);
      for (auto& r : results) r = make_error(ErrorCode::kUnavailable, "storage error; retry");
      tx_->forget_new_seqs();
      try {
        tx_->count_timeline_tail();
      } catch (const std::exception&) {
        // Only the tail's size is off, and with it how much the next batches file.
      }
      if (hooks_.after_abort) hooks_.after_abort();
      return false;
    }
  }

  std::optional<DirectoryLock> lock_;  // released last, once everything else is closed
  SqliteOptions options_;
  std::string path_;
  std::uint64_t generation_;
  std::unique_ptr<Db> writer_db_;
  std::unique_ptr<RecentMessages> recent_;  // null when SqliteOptions keeps none
  std::unique_ptr<WriteTxImpl> tx_;
  CommitHooks hooks_;
  // Committer thread only: frames in the WAL after the last commit, and at the last
  // request to the checkpointer.
  int wal_frames_ = 0;
  int checkpoint_requested_at_ = 0;
  std::chrono::steady_clock::time_point last_commit_started_;  // GUARDED_BY(mu_)

  // Commits run as the scheduler's tasks (SqliteOptions::commit_scheduler): one batch at a
  // time, under line_->mu, which also guards what the committer thread would own alone. The
  // tasks reach the store through line_, so those that run after it was destroyed do nothing.
  struct CommitLine {
    std::mutex mu;
    SqliteStore* store = nullptr;
  };
  std::shared_ptr<CommitLine> line_ = std::make_shared<CommitLine>();
  bool commit_scheduled_ = false;  // GUARDED_BY(mu_): a commit task is on its way
  bool idle_check_scheduled_ = false;  // GUARDED_BY(line_->mu)
  std::chrono::steady_clock::time_point last_commit_finished_;  // GUARDED_BY(line_->mu)
  std::vector<Status> scheduled_results_;  // GUARDED_BY(line_->mu)

  std::unique_ptr<Db> checkpoint_db_;  // used only by the checkpointer thread
  std::mutex checkpoint_mu_;
  std::condition_variable checkpoint_cv_;
  bool checkpoint_wanted_ = false;    // GUARDED_BY(checkpoint_mu_)
  bool checkpoint_stopping_ = false;  // GUARDED_BY(checkpoint_mu_)
  std::atomic<bool> checkpoint_running_{false};  // requested and not finished
  std::thread checkpointer_;

  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<WriteJob> queue_;  // GUARDED_BY(mu_)
  bool stopping_ = false;       // GUARDED_BY(mu_)
  bool committer_idle_ = false; // GUARDED_BY(mu_)
  std::atomic<std::size_t> queued_{0};
  std::thread committer_;

  std::mutex readers_mu_;
  std::vector<std::unique_ptr<ReadView>> readers_;  // GUARDED_BY(readers_mu_)
};

}  // namespace
}  // namespace sqlite

Result<std::unique_ptr<Store>> open_sqlite_store(const SqliteOptions& options) {
  try {
    if (!options.create_if_missing && !std::filesystem::exists(sqlite::database_file(options.directory)))
      return sqlite::no_database_error(options.directory);
    std::filesystem::create_directories(options.directory);
    std::optional<sqlite::DirectoryLock> lock;
    if (options.lock_directory) {
      auto taken = sqlite::DirectoryLock::take(options.directory);
      if (!taken.ok()) return taken.take_error();
      lock.emplace(std::move(taken).value());
    }
    return std::unique_ptr<Store>(std::make_unique<sqlite::SqliteStore>(options, std::move(lock)));
  } catch (const std::exception& e) {
    return make_error(ErrorCode::kUnavailable, e.what());
  }
}

}  // namespace modu
