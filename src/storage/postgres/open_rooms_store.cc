#include "storage/postgres/open_rooms_store.h"

#include <fmt/format.h>

#include "storage/postgres/records_io.h"

namespace modu::pg {
namespace {

#define ROOM_COLS                                                                               \
  "o.chat_id, o.code, o.description, o.tags, o.cover, o.capacity, o.listed, o.join_policy, "    \
  "o.passcode_hash, o.history_all, o.form, o.friend_of_staff, o.min_account_age_days, "         \
  "o.community_cap, o.slow_mode_seconds, o.report_threshold, o.application_ttl_seconds, "       \
  "o.notice_text, o.notice_by, o.notice_at, o.member_count, o.last_public_id, o.created_at"
constexpr int kRoomCols = 23;
#define APPLICATION_COLS \
  "id, chat_id, user_id, state, nickname, avatar, answers, reason, created_at, expires_at, decided_at, decided_by"
#define BAN_COLS "id, chat_id, user_id, by_id, reason, at"
#define REPORT_COLS "id, chat_id, reporter_id, target_id, seq, reason, open, created_at"

std::vector<std::string> split(const std::string& s, char separator) {
  std::vector<std::string> out;
  std::size_t start = 0;
  while (start < s.size()) {
    auto end = s.find(separator, start);
    if (end == std::string::npos) end = s.size();
    if (end > start || separator == '\n') out.push_back(s.substr(start, end - start));
    start = end + 1;
  }
  return out;
}

std::string join_lines(const std::vector<std::string>& items) {
  std::string out;
  for (const auto& item : items) {
    if (!out.empty()) out += '\n';
    out += item;
  }
  return out;
}

// Form fields are stored one per line as "key\ttype\trequired\tlabel", as in the embedded
// store; keys, types and labels never hold tabs or newlines (the service refuses them).
std::string encode_form(const std::vector<FormField>& form) {
  std::vector<std::string> lines;
  for (const auto& f : form)
    lines.push_back(fmt::format("{}\t{}\t{}\t{}", f.key, field_type_name(f.type), f.required ? 1 : 0, f.label));
  return join_lines(lines);
}

std::vector<FormField> decode_form(const std::string& text) {
  std::vector<FormField> out;
  for (const auto& line : split(text, '\n')) {
    auto t1 = line.find('\t');
    auto t2 = line.find('\t', t1 + 1);
    auto t3 = line.find('\t', t2 + 1);
    if (t1 == std::string::npos || t2 == std::string::npos || t3 == std::string::npos) continue;
    FormField f;
    f.key = line.substr(0, t1);
    f.type = parse_field_type(line.substr(t1 + 1, t2 - t1 - 1)).value_or(FieldType::kText);
    f.required = line.substr(t2 + 1, t3 - t2 - 1) == "1";
    f.label = line.substr(t3 + 1);
    out.push_back(std::move(f));
  }
  return out;
}

RoomRecord read_room(const Rows& r, int c = 0) {
  RoomRecord room;
  room.chat = ChatId(r.int64(c));
  room.code = r.text(c + 1);
  room.description = r.text(c + 2);
  room.tags = split(r.text(c + 3), '\n');
  room.cover = r.text(c + 4);
  room.capacity = r.int64(c + 5);
  room.listed = r.boolean(c + 6);
  room.join_policy = parse_join_policy(r.text(c + 7)).value_or(JoinPolicy::kOpen);
  room.passcode_hash = r.text(c + 8);
  room.history_all = r.boolean(c + 9);
  room.form = decode_form(r.text(c + 10));
  room.friend_of_staff = r.boolean(c + 11);
  room.min_account_age_days = r.int64(c + 12);
  if (!r.is_null(c + 13)) room.community_cap = r.int64(c + 13);
  room.slow_mode_seconds = r.int64(c + 14);
  room.report_threshold = r.int64(c + 15);
  room.application_ttl_seconds = r.int64(c + 16);
  room.notice_text = r.text(c + 17);
  room.notice_by = r.int64(c + 18);
  room.notice_at = r.int64(c + 19);
  room.member_count = r.int64(c + 20);
  room.last_public_id = r.int64(c + 21);
  room.created_at = r.int64(c + 22);
  return room;
}

ApplicationRecord read_application(const Rows& r) {
  ApplicationRecord a;
  a.id = r.int64(0);
  a.chat = ChatId(r.int64(1));
  a.user = UserId(r.int64(2));
  a.state = parse_application_state(r.text(3)).value_or(ApplicationState::kPending);
  if (!r.is_null(4)) a.nickname = r.text(4);
  a.avatar = r.text(5);
  a.answers_json = r.text(6);
  a.reason = r.text(7);
  a.created_at = r.int64(8);
  a.expires_at = r.int64(9);
  a.decided_at = r.int64(10);
  a.decided_by = UserId(r.int64(11));
  return a;
}

BanRecord read_ban(const Rows& r) {
  return BanRecord{.id = r.int64(0), .chat = ChatId(r.int64(1)), .user = UserId(r.int64(2)),
                   .by = UserId(r.int64(3)), .reason = r.text(4), .at = r.int64(5)};
}

ReportRecord read_report(const Rows& r) {
  return ReportRecord{.id = r.int64(0), .chat = ChatId(r.int64(1)), .reporter = UserId(r.int64(2)),
                      .target = UserId(r.int64(3)), .seq = r.int64(4), .reason = r.text(5),
                      .open = r.boolean(6), .created_at = r.int64(7)};
}

// The room's search terms: `search_text` is space-separated n-grams (search.h).
std::vector<std::string> terms_of(std::string_view search_text) {
  return split(std::string(search_text), ' ');
}

std::vector<RoomListing> listings(Rows& r) {
  std::vector<RoomListing> out;
  while (r.next()) {
    RoomListing l;
    l.room = read_room(r, 0);
    l.chat = read_chat(r, kRoomCols);
    out.push_back(std::move(l));
  }
  return out;
}

class PostgresOpenRooms final : public OpenRoomsTx {
 public:
  explicit PostgresOpenRooms(Conn& db) : db_(db) {}

  std::optional<RoomRecord> room(ChatId chat) override {
    auto r = db_.query("SELECT " ROOM_COLS " FROM open_rooms o WHERE o.chat_id = $1", Params().add(chat.value));
    if (!r.next()) return std::nullopt;
    return read_room(r);
  }

  std::optional<RoomRecord> room_by_code(std::string_view code) override {
    auto r = db_.query("SELECT " ROOM_COLS " FROM open_rooms o WHERE o.code = $1", Params().add(code));
    if (!r.next()) return std::nullopt;
    return read_room(r);
  }

  std::vector<RoomListing> search(const std::vector<std::string>& terms, std::int64_t limit,
                                  std::int64_t offset) override {
    auto r = db_.query(
        "SELECT " ROOM_COLS ", " MODU_PG_CHAT_COLS " FROM open_rooms o JOIN chats c ON c.id = o.chat_id "
        "WHERE o.listed = 1 AND o.terms @> $1::text[] "
        "ORDER BY o.member_count DESC, o.chat_id DESC LIMIT $2 OFFSET $3",
        Params().add_text_array(terms).add(limit).add(offset));
    return listings(r);
  }

  std::vector<RoomListing> popular(std::int64_t limit, std::int64_t offset) override {
    auto r = db_.query(
        "SELECT " ROOM_COLS ", " MODU_PG_CHAT_COLS " FROM open_rooms o JOIN chats c ON c.id = o.chat_id "
        "WHERE o.listed = 1 ORDER BY o.member_count DESC, o.chat_id DESC LIMIT $1 OFFSET $2",
        Params().add(limit).add(offset));
    return listings(r);
  }

  std::optional<MemberRecord> member_by_public_id(ChatId chat, std::int64_t public_id) override {
    auto r = db_.query("SELECT " MODU_PG_MEMBER_COLS
                       " FROM members m WHERE m.chat_id = $1 AND m.public_id = $2 AND m.public_id != 0",
                       Params().add(chat.value).add(public_id));
    if (!r.next()) return std::nullopt;
    return read_member(r);
  }

  std::int64_t community_count(UserId user) override {
    auto r = db_.query(
        "SELECT count(*) FROM members m JOIN open_rooms o ON o.chat_id = m.chat_id "
        "WHERE m.user_id = $1 AND m.active = 1 AND o.join_policy = 'approval'",
        Params().add(user.value));
    return r.next() ? r.int64(0) : 0;
  }

  std::optional<ApplicationRecord> application(std::int64_t id) override {
    auto r = db_.query("SELECT " APPLICATION_COLS " FROM open_applications WHERE id = $1", Params().add(id));
    if (!r.next()) return std::nullopt;
    return read_application(r);
  }

  std::optional<ApplicationRecord> pending_application(ChatId chat, UserId user) override {
    auto r = db_.query("SELECT " APPLICATION_COLS " FROM open_applications WHERE chat_id = $1 "
                       "AND user_id = $2 AND state = 'pending' ORDER BY id DESC LIMIT 1",
                       Params().add(chat.value).add(user.value));
    if (!r.next()) return std::nullopt;
    return read_application(r);
  }

  std::vector<ApplicationRecord> applications(ChatId chat, ApplicationState state,
                                              std::int64_t limit) override {
    auto r = db_.query("SELECT " APPLICATION_COLS " FROM open_applications "
                       "WHERE chat_id = $1 AND state = $2 ORDER BY id LIMIT $3",
                       Params().add(chat.value).add(application_state_name(state)).add(limit));
    std::vector<ApplicationRecord> out;
    while (r.next()) out.push_back(read_application(r));
    return out;
  }

  std::vector<ApplicationRecord> applications_of(UserId user, std::int64_t limit) override {
    auto r = db_.query("SELECT " APPLICATION_COLS
                       " FROM open_applications WHERE user_id = $1 ORDER BY id DESC LIMIT $2",
                       Params().add(user.value).add(limit));
    std::vector<ApplicationRecord> out;
    while (r.next()) out.push_back(read_application(r));
    return out;
  }

  std::optional<BanRecord> ban(ChatId chat, UserId user) override {
    auto r = db_.query("SELECT " BAN_COLS " FROM open_bans WHERE chat_id = $1 AND user_id = $2",
                       Params().add(chat.value).add(user.value));
    if (!r.next()) return std::nullopt;
    return read_ban(r);
  }

  std::optional<BanRecord> ban_by_id(std::int64_t id) override {
    auto r = db_.query("SELECT " BAN_COLS " FROM open_bans WHERE id = $1", Params().add(id));
    if (!r.next()) return std::nullopt;
    return read_ban(r);
  }

  std::vector<BanRecord> bans(ChatId chat) override {
    auto r = db_.query("SELECT " BAN_COLS " FROM open_bans WHERE chat_id = $1 ORDER BY id DESC",
                       Params().add(chat.value));
    std::vector<BanRecord> out;
    while (r.next()) out.push_back(read_ban(r));
    return out;
  }

  std::optional<ReportRecord> report(std::int64_t id) override {
    auto r = db_.query("SELECT " REPORT_COLS " FROM open_reports WHERE id = $1", Params().add(id));
    if (!r.next()) return std::nullopt;
    return read_report(r);
  }

  std::optional<std::int64_t> report_by(ChatId chat, UserId reporter, UserId target, Seq seq) override {
    auto r = db_.query("SELECT id FROM open_reports WHERE chat_id = $1 AND target_id = $2 AND seq = $3 "
                       "AND reporter_id = $4",
                       Params().add(chat.value).add(target.value).add(seq).add(reporter.value));
    if (!r.next()) return std::nullopt;
    return r.int64(0);
  }

  std::int64_t open_reporters(ChatId chat, Seq seq) override {
    auto r = db_.query("SELECT count(DISTINCT reporter_id) FROM open_reports "
                       "WHERE chat_id = $1 AND seq = $2 AND open = 1",
                       Params().add(chat.value).add(seq));
    return r.next() ? r.int64(0) : 0;
  }

  std::vector<ReportRecord> reports(ChatId chat, bool open, std::int64_t limit) override {
    auto r = db_.query("SELECT " REPORT_COLS " FROM open_reports WHERE chat_id = $1 AND open = $2 "
                       "ORDER BY id DESC LIMIT $3",
                       Params().add(chat.value).add(open ? 1 : 0).add(limit));
    std::vector<ReportRecord> out;
    while (r.next()) out.push_back(read_report(r));
    return out;
  }

  std::int64_t reports_against(UserId user) override {
    auto r = db_.query("SELECT count(*) FROM open_reports WHERE target_id = $1", Params().add(user.value));
    return r.next() ? r.int64(0) : 0;
  }

  std::vector<AuditRecord> audit(ChatId chat, std::int64_t before, std::int64_t limit) override {
    auto r = db_.query("SELECT id, chat_id, at, actor_id, target_id, action, detail FROM open_audit "
                       "WHERE chat_id = $1 AND id < $2 ORDER BY id DESC LIMIT $3",
                       Params().add(chat.value).add(before).add(limit));
    std::vector<AuditRecord> out;
    while (r.next())
      out.push_back(AuditRecord{.id = r.int64(0), .chat = ChatId(r.int64(1)), .at = r.int64(2),
                                .actor = UserId(r.int64(3)), .target = UserId(r.int64(4)),
                                .action = r.text(5), .detail_json = r.text(6)});
    return out;
  }

  std::optional<SavedNickname> saved_nickname(UserId user) override {
    auto r = db_.query("SELECT nickname, avatar FROM open_nicknames WHERE user_id = $1", Params().add(user.value));
    if (!r.next()) return std::nullopt;
    return SavedNickname{r.text(0), r.text(1)};
  }

  std::optional<TimeMs> last_send(ChatId chat, UserId user) override {
    auto r = db_.query("SELECT at FROM open_last_sends WHERE chat_id = $1 AND user_id = $2",
                       Params().add(chat.value).add(user.value));
    if (!r.next()) return std::nullopt;
    return r.int64(0);
  }

  // --- writes ---

  void insert_room(const RoomRecord& room, std::string_view search_text) override {
    db_.exec(
        "INSERT INTO open_rooms(chat_id, code, description, tags, cover, capacity, listed, "
        "join_policy, passcode_hash, history_all, form, friend_of_staff, min_account_age_days, "
        "community_cap, slow_mode_seconds, report_threshold, application_ttl_seconds, notice_text, "
        "notice_by, notice_at, member_count, last_public_id, created_at, terms) "
        "VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, "
        "$19, $20, $21, $22, $23, $24)",
        room_params(room).add_text_array(terms_of(search_text)));
  }

  void update_room(const RoomRecord& room, std::string_view search_text) override {
    db_.exec(
        "UPDATE open_rooms SET code = $2, description = $3, tags = $4, cover = $5, capacity = $6, "
        "listed = $7, join_policy = $8, passcode_hash = $9, history_all = $10, form = $11, "
        "friend_of_staff = $12, min_account_age_days = $13, community_cap = $14, "
        "slow_mode_seconds = $15, report_threshold = $16, application_ttl_seconds = $17, "
        "notice_text = $18, notice_by = $19, notice_at = $20, member_count = $21, "
        "last_public_id = $22, created_at = $23, terms = $24 WHERE chat_id = $1",
        room_params(room).add_text_array(terms_of(search_text)));
  }

  void set_member_count(ChatId chat, std::int64_t count) override {
    db_.exec("UPDATE open_rooms SET member_count = $1 WHERE chat_id = $2", Params().add(count).add(chat.value));
  }

  std::int64_t next_public_id(ChatId chat) override {
    auto r = db_.query("UPDATE open_rooms SET last_public_id = last_public_id + 1 WHERE chat_id = $1 "
                       "RETURNING last_public_id",
                       Params().add(chat.value));
    if (!r.next()) throw StorageError(fmt::format("open room {} is missing", chat.value));
    return r.int64(0);
  }

  std::int64_t insert_application(const ApplicationRecord& a) override {
    auto r = db_.query(
        "INSERT INTO open_applications(chat_id, user_id, state, nickname, avatar, answers, reason, "
        "created_at, expires_at, decided_at, decided_by) "
        "VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11) RETURNING id",
        Params().add(a.chat.value).add(a.user.value).add(application_state_name(a.state))
            .add_optional(a.nickname).add(a.avatar).add(a.answers_json).add(a.reason).add(a.created_at)
            .add(a.expires_at).add(a.decided_at).add(a.decided_by.value));
    r.next();
    return r.int64(0);
  }

  void update_application(const ApplicationRecord& a) override {
    db_.exec("UPDATE open_applications SET state = $1, reason = $2, decided_at = $3, decided_by = $4 "
             "WHERE id = $5",
             Params().add(application_state_name(a.state)).add(a.reason).add(a.decided_at)
                 .add(a.decided_by.value).add(a.id));
  }

  std::int64_t insert_ban(const BanRecord& b) override {
    auto r = db_.query(
        "INSERT INTO open_bans(chat_id, user_id, by_id, reason, at) VALUES ($1, $2, $3, $4, $5) "
        "ON CONFLICT(chat_id, user_id) DO UPDATE SET by_id = excluded.by_id, "
        "reason = excluded.reason, at = excluded.at RETURNING id",
        Params().add(b.chat.value).add(b.user.value).add(b.by.value).add(b.reason).add(b.at));
    return r.next() ? r.int64(0) : 0;
  }

  void delete_ban(std::int64_t id) override {
    db_.exec("DELETE FROM open_bans WHERE id = $1", Params().add(id));
  }

  std::int64_t insert_report(const ReportRecord& rep) override {
    auto r = db_.query(
        "INSERT INTO open_reports(chat_id, reporter_id, target_id, seq, reason, open, created_at) "
        "VALUES ($1, $2, $3, $4, $5, 1, $6) RETURNING id",
        Params().add(rep.chat.value).add(rep.reporter.value).add(rep.target.value).add(rep.seq)
            .add(rep.reason).add(rep.created_at));
    r.next();
    return r.int64(0);
  }

  void resolve_reports(ChatId chat, UserId target, Seq seq) override {
    db_.exec("UPDATE open_reports SET open = 0 WHERE chat_id = $1 AND target_id = $2 AND seq = $3 "
             "AND open = 1",
             Params().add(chat.value).add(target.value).add(seq));
  }

  std::int64_t insert_audit(const AuditRecord& e) override {
    auto r = db_.query(
        "INSERT INTO open_audit(chat_id, at, actor_id, target_id, action, detail) "
        "VALUES ($1, $2, $3, $4, $5, $6) RETURNING id",
        Params().add(e.chat.value).add(e.at).add(e.actor.value).add(e.target.value).add(e.action)
            .add(e.detail_json));
    r.next();
    return r.int64(0);
  }

  void set_last_send(ChatId chat, UserId user, TimeMs at) override {
    db_.exec("INSERT INTO open_last_sends(chat_id, user_id, at) VALUES ($1, $2, $3) "
             "ON CONFLICT(chat_id, user_id) DO UPDATE SET at = excluded.at",
             Params().add(chat.value).add(user.value).add(at));
  }

  void set_saved_nickname(UserId user, const SavedNickname& n) override {
    db_.exec("INSERT INTO open_nicknames(user_id, nickname, avatar) VALUES ($1, $2, $3) "
             "ON CONFLICT(user_id) DO UPDATE SET nickname = excluded.nickname, avatar = excluded.avatar",
             Params().add(user.value).add(n.nickname).add(n.avatar));
  }

 private:
  // $1 … $23 of insert_room and update_room.
  static Params room_params(const RoomRecord& r) {
    Params p;
    p.add(r.chat.value).add(r.code).add(r.description).add(join_lines(r.tags)).add(r.cover)
        .add(r.capacity).add(r.listed ? 1 : 0).add(join_policy_name(r.join_policy)).add(r.passcode_hash)
        .add(r.history_all ? 1 : 0).add(encode_form(r.form)).add(r.friend_of_staff ? 1 : 0)
        .add(r.min_account_age_days).add_optional(r.community_cap).add(r.slow_mode_seconds)
        .add(r.report_threshold).add(r.application_ttl_seconds).add(r.notice_text).add(r.notice_by)
        .add(r.notice_at).add(r.member_count).add(r.last_public_id).add(r.created_at);
    return p;
  }

  Conn& db_;
};

}  // namespace

std::unique_ptr<OpenRoomsTx> make_open_rooms(Conn& db) { return std::make_unique<PostgresOpenRooms>(db); }

}  // namespace modu::pg
