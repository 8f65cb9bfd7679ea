#include "storage/sqlite/open_rooms_store.h"

#include <fmt/format.h>

namespace modu::sqlite {
namespace {

#define ROOM_COLS                                                                               \
  "o.chat_id, o.code, o.description, o.tags, o.cover, o.capacity, o.listed, o.join_policy, "    \
  "o.passcode_hash, o.history_all, o.form, o.friend_of_staff, o.min_account_age_days, "         \
  "o.community_cap, o.slow_mode_seconds, o.report_threshold, o.application_ttl_seconds, "       \
  "o.notice_text, o.notice_by, o.notice_at, o.member_count, o.last_public_id, o.created_at"
constexpr int kRoomCols = 23;
#define LISTING_CHAT_COLS "c.id, c.kind, c.title, c.created_by, c.created_at, c.last_seq, c.last_activity_at"
#define APPLICATION_COLS \
  "id, chat_id, user_id, state, nickname, avatar, answers, reason, created_at, expires_at, decided_at, decided_by"
#define BAN_COLS "id, chat_id, user_id, by_id, reason, at"
#define REPORT_COLS "id, chat_id, reporter_id, target_id, seq, reason, open, created_at"
#define MEMBER_COLS_M \
  "m.chat_id, m.user_id, m.role, m.joined_seq, m.read_seq, m.active, m.pos, m.public_id, " \
  "m.nickname, m.room_avatar, m.permissions, m.joined_at"

std::vector<std::string> split_lines(const std::string& s) {
  std::vector<std::string> out;
  std::size_t start = 0;
  while (start < s.size()) {
    auto end = s.find('\n', start);
    if (end == std::string::npos) end = s.size();
    out.push_back(s.substr(start, end - start));
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

// Form fields are stored one per line as "key\ttype\trequired\tlabel"; keys, types and
// labels never hold tabs or newlines (the service refuses control characters).
std::string encode_form(const std::vector<FormField>& form) {
  std::vector<std::string> lines;
  for (const auto& f : form)
    lines.push_back(fmt::format("{}\t{}\t{}\t{}", f.key, field_type_name(f.type), f.required ? 1 : 0, f.label));
  return join_lines(lines);
}

std::vector<FormField> decode_form(const std::string& text) {
  std::vector<FormField> out;
  for (const auto& line : split_lines(text)) {
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

RoomRecord read_room(const Stmt& s, int c = 0) {
  RoomRecord r;
  r.chat = ChatId(s.int64(c));
  r.code = s.text(c + 1);
  r.description = s.text(c + 2);
  r.tags = split_lines(s.text(c + 3));
  r.cover = s.text(c + 4);
  r.capacity = s.int64(c + 5);
  r.listed = s.int64(c + 6) != 0;
  r.join_policy = parse_join_policy(s.text(c + 7)).value_or(JoinPolicy::kOpen);
  r.passcode_hash = s.text(c + 8);
  r.history_all = s.int64(c + 9) != 0;
  r.form = decode_form(s.text(c + 10));
  r.friend_of_staff = s.int64(c + 11) != 0;
  r.min_account_age_days = s.int64(c + 12);
  if (!s.is_null(c + 13)) r.community_cap = s.int64(c + 13);
  r.slow_mode_seconds = s.int64(c + 14);
  r.report_threshold = s.int64(c + 15);
  r.application_ttl_seconds = s.int64(c + 16);
  r.notice_text = s.text(c + 17);
  r.notice_by = s.int64(c + 18);
  r.notice_at = s.int64(c + 19);
  r.member_count = s.int64(c + 20);
  r.last_public_id = s.int64(c + 21);
  r.created_at = s.int64(c + 22);
  return r;
}

ChatRecord read_listing_chat(const Stmt& s, int c) {
  ChatRecord r;
  r.id = ChatId(s.int64(c));
  r.kind = parse_chat_kind(s.text(c + 1)).value_or(ChatKind::kOpen);
  r.title = s.text(c + 2);
  r.created_by = UserId(s.int64(c + 3));
  r.created_at = s.int64(c + 4);
  r.last_seq = s.int64(c + 5);
  r.last_activity_at = s.int64(c + 6);
  return r;
}

MemberRecord read_member_row(const Stmt& s) {
  MemberRecord m;
  m.chat = ChatId(s.int64(0));
  m.user = UserId(s.int64(1));
  m.role = parse_member_role(s.text(2)).value_or(MemberRole::kMember);
  m.joined_seq = s.int64(3);
  m.read_seq = s.int64(4);
  m.active = s.int64(5) != 0;
  m.pos = s.int64(6);
  m.public_id = s.int64(7);
  if (!s.is_null(8)) m.nickname = s.text(8);
  m.room_avatar = s.text(9);
  m.permissions = static_cast<std::uint32_t>(s.int64(10));
  m.joined_at = s.int64(11);
  return m;
}

ApplicationRecord read_application(const Stmt& s) {
  ApplicationRecord a;
  a.id = s.int64(0);
  a.chat = ChatId(s.int64(1));
  a.user = UserId(s.int64(2));
  a.state = parse_application_state(s.text(3)).value_or(ApplicationState::kPending);
  if (!s.is_null(4)) a.nickname = s.text(4);
  a.avatar = s.text(5);
  a.answers_json = s.text(6);
  a.reason = s.text(7);
  a.created_at = s.int64(8);
  a.expires_at = s.int64(9);
  a.decided_at = s.int64(10);
  a.decided_by = UserId(s.int64(11));
  return a;
}

BanRecord read_ban(const Stmt& s) {
  return BanRecord{.id = s.int64(0), .chat = ChatId(s.int64(1)), .user = UserId(s.int64(2)),
                   .by = UserId(s.int64(3)), .reason = s.text(4), .at = s.int64(5)};
}

ReportRecord read_report(const Stmt& s) {
  return ReportRecord{.id = s.int64(0), .chat = ChatId(s.int64(1)), .reporter = UserId(s.int64(2)),
                      .target = UserId(s.int64(3)), .seq = s.int64(4), .reason = s.text(5),
                      .open = s.int64(6) != 0, .created_at = s.int64(7)};
}

// An FTS5 query that requires every term: each is quoted as a string (terms are n-grams
// without spaces; quotes inside are doubled).
std::string match_all(const std::vector<std::string>& terms) {
  std::string q;
  for (const auto& t : terms) {
    if (!q.empty()) q += " AND ";
    q += '"';
    for (char ch : t) {
      if (ch == '"') q += '"';
      q += ch;
    }
    q += '"';
  }
  return q;
}

class SqliteOpenRooms final : public OpenRoomsTx {
 public:
  explicit SqliteOpenRooms(Db& db) : db_(db) {}

  std::optional<RoomRecord> room(ChatId chat) override {
    auto s = db_.prepare("SELECT " ROOM_COLS " FROM open_rooms o WHERE o.chat_id = ?");
    s.bind(1, chat.value);
    if (!s.step()) return std::nullopt;
    return read_room(s);
  }

  std::optional<RoomRecord> room_by_code(std::string_view code) override {
    auto s = db_.prepare("SELECT " ROOM_COLS " FROM open_rooms o WHERE o.code = ?");
    s.bind(1, code);
    if (!s.step()) return std::nullopt;
    return read_room(s);
  }

  std::vector<RoomListing> search(const std::vector<std::string>& terms, std::int64_t limit,
                                  std::int64_t offset) override {
    auto s = db_.prepare(
        "SELECT " ROOM_COLS ", " LISTING_CHAT_COLS " FROM open_rooms o JOIN chats c ON c.id = o.chat_id "
        "WHERE o.listed = 1 AND o.chat_id IN "
        "(SELECT rowid FROM open_rooms_search WHERE open_rooms_search MATCH ?) "
        "ORDER BY o.member_count DESC, o.chat_id DESC LIMIT ? OFFSET ?");
    s.bind(1, match_all(terms)).bind(2, limit).bind(3, offset);
    return listings(s);
  }

  std::vector<RoomListing> popular(std::int64_t limit, std::int64_t offset) override {
    auto s = db_.prepare(
        "SELECT " ROOM_COLS ", " LISTING_CHAT_COLS " FROM open_rooms o JOIN chats c ON c.id = o.chat_id "
        "WHERE o.listed = 1 ORDER BY o.member_count DESC, o.chat_id DESC LIMIT ? OFFSET ?");
    s.bind(1, limit).bind(2, offset);
    return listings(s);
  }

  std::optional<MemberRecord> member_by_public_id(ChatId chat, std::int64_t public_id) override {
    auto s = db_.prepare("SELECT " MEMBER_COLS_M
                         " FROM members m WHERE m.chat_id = ? AND m.public_id = ? AND m.public_id != 0");
    s.bind(1, chat.value).bind(2, public_id);
    if (!s.step()) return std::nullopt;
    return read_member_row(s);
  }

  std::int64_t community_count(UserId user) override {
    auto s = db_.prepare(
        "SELECT count(*) FROM members m JOIN open_rooms o ON o.chat_id = m.chat_id "
        "WHERE m.user_id = ? AND m.active = 1 AND o.join_policy = 'approval'");
    s.bind(1, user.value);
    return s.step() ? s.int64(0) : 0;
  }

  std::optional<ApplicationRecord> application(std::int64_t id) override {
    auto s = db_.prepare("SELECT " APPLICATION_COLS " FROM open_applications WHERE id = ?");
    s.bind(1, id);
    if (!s.step()) return std::nullopt;
    return read_application(s);
  }

  std::optional<ApplicationRecord> pending_application(ChatId chat, UserId user) override {
    auto s = db_.prepare("SELECT " APPLICATION_COLS " FROM open_applications "
                         "WHERE chat_id = ? AND user_id = ? AND state = 'pending' ORDER BY id DESC LIMIT 1");
    s.bind(1, chat.value).bind(2, user.value);
    if (!s.step()) return std::nullopt;
    return read_application(s);
  }

  std::vector<ApplicationRecord> applications(ChatId chat, ApplicationState state,
                                              std::int64_t limit) override {
    auto s = db_.prepare("SELECT " APPLICATION_COLS " FROM open_applications "
                         "WHERE chat_id = ? AND state = ? ORDER BY id LIMIT ?");
    s.bind(1, chat.value).bind(2, application_state_name(state)).bind(3, limit);
    std::vector<ApplicationRecord> out;
    while (s.step()) out.push_back(read_application(s));
    return out;
  }

  std::vector<ApplicationRecord> applications_of(UserId user, std::int64_t limit) override {
    auto s = db_.prepare("SELECT " APPLICATION_COLS
                         " FROM open_applications WHERE user_id = ? ORDER BY id DESC LIMIT ?");
    s.bind(1, user.value).bind(2, limit);
    std::vector<ApplicationRecord> out;
    while (s.step()) out.push_back(read_application(s));
    return out;
  }

  std::optional<BanRecord> ban(ChatId chat, UserId user) override {
    auto s = db_.prepare("SELECT " BAN_COLS " FROM open_bans WHERE chat_id = ? AND user_id = ?");
    s.bind(1, chat.value).bind(2, user.value);
    if (!s.step()) return std::nullopt;
    return read_ban(s);
  }

  std::optional<BanRecord> ban_by_id(std::int64_t id) override {
    auto s = db_.prepare("SELECT " BAN_COLS " FROM open_bans WHERE id = ?");
    s.bind(1, id);
    if (!s.step()) return std::nullopt;
    return read_ban(s);
  }

  std::vector<BanRecord> bans(ChatId chat) override {
    auto s = db_.prepare("SELECT " BAN_COLS " FROM open_bans WHERE chat_id = ? ORDER BY id DESC");
    s.bind(1, chat.value);
    std::vector<BanRecord> out;
    while (s.step()) out.push_back(read_ban(s));
    return out;
  }

  std::optional<ReportRecord> report(std::int64_t id) override {
    auto s = db_.prepare("SELECT " REPORT_COLS " FROM open_reports WHERE id = ?");
    s.bind(1, id);
    if (!s.step()) return std::nullopt;
    return read_report(s);
  }

  std::optional<std::int64_t> report_by(ChatId chat, UserId reporter, UserId target, Seq seq) override {
    auto s = db_.prepare("SELECT id FROM open_reports WHERE chat_id = ? AND target_id = ? AND seq = ? "
                         "AND reporter_id = ?");
    s.bind(1, chat.value).bind(2, target.value).bind(3, seq).bind(4, reporter.value);
    if (!s.step()) return std::nullopt;
    return s.int64(0);
  }

  std::int64_t open_reporters(ChatId chat, Seq seq) override {
    auto s = db_.prepare("SELECT count(DISTINCT reporter_id) FROM open_reports "
                         "WHERE chat_id = ? AND seq = ? AND open = 1");
    s.bind(1, chat.value).bind(2, seq);
    return s.step() ? s.int64(0) : 0;
  }

  std::vector<ReportRecord> reports(ChatId chat, bool open, std::int64_t limit) override {
    auto s = db_.prepare("SELECT " REPORT_COLS " FROM open_reports WHERE chat_id = ? AND open = ? "
                         "ORDER BY id DESC LIMIT ?");
    s.bind(1, chat.value).bind(2, open ? 1 : 0).bind(3, limit);
    std::vector<ReportRecord> out;
    while (s.step()) out.push_back(read_report(s));
    return out;
  }

  std::int64_t reports_against(UserId user) override {
    auto s = db_.prepare("SELECT count(*) FROM open_reports WHERE target_id = ?");
    s.bind(1, user.value);
    return s.step() ? s.int64(0) : 0;
  }

  std::vector<AuditRecord> audit(ChatId chat, std::int64_t before, std::int64_t limit) override {
    auto s = db_.prepare("SELECT id, chat_id, at, actor_id, target_id, action, detail FROM open_audit "
                         "WHERE chat_id = ? AND id < ? ORDER BY id DESC LIMIT ?");
    s.bind(1, chat.value).bind(2, before).bind(3, limit);
    std::vector<AuditRecord> out;
    while (s.step())
      out.push_back(AuditRecord{.id = s.int64(0), .chat = ChatId(s.int64(1)), .at = s.int64(2),
                                .actor = UserId(s.int64(3)), .target = UserId(s.int64(4)),
                                .action = s.text(5), .detail_json = s.text(6)});
    return out;
  }

  std::optional<SavedNickname> saved_nickname(UserId user) override {
    auto s = db_.prepare("SELECT nickname, avatar FROM open_nicknames WHERE user_id = ?");
    s.bind(1, user.value);
    if (!s.step()) return std::nullopt;
    return SavedNickname{s.text(0), s.text(1)};
  }

  std::optional<TimeMs> last_send(ChatId chat, UserId user) override {
    auto s = db_.prepare("SELECT at FROM open_last_sends WHERE chat_id = ? AND user_id = ?");
    s.bind(1, chat.value).bind(2, user.value);
    if (!s.step()) return std::nullopt;
    return s.int64(0);
  }

  // --- writes ---

  void insert_room(const RoomRecord& r, std::string_view search_text) override {
    auto s = db_.prepare(
        "INSERT INTO open_rooms(chat_id, code, description, tags, cover, capacity, listed, "
        "join_policy, passcode_hash, history_all, form, friend_of_staff, min_account_age_days, "
        "community_cap, slow_mode_seconds, report_threshold, application_ttl_seconds, notice_text, "
        "notice_by, notice_at, member_count, last_public_id, created_at) "
        "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)");
    bind_room(s, r);
    s.run();
    index(r.chat, search_text);
  }

  void update_room(const RoomRecord& r, std::string_view search_text) override {
    auto s = db_.prepare(
        "UPDATE open_rooms SET code = ?2, description = ?3, tags = ?4, cover = ?5, capacity = ?6, "
        "listed = ?7, join_policy = ?8, passcode_hash = ?9, history_all = ?10, form = ?11, "
        "friend_of_staff = ?12, min_account_age_days = ?13, community_cap = ?14, "
        "slow_mode_seconds = ?15, report_threshold = ?16, application_ttl_seconds = ?17, "
        "notice_text = ?18, notice_by = ?19, notice_at = ?20, member_count = ?21, "
        "last_public_id = ?22, created_at = ?23 WHERE chat_id = ?1");
    bind_room(s, r);
    s.run();
    auto d = db_.prepare("DELETE FROM open_rooms_search WHERE rowid = ?");
    d.bind(1, r.chat.value);
    d.run();
    index(r.chat, search_text);
  }

  void set_member_count(ChatId chat, std::int64_t count) override {
    auto s = db_.prepare("UPDATE open_rooms SET member_count = ? WHERE chat_id = ?");
    s.bind(1, count).bind(2, chat.value);
    s.run();
  }

  std::int64_t next_public_id(ChatId chat) override {
    auto s = db_.prepare("UPDATE open_rooms SET last_public_id = last_public_id + 1 WHERE chat_id = ? "
                         "RETURNING last_public_id");
    s.bind(1, chat.value);
    if (!s.step()) throw StorageError(fmt::format("open room {} is missing", chat.value));
    return s.int64(0);
  }

  std::int64_t insert_application(const ApplicationRecord& a) override {
    auto s = db_.prepare(
        "INSERT INTO open_applications(chat_id, user_id, state, nickname, avatar, answers, reason, "
        "created_at, expires_at, decided_at, decided_by) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)");
    s.bind(1, a.chat.value).bind(2, a.user.value).bind(3, application_state_name(a.state))
        .bind(5, a.avatar).bind(6, a.answers_json).bind(7, a.reason).bind(8, a.created_at)
        .bind(9, a.expires_at).bind(10, a.decided_at).bind(11, a.decided_by.value);
    if (a.nickname) s.bind(4, *a.nickname); else s.bind_null(4);
    s.run();
    return db_.last_insert_rowid();
  }

  void update_application(const ApplicationRecord& a) override {
    auto s = db_.prepare("UPDATE open_applications SET state = ?, reason = ?, decided_at = ?, "
                         "decided_by = ? WHERE id = ?");
    s.bind(1, application_state_name(a.state)).bind(2, a.reason).bind(3, a.decided_at)
        .bind(4, a.decided_by.value).bind(5, a.id);
    s.run();
  }

  std::int64_t insert_ban(const BanRecord& b) override {
    auto s = db_.prepare("INSERT INTO open_bans(chat_id, user_id, by_id, reason, at) VALUES (?, ?, ?, ?, ?) "
                         "ON CONFLICT(chat_id, user_id) DO UPDATE SET by_id = excluded.by_id, "
                         "reason = excluded.reason, at = excluded.at");
    s.bind(1, b.chat.value).bind(2, b.user.value).bind(3, b.by.value).bind(4, b.reason).bind(5, b.at);
    s.run();
    auto id = ban(b.chat, b.user);
    return id ? id->id : 0;
  }

  void delete_ban(std::int64_t id) override {
    auto s = db_.prepare("DELETE FROM open_bans WHERE id = ?");
    s.bind(1, id);
    s.run();
  }

  std::int64_t insert_report(const ReportRecord& r) override {
    auto s = db_.prepare("INSERT INTO open_reports(chat_id, reporter_id, target_id, seq, reason, open, "
                         "created_at) VALUES (?, ?, ?, ?, ?, 1, ?)");
    s.bind(1, r.chat.value).bind(2, r.reporter.value).bind(3, r.target.value).bind(4, r.seq)
        .bind(5, r.reason).bind(6, r.created_at);
    s.run();
    return db_.last_insert_rowid();
  }

  void resolve_reports(ChatId chat, UserId target, Seq seq) override {
    auto s = db_.prepare("UPDATE open_reports SET open = 0 WHERE chat_id = ? AND target_id = ? AND seq = ? "
                         "AND open = 1");
    s.bind(1, chat.value).bind(2, target.value).bind(3, seq);
    s.run();
  }

  std::int64_t insert_audit(const AuditRecord& e) override {
    auto s = db_.prepare("INSERT INTO open_audit(chat_id, at, actor_id, target_id, action, detail) "
                         "VALUES (?, ?, ?, ?, ?, ?)");
    s.bind(1, e.chat.value).bind(2, e.at).bind(3, e.actor.value).bind(4, e.target.value)
        .bind(5, e.action).bind(6, e.detail_json);
    s.run();
    return db_.last_insert_rowid();
  }

  void set_saved_nickname(UserId user, const SavedNickname& n) override {
    auto s = db_.prepare("INSERT INTO open_nicknames(user_id, nickname, avatar) VALUES (?, ?, ?) "
                         "ON CONFLICT(user_id) DO UPDATE SET nickname = excluded.nickname, "
                         "avatar = excluded.avatar");
    s.bind(1, user.value).bind(2, n.nickname).bind(3, n.avatar);
    s.run();
  }

  void set_last_send(ChatId chat, UserId user, TimeMs at) override {
    auto s = db_.prepare("INSERT INTO open_last_sends(chat_id, user_id, at) VALUES (?, ?, ?) "
                         "ON CONFLICT(chat_id, user_id) DO UPDATE SET at = excluded.at");
    s.bind(1, chat.value).bind(2, user.value).bind(3, at);
    s.run();
  }

 private:
  static void bind_room(Stmt& s, const RoomRecord& r) {
    s.bind(1, r.chat.value).bind(2, r.code).bind(3, r.description).bind(4, join_lines(r.tags))
        .bind(5, r.cover).bind(6, r.capacity).bind(7, r.listed ? 1 : 0)
        .bind(8, join_policy_name(r.join_policy)).bind(9, r.passcode_hash)
        .bind(10, r.history_all ? 1 : 0).bind(11, encode_form(r.form))
        .bind(12, r.friend_of_staff ? 1 : 0).bind(13, r.min_account_age_days)
        .bind(15, r.slow_mode_seconds).bind(16, r.report_threshold)
        .bind(17, r.application_ttl_seconds).bind(18, r.notice_text).bind(19, r.notice_by)
        .bind(20, r.notice_at).bind(21, r.member_count).bind(22, r.last_public_id)
        .bind(23, r.created_at);
    if (r.community_cap) s.bind(14, *r.community_cap); else s.bind_null(14);
  }

  void index(ChatId chat, std::string_view text) {
    auto s = db_.prepare("INSERT INTO open_rooms_search(rowid, terms) VALUES (?, ?)");
    s.bind(1, chat.value).bind(2, text);
    s.run();
  }

  std::vector<RoomListing> listings(Stmt& s) {
    std::vector<RoomListing> out;
    while (s.step()) {
      RoomListing l;
      l.room = read_room(s, 0);
      l.chat = read_listing_chat(s, kRoomCols);
      out.push_back(std::move(l));
    }
    return out;
  }

  Db& db_;
};

}  // namespace

std::unique_ptr<OpenRoomsTx> make_open_rooms(Db& db) { return std::make_unique<SqliteOpenRooms>(db); }

}  // namespace modu::sqlite
