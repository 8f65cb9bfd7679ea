// Reads of a store split into shards (store.h, "Shards"): each read goes to the shard its id
// names (ids.h), and reads keyed by anything else ask every shard and merge, in the order the
// single-database statement gives. Shared by the per-thread read view (one connection per
// shard) and the committer's routed write transaction (its own shard through the batch
// transaction, the others through committer-owned read connections).
//
// Nothing here joins rows of two databases: friends are read as edges on the owner's home
// shard, then as users on each friend's home shard.
#pragma once

#include <fmt/format.h>

#include <algorithm>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "modu/store.h"
#include "storage/postgres/pg_db.h"
#include "storage/postgres/records_io.h"

namespace modu::pg {

// One shard as the routing layer sees it: its reads (a view, or the write transaction) and
// the connection under them, for the few statements only a split store needs.
struct ShardSide {
  ReadView& view;
  Conn& db;
};

// The shard a handle's account is created on (Store::new_user_placement): 64-bit FNV-1a of
// the handle's bytes, modulo the number of shards. Stable across builds and machines.
inline int handle_shard(std::string_view handle, int shards) {
  if (shards <= 1) return 0;
  std::uint64_t h = 14695981039346656037ull;
  for (unsigned char c : handle) {
    h ^= c;
    h *= 1099511628211ull;
  }
  return static_cast<int>(h % static_cast<std::uint64_t>(shards));
}

class ShardRouter {
 public:
  virtual ~ShardRouter() = default;
  virtual int shards() const = 0;
  // The shard's reads; throws StorageError when it cannot be reached.
  virtual ShardSide side(int shard) = 0;
  // A write transaction reads some things from its own shard only (store.h); -1: every shard.
  virtual int own_shard() const { return -1; }

  // The shard of an id, or -1 when no shard of the map holds it (never a valid row).
  int shard_of_value(std::int64_t id) const {
    int k = shard_of_id(id);
    return (id > 0 && k < shards()) ? k : -1;
  }
  // Every shard, `first` first.
  std::vector<int> fan_out(int first) const {
    std::vector<int> out;
    out.push_back(first);
    for (int k = 0; k < shards(); ++k)
      if (k != first) out.push_back(k);
    return out;
  }
  // The shards a read of a direct key or a client id asks: a write transaction's own shard
  // (store.h), or every shard.
  std::vector<int> own_or_all() const {
    if (own_shard() >= 0) return {own_shard()};
    return all();
  }
  std::vector<int> all() const {
    std::vector<int> out;
    for (int k = 0; k < shards(); ++k) out.push_back(k);
    return out;
  }

  // Users by id on every shard they live on; the map answers by id.
  std::unordered_map<std::int64_t, UserRecord> users_by_id(const std::vector<std::int64_t>& ids) {
    std::map<int, std::vector<std::int64_t>> by_shard;
    for (std::int64_t id : ids)
      if (int k = shard_of_value(id); k >= 0) by_shard[k].push_back(id);
    std::unordered_map<std::int64_t, UserRecord> out;
    for (auto& [k, list] : by_shard) {
      auto r = side(k).db.query("SELECT " MODU_PG_USER_COLS " FROM users WHERE id = ANY($1)",
                                Params().add_int_array(list));
      while (r.next()) {
        UserRecord u = read_user(r);
        out.emplace(u.id.value, std::move(u));
      }
    }
    return out;
  }
};

// Open chat reads (and, in a write transaction, writes) routed like the core's.
class RoutedOpenRooms final : public OpenRoomsTx {
 public:
  // `local` is the write transaction's own part (nullptr for a read view) and `local_shard`
  // its shard.
  RoutedOpenRooms(ShardRouter& router, OpenRoomsTx* local, int local_shard)
      : router_(router), local_(local), local_shard_(local_shard) {}
  void bind(OpenRoomsTx* local, int local_shard) {
    local_ = local;
    local_shard_ = local_shard;
  }

  // Runs `read` on the part holding the row `id` names; an id of no shard finds nothing.
  template <class Read>
  auto on_shard_of(std::int64_t id, Read read) {
    using Result = decltype(read(at(0)));
    int k = router_.shard_of_value(id);
    return k < 0 ? Result{} : read(at(k));
  }

  std::optional<RoomRecord> room(ChatId chat) override {
    return on_shard_of(chat.value, [&](auto& part) { return part.room(chat); });
  }
  std::optional<RoomRecord> room_by_code(std::string_view code) override {
    for (int k : router_.all())
      if (auto r = at(k).room_by_code(code)) return r;
    return std::nullopt;
  }
  std::vector<RoomListing> search(const std::vector<std::string>& terms, std::int64_t limit,
                                  std::int64_t offset) override {
    std::vector<RoomListing> all;
    for (int k : router_.all()) {
      auto part = at(k).search(terms, limit + offset, 0);
      std::move(part.begin(), part.end(), std::back_inserter(all));
    }
    return page(std::move(all), limit, offset);
  }
  std::vector<RoomListing> popular(std::int64_t limit, std::int64_t offset) override {
    std::vector<RoomListing> all;
    for (int k : router_.all()) {
      auto part = at(k).popular(limit + offset, 0);
      std::move(part.begin(), part.end(), std::back_inserter(all));
    }
    return page(std::move(all), limit, offset);
  }
  std::optional<MemberRecord> member_by_public_id(ChatId chat, std::int64_t public_id) override {
    return on_shard_of(chat.value, [&](auto& part) { return part.member_by_public_id(chat, public_id); });
  }
  std::int64_t community_count(UserId user) override {
    std::int64_t n = 0;
    for (int k : router_.all()) n += at(k).community_count(user);
    return n;
  }
  std::optional<ApplicationRecord> application(std::int64_t id) override {
    return on_shard_of(id, [&](auto& part) { return part.application(id); });
  }
  std::optional<ApplicationRecord> pending_application(ChatId chat, UserId user) override {
    return on_shard_of(chat.value, [&](auto& part) { return part.pending_application(chat, user); });
  }
  std::vector<ApplicationRecord> applications(ChatId chat, ApplicationState state,
                                              std::int64_t limit) override {
    return on_shard_of(chat.value, [&](auto& part) { return part.applications(chat, state, limit); });
  }
  std::vector<ApplicationRecord> applications_of(UserId user, std::int64_t limit) override {
    std::vector<ApplicationRecord> all;
    for (int k : router_.all()) {
      auto part = at(k).applications_of(user, limit);
      std::move(part.begin(), part.end(), std::back_inserter(all));
    }
    // Newest first, as one database orders them (ids carry their shard in the high bits).
    std::sort(all.begin(), all.end(), [](const auto& a, const auto& b) { return a.id > b.id; });
    if (static_cast<std::int64_t>(all.size()) > limit) all.resize(static_cast<std::size_t>(std::max<std::int64_t>(limit, 0)));
    return all;
  }
  std::optional<BanRecord> ban(ChatId chat, UserId user) override {
    return on_shard_of(chat.value, [&](auto& part) { return part.ban(chat, user); });
  }
  std::optional<BanRecord> ban_by_id(std::int64_t id) override {
    return on_shard_of(id, [&](auto& part) { return part.ban_by_id(id); });
  }
  std::vector<BanRecord> bans(ChatId chat) override {
    return on_shard_of(chat.value, [&](auto& part) { return part.bans(chat); });
  }
  std::optional<ReportRecord> report(std::int64_t id) override {
    return on_shard_of(id, [&](auto& part) { return part.report(id); });
  }
  std::optional<std::int64_t> report_by(ChatId chat, UserId reporter, UserId target, Seq seq) override {
    return on_shard_of(chat.value, [&](auto& part) { return part.report_by(chat, reporter, target, seq); });
  }
  std::int64_t open_reporters(ChatId chat, Seq seq) override {
    return on_shard_of(chat.value, [&](auto& part) { return part.open_reporters(chat, seq); });
  }
  std::vector<ReportRecord> reports(ChatId chat, bool open, std::int64_t limit) override {
    return on_shard_of(chat.value, [&](auto& part) { return part.reports(chat, open, limit); });
  }
  std::int64_t reports_against(UserId user) override {
    std::int64_t n = 0;
    for (int k : router_.all()) n += at(k).reports_against(user);
    return n;
  }
  std::vector<AuditRecord> audit(ChatId chat, std::int64_t before, std::int64_t limit) override {
    return on_shard_of(chat.value, [&](auto& part) { return part.audit(chat, before, limit); });
  }
  std::optional<SavedNickname> saved_nickname(UserId user) override {
    return on_shard_of(user.value, [&](auto& part) { return part.saved_nickname(user); });
  }
  std::optional<TimeMs> last_send(ChatId chat, UserId user) override {
    return on_shard_of(chat.value, [&](auto& part) { return part.last_send(chat, user); });
  }

  // --- writes: the transaction's own shard only ---

  void insert_room(const RoomRecord& room, std::string_view search_text) override {
    write("open room", room.chat.value).insert_room(room, search_text);
  }
  void update_room(const RoomRecord& room, std::string_view search_text) override {
    write("open room", room.chat.value).update_room(room, search_text);
  }
  void set_member_count(ChatId chat, std::int64_t count) override {
    write("open room", chat.value).set_member_count(chat, count);
  }
  std::int64_t next_public_id(ChatId chat) override {
    return write("open room", chat.value).next_public_id(chat);
  }
  std::int64_t insert_application(const ApplicationRecord& a) override {
    return write("application of chat", a.chat.value).insert_application(a);
  }
  void update_application(const ApplicationRecord& a) override {
    write("application", a.id).update_application(a);
  }
  std::int64_t insert_ban(const BanRecord& b) override {
    return write("ban in chat", b.chat.value).insert_ban(b);
  }
  void delete_ban(std::int64_t id) override { write("ban", id).delete_ban(id); }
  std::int64_t insert_report(const ReportRecord& r) override {
    return write("report in chat", r.chat.value).insert_report(r);
  }
  void resolve_reports(ChatId chat, UserId target, Seq seq) override {
    write("reports of chat", chat.value).resolve_reports(chat, target, seq);
  }
  std::int64_t insert_audit(const AuditRecord& e) override {
    return write("audit of chat", e.chat.value).insert_audit(e);
  }
  void set_saved_nickname(UserId user, const SavedNickname& n) override {
    write("saved nickname of user", user.value).set_saved_nickname(user, n);
  }
  void set_last_send(ChatId chat, UserId user, TimeMs at) override {
    write("last send in chat", chat.value).set_last_send(chat, user, at);
  }

 private:
  OpenRoomsView& at(int k) { return router_.side(k).view.open_rooms(); }

  OpenRoomsTx& write(const char* what, std::int64_t id) {
    if (local_ == nullptr) throw StorageError("open rooms: a write through a read view");
    if (shard_of_id(id) != local_shard_)
      throw StorageError(fmt::format("cross-shard write: {} {} (shard {}) in a transaction of shard {}",
                                     what, id, shard_of_id(id), local_shard_));
    return *local_;
  }

  static std::vector<RoomListing> page(std::vector<RoomListing> all, std::int64_t limit,
                                       std::int64_t offset) {
    // Most members first, then the newest room: the order of the single-database statement.
    std::sort(all.begin(), all.end(), [](const RoomListing& a, const RoomListing& b) {
      if (a.room.member_count != b.room.member_count) return a.room.member_count > b.room.member_count;
      return a.room.chat.value > b.room.chat.value;
    });
    std::vector<RoomListing> out;
    for (std::int64_t i = std::max<std::int64_t>(offset, 0);
         i < static_cast<std::int64_t>(all.size()) && static_cast<std::int64_t>(out.size()) < limit; ++i)
      out.push_back(std::move(all[static_cast<std::size_t>(i)]));
    return out;
  }

  ShardRouter& router_;
  OpenRoomsTx* local_;
  int local_shard_;
};

// The core's reads over the shards of a router. `Base` is ReadView or WriteTx.
template <class Base>
class Routed : public Base, public ShardRouter {
 public:
  using Base::changed_chats;
  using Base::current_pos;

  int shard_count() override { return shards(); }

  // Runs `read` on the view of the shard holding the row `id` names; an id of no shard
  // finds nothing.
  template <class Read>
  auto on_shard_of(std::int64_t id, Read read) {
    using Result = decltype(read(side(0).view));
    int k = shard_of_value(id);
    return k < 0 ? Result{} : read(side(k).view);
  }


  Pos current_pos(int shard) override {
    if (shard < 0 || shard >= shards()) return 0;
    return side(shard).view.current_pos(0);
  }

  std::optional<UserRecord> user_by_id(UserId id) override {
    return on_shard_of(id.value, [&](auto& part) { return part.user_by_id(id); });
  }

  std::optional<UserRecord> user_by_handle(std::string_view handle) override {
    for (int k : by_handle(handle))
      if (auto u = side(k).view.user_by_handle(handle)) return u;
    return std::nullopt;
  }

  std::optional<UserCredentials> credentials_by_handle(std::string_view handle) override {
    for (int k : by_handle(handle))
      if (auto c = side(k).view.credentials_by_handle(handle)) return c;
    return std::nullopt;
  }

  std::vector<UserRecord> users_by_ids(const std::vector<UserId>& ids) override {
    std::vector<std::int64_t> values;
    values.reserve(ids.size());
    for (UserId id : ids) values.push_back(id.value);
    auto found = users_by_id(values);
    std::vector<UserRecord> out;
    out.reserve(ids.size());
    for (UserId id : ids)
      if (auto it = found.find(id.value); it != found.end()) out.push_back(it->second);
    return out;
  }

  std::vector<UserRecord> list_users(std::int64_t limit, UserId after) override {
    // Ids ascend across shards (the shard is in the high bits): walk them in order.
    std::vector<UserRecord> out;
    for (int k = std::max(0, shard_of_id(after.value)); k < shards(); ++k) {
      std::int64_t left = limit - static_cast<std::int64_t>(out.size());
      if (left <= 0) break;
      auto part = side(k).view.list_users(left, after);
      std::move(part.begin(), part.end(), std::back_inserter(out));
    }
    return out;
  }

  // A device lives on its user's home shard, so each shard answers with both or neither.
  std::optional<SessionRecord> session_by_token_hash(std::string_view token_hash) override {
    for (int k : all())
      if (auto session = side(k).view.session_by_token_hash(token_hash)) return session;
    return std::nullopt;
  }

  std::optional<DeviceRecord> device_by_id(DeviceId id) override {
    return on_shard_of(id.value, [&](auto& part) { return part.device_by_id(id); });
  }

  std::vector<DeviceRecord> devices_of(UserId user) override {
    return on_shard_of(user.value, [&](auto& part) { return part.devices_of(user); });
  }

  std::vector<UserRecord> friends_of(UserId owner) override {
    int home = shard_of_value(owner.value);
    if (home < 0) return {};
    std::vector<std::int64_t> ids;
    {
      auto r = side(home).db.query("SELECT friend_id FROM friends WHERE owner_id = $1 AND active = 1",
                                   Params().add(owner.value));
      while (r.next()) ids.push_back(r.int64(0));
    }
    auto found = users_by_id(ids);
    std::vector<UserRecord> out;
    out.reserve(found.size());
    for (auto& [id, user] : found) out.push_back(std::move(user));
    // By display name's bytes, then id: the single-database order (COLLATE "C").
    std::sort(out.begin(), out.end(), [](const UserRecord& a, const UserRecord& b) {
      int c = a.display_name.compare(b.display_name);
      return c != 0 ? c < 0 : a.id < b.id;
    });
    return out;
  }

  bool is_friend(UserId owner, UserId other) override {
    return on_shard_of(owner.value, [&](auto& part) { return part.is_friend(owner, other); });
  }

  std::vector<UserId> friend_owners_of(UserId user) override {
    std::vector<UserId> out;
    for (int k : all()) {
      auto part = side(k).view.friend_owners_of(user);
      out.insert(out.end(), part.begin(), part.end());
    }
    return out;
  }

  std::vector<FriendChange> friend_changes(UserId owner, const Cursor& since,
                                           const Cursor& until) override {
    int home = shard_of_value(owner.value);
    if (home < 0) return {};
    // Edges added, removed or touched on the owner's home shard, by position.
    std::vector<std::pair<std::int64_t, bool>> edges;  // (friend, removed)
    std::vector<std::int64_t> active;                  // every current friend
    {
      auto r = side(home).db.query(
          "SELECT friend_id, active FROM friends WHERE owner_id = $1 AND pos > $2 AND pos <= $3 "
          "ORDER BY pos",
          Params().add(owner.value).add(cursor_at(since, home)).add(cursor_at(until, home)));
      while (r.next()) edges.emplace_back(r.int64(0), !r.boolean(1));
    }
    {
      auto r = side(home).db.query("SELECT friend_id FROM friends WHERE owner_id = $1 AND active = 1",
                                   Params().add(owner.value));
      while (r.next()) active.push_back(r.int64(0));
    }
    std::vector<FriendChange> out;
    std::unordered_set<std::int64_t> seen;
    if (!edges.empty()) {
      std::vector<std::int64_t> ids;
      for (auto& e : edges) ids.push_back(e.first);
      auto found = users_by_id(ids);
      for (auto& [id, removed] : edges) {
        auto it = found.find(id);
        if (it == found.end() || !seen.insert(id).second) continue;
        out.push_back(FriendChange{it->second, removed});
      }
    }
    // Profiles changed on each friend's own shard, by that shard's positions.
    std::map<int, std::vector<std::int64_t>> by_shard;
    for (std::int64_t id : active)
      if (int k = shard_of_value(id); k >= 0 && !seen.count(id)) by_shard[k].push_back(id);
    for (auto& [k, ids] : by_shard) {
      Pos from = cursor_at(since, k), to = cursor_at(until, k);
      if (to <= from) continue;
      auto r = side(k).db.query("SELECT " MODU_PG_USER_COLS " FROM users WHERE id = ANY($1) "
                                "AND profile_pos > $2 AND profile_pos <= $3 ORDER BY profile_pos",
                                Params().add_int_array(ids).add(from).add(to));
      while (r.next()) {
        UserRecord u = read_user(r);
        if (seen.insert(u.id.value).second) out.push_back(FriendChange{std::move(u), false});
      }
    }
    return out;
  }

  std::optional<ChatRecord> chat(ChatId id) override {
    return on_shard_of(id.value, [&](auto& part) { return part.chat(id); });
  }

  std::optional<ChatId> chat_by_direct_key(std::string_view key) override {
    for (int k : own_or_all())
      if (auto c = side(k).view.chat_by_direct_key(key)) return c;
    return std::nullopt;
  }

  std::optional<MemberRecord> membership(ChatId chat, UserId user) override {
    return on_shard_of(chat.value, [&](auto& part) { return part.membership(chat, user); });
  }

  std::vector<MemberRecord> active_members(ChatId chat) override {
    return on_shard_of(chat.value, [&](auto& part) { return part.active_members(chat); });
  }

  std::vector<ChatListEntry> chat_list(UserId user, std::int64_t limit,
                                       std::optional<ChatListCursor> cursor) override {
    std::vector<ChatListEntry> all_entries;
    for (int k : all()) {
      auto part = side(k).view.chat_list(user, limit, cursor);
      std::move(part.begin(), part.end(), std::back_inserter(all_entries));
    }
    std::sort(all_entries.begin(), all_entries.end(), [](const ChatListEntry& a, const ChatListEntry& b) {
      if (a.chat.last_activity_at != b.chat.last_activity_at)
        return a.chat.last_activity_at > b.chat.last_activity_at;
      return a.chat.id > b.chat.id;
    });
    if (static_cast<std::int64_t>(all_entries.size()) > limit)
      all_entries.resize(static_cast<std::size_t>(std::max<std::int64_t>(limit, 0)));
    return all_entries;
  }

  std::vector<ChatListEntry> changed_chats(int shard, UserId user, Pos since, std::int64_t limit) override {
    if (shard < 0 || shard >= shards()) return {};
    return side(shard).view.changed_chats(0, user, since, limit);
  }

  std::optional<MessageRecord> message(ChatId chat, Seq seq) override {
    return on_shard_of(chat.value, [&](auto& part) { return part.message(chat, seq); });
  }

  std::optional<MessageRecord> message_by_client_id(UserId sender, std::string_view client_id) override {
    for (int k : own_or_all())
      if (auto m = side(k).view.message_by_client_id(sender, client_id)) return m;
    return std::nullopt;
  }

  std::vector<MessageRecord> messages_before(ChatId chat, Seq before, std::int64_t limit) override {
    return on_shard_of(chat.value, [&](auto& part) { return part.messages_before(chat, before, limit); });
  }

  std::vector<ModeratedMessage> moderated_since(ChatId chat, Pos since, std::int64_t limit) override {
    return on_shard_of(chat.value, [&](auto& part) { return part.moderated_since(chat, since, limit); });
  }

  std::vector<MessageRecord> messages_after(ChatId chat, Seq after, std::int64_t limit) override {
    return on_shard_of(chat.value, [&](auto& part) { return part.messages_after(chat, after, limit); });
  }

  std::vector<MessageRecord> messages_since(ChatId chat, Pos since, std::int64_t limit) override {
    return on_shard_of(chat.value, [&](auto& part) { return part.messages_since(chat, since, limit); });
  }

  StoreStats stats() override {
    StoreStats total;
    for (int k : all()) {
      StoreStats s = side(k).view.stats();
      total.users += s.users;
      total.devices += s.devices;
      total.chats += s.chats;
      total.messages += s.messages;
      total.bytes_on_disk += s.bytes_on_disk;
    }
    return total;
  }

  std::vector<std::string> check_integrity() override {
    std::vector<std::string> problems;
    for (int k : all())
      for (auto& p : side(k).view.check_integrity()) problems.push_back(fmt::format("shard {}: {}", k, p));
    return problems;
  }

 private:
  // Every shard, the one new accounts with this handle go to first (where it most likely is).
  std::vector<int> by_handle(std::string_view handle) const {
    return fan_out(handle_shard(handle, shards()));
  }
};

}  // namespace modu::pg
