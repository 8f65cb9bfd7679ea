// Open chats and communities: rooms found by search, link or code, joined under a room
// profile; join policies, applications, roles and moderation (docs/protocol.md).
//
// Reads (search, preview, lists for staff) run on the connection's loop. Every change is a
// write job: it loads the chat through the engine, checks membership and permission
// against committed state, changes rows, appends a system message where the room should
// see it, writes the audit log, and announces — all in one transaction.
//
// Identity: everything members see names people by member id (MemberRecord::public_id)
// and room profile; account ids never leave this file except toward their owner.
#include "services/openchat/open_chat_ops.h"

#include <boost/asio/post.hpp>
#include <fmt/format.h>
#include <sodium.h>

#include <algorithm>
#include <limits>
#include <unordered_map>

#include "services/accounts/credentials.h"
#include "services/chat/chat_events.h"
#include "services/openchat/audit.h"
#include "services/openchat/open_chat_rules.h"
#include "services/openchat/room_view.h"
#include "services/openchat/search.h"
#include "services/views.h"
#include "services/write.h"

namespace modu {
namespace {

using openchat::is_staff;
using openchat::may;
using openchat::outranks;
using openchat::record_audit;

constexpr std::int64_t kMaxId = std::numeric_limits<std::int64_t>::max();
constexpr std::size_t kCodeLength = 10;
constexpr std::size_t kMaxTitleChars = 50;
constexpr std::size_t kMaxDescriptionBytes = 1000;
constexpr std::size_t kMaxTags = 10;
constexpr std::size_t kMaxTagChars = 20;
constexpr std::size_t kMaxUrlBytes = 1000;
constexpr std::size_t kMaxNicknameChars = 20;
constexpr std::size_t kMaxNicknameBytes = 60;
constexpr std::size_t kMaxFormFields = 10;
constexpr std::size_t kMaxAnswerBytes = 1000;
constexpr std::size_t kMaxReasonBytes = 200;
constexpr std::size_t kMaxNoticeBytes = 1000;
constexpr std::int64_t kDayMs = 24 * 3600 * 1000;

Error chat_not_found() { return make_error(ErrorCode::kChatNotFound, "no such chat"); }
Error room_not_found() { return make_error(ErrorCode::kRoomNotFound, "no such open chat"); }
Error member_not_found() { return make_error(ErrorCode::kMemberNotFound, "no such member in this room"); }
Error forbidden(std::string_view permission) {
  return make_error(ErrorCode::kForbidden, fmt::format("you need the '{}' permission", permission));
}

std::size_t utf8_chars(std::string_view s) {
  return static_cast<std::size_t>(
      std::count_if(s.begin(), s.end(), [](char c) { return (static_cast<unsigned char>(c) & 0xC0) != 0x80; }));
}

bool has_control(std::string_view s) {
  return std::any_of(s.begin(), s.end(), [](char c) { return static_cast<unsigned char>(c) < 0x20; });
}

std::string random_code() {
  static constexpr std::string_view kAlphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
  std::string code(kCodeLength, ' ');
  for (char& c : code) c = kAlphabet[randombytes_uniform(static_cast<std::uint32_t>(kAlphabet.size()))];
  return code;
}

std::string search_terms(const std::string& title, const RoomRecord& room) {
  return openchat::index_terms(title, room.description, room.tags);
}

// --- arguments -----------------------------------------------------------------------------

struct RoomProfileArg {
  enum class Kind { kNickname, kSaved, kReal } kind = Kind::kReal;
  std::string nickname;
  std::string avatar;
};

std::optional<Error> check_nickname(std::string_view nickname) {
  if (nickname.empty() || utf8_chars(nickname) > kMaxNicknameChars || nickname.size() > kMaxNicknameBytes ||
      has_control(nickname))
    return make_error(ErrorCode::kBadRequest, "a nickname is 1-20 characters");
  return std::nullopt;
}

std::optional<RoomProfileArg> read_profile_arg(Call& call) {
  Args p = call.args.object("profile", true);
  if (args_failed(call)) return std::nullopt;
  auto kind = p.string("kind", 1, 16);
  auto nickname = p.opt_string("nickname", 0, kMaxNicknameBytes);
  auto avatar = p.opt_string("avatar", 0, kMaxUrlBytes);
  if (p.error()) {
    call.reply.fail(*p.error());
    return std::nullopt;
  }
  RoomProfileArg arg;
  if (kind == "real") {
    arg.kind = RoomProfileArg::Kind::kReal;
  } else if (kind == "saved") {
    arg.kind = RoomProfileArg::Kind::kSaved;
  } else if (kind == "nickname") {
    arg.kind = RoomProfileArg::Kind::kNickname;
    arg.nickname = nickname.value_or("");
    arg.avatar = avatar.value_or("");
    if (auto e = check_nickname(arg.nickname)) {
      call.reply.fail(*e);
      return std::nullopt;
    }
  } else {
    call.reply.fail(ErrorCode::kBadRequest, "profile.kind must be nickname, saved or real");
    return std::nullopt;
  }
  return arg;
}

// The room identity a profile argument stands for, resolved inside the job (the saved
// nickname is read then). Returns the nickname (none = real profile) and avatar.
Result<std::pair<std::optional<std::string>, std::string>> resolve_profile(WriteTx& tx, UserId user,
                                                                           const RoomProfileArg& arg) {
  using R = std::pair<std::optional<std::string>, std::string>;
  switch (arg.kind) {
    case RoomProfileArg::Kind::kReal: return R{std::nullopt, ""};
    case RoomProfileArg::Kind::kNickname: return R{arg.nickname, arg.avatar};
    case RoomProfileArg::Kind::kSaved: {
      auto saved = tx.open_rooms().saved_nickname(user);
      if (!saved)
        return make_error(ErrorCode::kBadRequest, "you have no saved nickname profile; set one with open.nickname.set");
      return R{saved->nickname, saved->avatar};
    }
  }
  return R{std::nullopt, ""};
}

// The settings of open.create and open.update; unset fields keep their value.
struct RoomSettings {
  std::optional<std::string> title;
  std::optional<std::string> description;
  std::optional<std::vector<std::string>> tags;
  std::optional<std::string> cover;
  std::optional<std::int64_t> capacity;
  std::optional<bool> listed;
  std::optional<JoinPolicy> join_policy;
  std::optional<std::string> passcode;  // plain; hashed before the job
  std::optional<std::vector<FormField>> form;
  std::optional<bool> friend_of_staff;
  std::optional<std::int64_t> min_account_age_days;
  bool set_community_cap = false;
  std::optional<std::int64_t> community_cap;
  std::optional<bool> history_all;
  std::optional<std::int64_t> slow_mode_seconds;
  std::optional<std::int64_t> report_threshold;
  std::optional<std::int64_t> application_ttl_seconds;
};

bool valid_form_key(std::string_view key) {
  return !key.empty() && key.size() <= 32 &&
         std::all_of(key.begin(), key.end(), [](char c) { return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_'; });
}

std::optional<RoomSettings> read_settings(Call& call, const ServiceOptions& options, bool creating) {
  RoomSettings s;
  Args& a = call.args;
  s.title = creating ? std::optional(a.string("title", 1, kMaxTitleChars * 4)) : a.opt_string("title", 1, kMaxTitleChars * 4);
  s.description = a.opt_string("description", 0, kMaxDescriptionBytes);
  s.tags = a.opt_string_list("tags", kMaxTags, 1, kMaxTagChars * 4);
  s.cover = a.opt_string("cover", 0, kMaxUrlBytes);
  s.capacity = a.opt_int64("capacity", 2, options.max_open_capacity);
  s.listed = a.opt_bool("listed");
  auto policy = a.opt_string("join_policy", 1, 16);
  s.passcode = a.opt_string("passcode", 4, 32);
  auto form = a.opt_object_list("form", kMaxFormFields);
  Args conditions = a.object("conditions", false);
  s.set_community_cap = a.has("community_cap") || a.is_null("community_cap");
  s.community_cap = a.opt_int64("community_cap", 1, 1000);
  auto history = a.opt_string("history", 1, 16);
  s.slow_mode_seconds = a.opt_int64("slow_mode_seconds", 0, 3600);
  s.report_threshold = a.opt_int64("report_threshold", 1, 100);
  s.application_ttl_seconds = a.opt_int64("application_ttl_seconds", 3600, 30 * 24 * 3600);
  if (args_failed(call)) return std::nullopt;
  s.friend_of_staff = conditions.opt_bool("friend_of_staff");
  s.min_account_age_days = conditions.opt_int64("min_account_age_days", 0, 3650);
  if (conditions.error()) {
    call.reply.fail(*conditions.error());
    return std::nullopt;
  }
  auto fail = [&](std::string message) {
    call.reply.fail(ErrorCode::kBadRequest, std::move(message));
    return std::nullopt;
  };
  if (s.title && (utf8_chars(*s.title) > kMaxTitleChars || has_control(*s.title) || s.title->find_first_not_of(' ') == std::string::npos))
    return fail("field 'title' must be 1-50 characters");
  if (s.tags)
    for (const auto& t : *s.tags)
      if (utf8_chars(t) > kMaxTagChars || has_control(t)) return fail("each tag is 1-20 characters");
  if (policy) {
    s.join_policy = parse_join_policy(*policy);
    if (!s.join_policy) return fail("field 'join_policy' must be open, passcode or approval");
  }
  if (history) {
    if (*history != "all" && *history != "from_join") return fail("field 'history' must be from_join or all");
    s.history_all = *history == "all";
  }
  if (form) {
    std::vector<FormField> fields;
    for (auto& f : *form) {
      FormField field;
      field.key = f.string("key", 1, 32);
      field.label = f.string("label", 1, 60);
      auto type = f.string("type", 1, 16);
      field.required = f.opt_bool("required").value_or(false);
      if (f.error()) {
        call.reply.fail(ErrorCode::kBadRequest, "form: " + f.error()->message);
        return std::nullopt;
      }
      if (!valid_form_key(field.key)) return fail("form keys are 1-32 characters: a-z, 0-9 and '_'");
      if (has_control(field.label)) return fail("form labels must not hold control characters");
      auto parsed = parse_field_type(type);
      if (!parsed) return fail("form field types are real_name, phone, company, job_title and text");
      field.type = *parsed;
      for (const auto& other : fields)
        if (other.key == field.key) return fail(fmt::format("form key '{}' appears twice", field.key));
      fields.push_back(std::move(field));
    }
    s.form = std::move(fields);
  }
  return s;
}

// Applies the settings to the room (and title). Fails when the result is inconsistent.
std::optional<Error> apply_settings(const RoomSettings& s, RoomRecord& room, std::string& title,
                                    std::optional<std::string> passcode_hash) {
  if (s.title) title = *s.title;
  if (s.description) room.description = *s.description;
  if (s.tags) room.tags = *s.tags;
  if (s.cover) room.cover = *s.cover;
  if (s.capacity) room.capacity = *s.capacity;
  if (s.listed) room.listed = *s.listed;
  if (s.join_policy) room.join_policy = *s.join_policy;
  if (passcode_hash) room.passcode_hash = *passcode_hash;
  if (s.form) room.form = *s.form;
  if (s.friend_of_staff) room.friend_of_staff = *s.friend_of_staff;
  if (s.min_account_age_days) room.min_account_age_days = *s.min_account_age_days;
  if (s.set_community_cap) room.community_cap = s.community_cap;
  if (s.history_all) room.history_all = *s.history_all;
  if (s.slow_mode_seconds) room.slow_mode_seconds = *s.slow_mode_seconds;
  if (s.report_threshold) room.report_threshold = *s.report_threshold;
  if (s.application_ttl_seconds) room.application_ttl_seconds = *s.application_ttl_seconds;
  if (room.join_policy == JoinPolicy::kPasscode && room.passcode_hash.empty())
    return make_error(ErrorCode::kBadRequest, "a passcode room needs a 'passcode'");
  if (room.join_policy != JoinPolicy::kPasscode) room.passcode_hash.clear();
  return std::nullopt;
}

// Hashes a passcode on the blocking pool (argon2id, like passwords), then continues.
void with_passcode_hash(Services& services, const Reply& reply, std::optional<std::string> passcode,
                        std::function<void(std::optional<std::string>)> next) {
  if (!passcode) return next(std::nullopt);
  PasswordCost cost{services.options.password_ops, services.options.password_memory_kib * 1024};
  boost::asio::post(services.blocking, [reply, passcode = std::move(*passcode), cost, next = std::move(next)] {
    auto hash = hash_password(passcode, cost);
    if (!hash) return reply.fail(ErrorCode::kUnavailable, "the server is out of memory; retry");
    next(std::move(*hash));
  });
}

// --- views -----------------------------------------------------------------------------------

ApplicationState effective_state(const ApplicationRecord& a, TimeMs now) {
  if (a.state == ApplicationState::kPending && now > a.expires_at) return ApplicationState::kExpired;
  return a.state;
}

// An application. `staff` views have no member id for the applicant (user_id 0).
void write_application(JsonWriter& w, ReadView& view, const ApplicationRecord& a, bool with_answers,
                       const std::optional<RoomListing>& room) {
  w.begin_object()
      .field("application_id", a.id)
      .field("chat_id", a.chat.value)
      .field("state", application_state_name(effective_state(a, now_ms())))
      .key("profile");
  MemberRecord shown{.user = a.user, .public_id = 0, .nickname = a.nickname, .room_avatar = a.avatar};
  if (a.nickname) {
    write_shown_profile(w, shown, nullptr);
  } else {
    auto user = view.user_by_id(a.user);
    if (user) write_profile(w, *user); else w.null();
  }
  if (with_answers) w.key("answers").raw(a.answers_json);
  w.field("created_at", a.created_at).field("expires_at", a.expires_at).key("decided_at");
  if (a.decided_at) w.value(a.decided_at); else w.null();
  w.key("reason");
  if (a.state == ApplicationState::kRejected && !a.reason.empty()) w.value(a.reason); else w.null();
  if (room) {
    w.key("room");
    write_room(w, room->chat, room->room);
  }
  w.end_object();
}

std::string application_json(ReadView& view, const ApplicationRecord& a, bool with_answers) {
  JsonWriter w;
  w.begin_object().key("application");
  write_application(w, view, a, with_answers, std::nullopt);
  w.end_object();
  return w.str();
}

SharedFrame application_event(ReadView& view, const ApplicationRecord& a, bool with_answers) {
  return share(event_frame("open.application", 0, application_json(view, a, with_answers)));
}

// --- inside write jobs -------------------------------------------------------------------------

// The open chat `chat_id` with `me` as an active member, and its room.
struct RoomContext {
  ChatState* chat = nullptr;
  RoomRecord room;
  MemberRecord* me = nullptr;
};

Result<RoomContext> load_room(WriteTx& tx, ChatEngine& engine, ChatId chat_id, UserId me) {
  ChatState* chat = engine.load_for_member(tx, chat_id, me);
  if (!chat) return chat_not_found();
  if (chat->chat.kind != ChatKind::kOpen) return make_error(ErrorCode::kInvalidState, "not an open chat");
  auto room = tx.open_rooms().room(chat_id);
  if (!room) return room_not_found();
  return RoomContext{chat, std::move(*room), chat->member(me)};
}

// An active member of the room by member id.
MemberRecord* active_member(ChatState& chat, WriteTx& tx, std::int64_t member_id) {
  auto row = tx.open_rooms().member_by_public_id(chat.chat.id, member_id);
  return row ? chat.member(row->user) : nullptr;
}

void publish_room(Effects& fx, ChatState& chat, const RoomRecord& room, Pos pos) {
  JsonWriter w;
  w.begin_object().key("room");
  write_room(w, chat.chat, room);
  w.end_object();
  fx.publish(chat.member_ids, share(event_frame("open.updated", pos, w.view(), shard_of(chat.chat.id))));
}

// Appends a system message from `by` and publishes it to the room.
void announce(WriteTx& tx, Effects& fx, ChatEngine& engine, ChatState& chat, UserId by,
              const JsonWriter& body, Pos pos) {
  MessageRecord m = append_system(tx, engine, chat, by, body, now_ms(), pos);
  publish_message(tx, fx, engine, chat, m, pos);
}

// Makes `user` a member with the given room identity; the caller checked every rule.
void admit(WriteTx& tx, Effects& fx, ChatEngine& engine, ChatState& chat, const RoomRecord& room,
           UserId user, std::optional<std::string> nickname, std::string avatar, MemberRole role, Pos pos) {
  // A returning member keeps their member id.
  auto prior = tx.membership(chat.chat.id, user);
  std::int64_t public_id = prior && prior->public_id ? prior->public_id : tx.open_rooms().next_public_id(chat.chat.id);
  MemberRecord m{.user = user, .role = role,
                 .joined_seq = room.history_all ? 0 : chat.chat.last_seq,
                 .public_id = public_id, .nickname = std::move(nickname), .room_avatar = std::move(avatar),
                 .permissions = role == MemberRole::kOwner ? kAllPermissions : 0u, .joined_at = now_ms()};
  engine.add_member(tx, chat, std::move(m), pos);
  JsonWriter body;
  body.begin_object().field("type", "join").field("user", public_id).end_object();
  announce(tx, fx, engine, chat, user, body, pos);
  publish_chat_updated_to(tx, fx, chat, user, pos);
}

std::int64_t community_cap(const RoomRecord& room, const ServiceOptions& options) {
  return room.community_cap.value_or(options.max_communities);
}

std::optional<Error> check_community_cap(WriteTx& tx, const RoomRecord& room, UserId user,
                                         const ServiceOptions& options) {
  if (room.join_policy != JoinPolicy::kApproval) return std::nullopt;
  std::int64_t cap = community_cap(room, options);
  if (tx.open_rooms().community_count(user) >= cap)
    return make_error(ErrorCode::kMembershipCap,
                      fmt::format("you already belong to {} communities, the most allowed here", cap));
  return std::nullopt;
}

std::optional<Error> check_conditions(WriteTx& tx, ChatState& chat, const RoomRecord& room, UserId user) {
  if (room.min_account_age_days > 0) {
    auto account = tx.user_by_id(user);
    if (!account || now_ms() - account->created_at < room.min_account_age_days * kDayMs)
      return make_error(ErrorCode::kConditionsNotMet,
                        fmt::format("this community takes accounts at least {} days old", room.min_account_age_days));
  }
  if (room.friend_of_staff) {
    bool known = std::any_of(chat.members.begin(), chat.members.end(), [&](const MemberRecord& m) {
      return is_staff(m) && tx.is_friend(m.user, user);
    });
    if (!known)
      return make_error(ErrorCode::kConditionsNotMet,
                        "this community takes only friends of its owner or sub-admins");
  }
  return std::nullopt;
}

// Answers checked against the form; returns them as a JSON object.
Result<std::string> check_answers(const RoomRecord& room, const std::vector<std::pair<std::string, std::string>>& answers) {
  for (const auto& [key, value] : answers)
    if (std::none_of(room.form.begin(), room.form.end(), [&](const FormField& f) { return f.key == key; }))
      return make_error(ErrorCode::kBadRequest, fmt::format("the form has no field '{}'", key));
  JsonWriter w;
  w.begin_object();
  for (const auto& field : room.form) {
    auto it = std::find_if(answers.begin(), answers.end(), [&](const auto& a) { return a.first == field.key; });
    bool blank = it == answers.end() || it->second.find_first_not_of(" \t\r\n") == std::string::npos;
    if (blank) {
      if (field.required)
        return make_error(ErrorCode::kBadRequest, fmt::format("the form field '{}' is required", field.key));
      continue;
    }
    const std::string& value = it->second;
    if (field.type == FieldType::kPhone) {
      bool ok = value.size() >= 4 && value.size() <= 20 &&
                std::all_of(value.begin(), value.end(), [](char c) { return (c >= '0' && c <= '9') || c == ' ' || c == '+' || c == '-'; });
      if (!ok) return make_error(ErrorCode::kBadRequest, fmt::format("the form field '{}' must be a phone number", field.key));
    } else if (field.type != FieldType::kText && has_control(value)) {
      return make_error(ErrorCode::kBadRequest, fmt::format("the form field '{}' must be one line", field.key));
    }
    w.runtime_field(field.key, value);
  }
  w.end_object();
  return w.str();
}

// Staff with `permission`, for announcing to them.
std::vector<UserId> staff_with(const ChatState& chat, std::uint32_t permission) {
  std::vector<UserId> out;
  for (const auto& m : chat.members)
    if (may(m, permission)) out.push_back(m.user);
  return out;
}

// --- operations ---------------------------------------------------------------------------------

void open_create(Call& call, Services& services, ChatEngine& engine) {
  auto settings = read_settings(call, services.options, true);
  if (!settings) return;
  auto profile = read_profile_arg(call);
  if (!profile) return;
  UserId me = call.conn.user;
  auto passcode = settings->passcode;
  with_passcode_hash(services, call.reply, passcode, [&services, &engine, reply = call.reply, me,
                                                      settings = std::move(*settings), profile = *profile](
                                                         std::optional<std::string> passcode_hash) {
    std::int64_t max_capacity = services.options.max_open_capacity;
    submit_write(services, reply, me, [&engine, me, settings, profile, passcode_hash, max_capacity](
                                      WriteTx& tx, Effects& fx) -> Result<std::string> {
      auto identity = resolve_profile(tx, me, profile);
      if (!identity.ok()) return identity.take_error();
      TimeMs now = now_ms();
      RoomRecord room{.capacity = max_capacity, .created_at = now};
      std::string title;
      if (auto e = apply_settings(settings, room, title, passcode_hash)) return *e;
      std::string code = random_code();
      while (tx.open_rooms().room_by_code(code)) code = random_code();
      room.code = code;
      Pos pos = tx.next_pos();
      ChatRecord record{.kind = ChatKind::kOpen, .title = title, .created_by = me, .created_at = now,
                        .last_activity_at = now};
      ChatState& chat = engine.create(tx, record, {}, std::nullopt, pos);
      room.chat = chat.chat.id;
      tx.open_rooms().insert_room(room, search_terms(title, room));
      auto [nickname, avatar] = std::move(identity).value();
      admit(tx, fx, engine, chat, room, me, std::move(nickname), std::move(avatar), MemberRole::kOwner, pos);
      record_audit(tx, chat.chat.id, me, UserId(), "create");
      return summary_result(tx, chat, me);
    });
  });
}

void open_update(Call& call, Services& services, ChatEngine& engine) {
  ChatId chat_id(call.args.int64("chat_id", 1, kMaxId));
  auto settings = read_settings(call, services.options, false);
  if (!settings) return;
  UserId me = call.conn.user;
  auto passcode = settings->passcode;
  with_passcode_hash(services, call.reply, passcode, [&services, &engine, reply = call.reply, me, chat_id,
                                                      settings = std::move(*settings)](
                                                         std::optional<std::string> passcode_hash) {
    submit_write(services, reply, chat_id, [&engine, me, chat_id, settings, passcode_hash](
                                      WriteTx& tx, Effects& fx) -> Result<std::string> {
      auto ctx = load_room(tx, engine, chat_id, me);
      if (!ctx.ok()) return ctx.take_error();
      if (!may(*ctx->me, kPermEdit)) return forbidden("edit");
      RoomRecord room = ctx->room;
      std::string title = ctx->chat->chat.title;
      if (auto e = apply_settings(settings, room, title, passcode_hash)) return *e;
      if (room.capacity < static_cast<std::int64_t>(ctx->chat->members.size()))
        return make_error(ErrorCode::kBadRequest, "the capacity is below the current member count");
      Pos pos = tx.next_pos();
      if (title != ctx->chat->chat.title) engine.rename(tx, *ctx->chat, title, pos);
      tx.open_rooms().update_room(room, search_terms(title, room));
      engine.mark_changed(*ctx->chat, pos);
      record_audit(tx, chat_id, me, UserId(), "edit");
      publish_room(fx, *ctx->chat, room, pos);
      return summary_result(tx, *ctx->chat, me);
    });
  });
}

void write_rooms(JsonWriter& w, std::vector<RoomListing>& rooms, std::int64_t limit) {
  bool more = static_cast<std::int64_t>(rooms.size()) > limit;
  if (more) rooms.resize(static_cast<std::size_t>(limit));
  w.begin_object().key("rooms").begin_array();
  for (const auto& r : rooms) write_room(w, r.chat, r.room);
  w.end_array().field("has_more", more).end_object();
}

void open_search(Call& call, Services& services) {
  auto query = call.args.string("query", 1, 100);
  auto limit = call.args.opt_int64("limit", 1, 50).value_or(20);
  auto offset = call.args.opt_int64("offset", 0, 1000).value_or(0);
  if (args_failed(call)) return;
  auto words = openchat::query_words(query);
  if (words.empty()) return call.reply.fail(ErrorCode::kBadRequest, "field 'query' holds no words");
  ReadView& view = services.store.reader();
  auto found = view.open_rooms().search(openchat::query_terms(words), limit + 1, offset);
  bool more = static_cast<std::int64_t>(found.size()) > limit;
  // The n-grams of a word may occur apart; keep rooms where each word really occurs.
  std::erase_if(found, [&](const RoomListing& r) {
    return !openchat::matches(words, r.chat.title, r.room.description, r.room.tags);
  });
  if (static_cast<std::int64_t>(found.size()) > limit) found.resize(static_cast<std::size_t>(limit));
  JsonWriter w;
  w.begin_object().key("rooms").begin_array();
  for (const auto& r : found) write_room(w, r.chat, r.room);
  w.end_array().field("has_more", more).end_object();
  call.reply.ok(w);
}

void open_popular(Call& call, Services& services) {
  auto limit = call.args.opt_int64("limit", 1, 50).value_or(20);
  auto offset = call.args.opt_int64("offset", 0, 1000).value_or(0);
  if (args_failed(call)) return;
  auto rooms = services.store.reader().open_rooms().popular(limit + 1, offset);
  JsonWriter w;
  write_rooms(w, rooms, limit);
  call.reply.ok(w);
}

// The room named by `code` or `chat_id`: by id only when it is listed or the caller belongs.
std::optional<RoomListing> find_room(ReadView& view, const std::optional<std::string>& code,
                                     std::optional<std::int64_t> chat_id, UserId me) {
  std::optional<RoomRecord> room = code ? view.open_rooms().room_by_code(*code)
                                        : view.open_rooms().room(ChatId(chat_id.value_or(0)));
  if (!room) return std::nullopt;
  if (!code && !room->listed) {
    auto m = view.membership(room->chat, me);
    if (!m || !m->active) return std::nullopt;
  }
  auto chat = view.chat(room->chat);
  if (!chat) return std::nullopt;
  return RoomListing{std::move(*chat), std::move(*room)};
}

void open_preview(Call& call, Services& services) {
  auto code = call.args.opt_string("code", 1, 32);
  auto chat_id = call.args.opt_int64("chat_id", 1, kMaxId);
  if (args_failed(call)) return;
  if (!code && !chat_id) return call.reply.fail(ErrorCode::kBadRequest, "give 'code' or 'chat_id'");
  ReadView& view = services.store.reader();
  ReadSnapshot snapshot(view);
  UserId me = call.conn.user;
  auto found = find_room(view, code, chat_id, me);
  if (!found) return call.reply.fail(room_not_found());
  auto membership = view.membership(found->chat.id, me);
  auto application = view.open_rooms().pending_application(found->chat.id, me);
  JsonWriter w;
  w.begin_object().key("room");
  write_room(w, found->chat, found->room);
  w.field("member", membership && membership->active)
      .field("banned", view.open_rooms().ban(found->chat.id, me).has_value())
      .key("application");
  if (application) write_application(w, view, *application, true, std::nullopt); else w.null();
  w.end_object();
  call.reply.ok(w);
}

void open_join(Call& call, Services& services, ChatEngine& engine) {
  auto code = call.args.opt_string("code", 1, 32);
  auto chat_id_arg = call.args.opt_int64("chat_id", 1, kMaxId);
  auto passcode = call.args.opt_string("passcode", 0, 32);
  auto answers = call.args.opt_string_map("answers", kMaxFormFields, kMaxAnswerBytes);
  if (args_failed(call)) return;
  if (!code && !chat_id_arg) return call.reply.fail(ErrorCode::kBadRequest, "give 'code' or 'chat_id'");
  auto profile = read_profile_arg(call);
  if (!profile) return;
  UserId me = call.conn.user;
  ReadView& view = services.store.reader();
  auto found = find_room(view, code, chat_id_arg, me);
  if (!found) return call.reply.fail(room_not_found());
  ChatId chat_id = found->chat.id;

  auto join = [&services, &engine, reply = call.reply, me, chat_id, profile = *profile,
               answers = answers.value_or(std::vector<std::pair<std::string, std::string>>{})](bool passcode_ok) {
    const ServiceOptions& options = services.options;
    submit_write(services, reply, chat_id, [&engine, &options, me, chat_id, profile, answers, passcode_ok](
                                      WriteTx& tx, Effects& fx) -> Result<std::string> {
      ChatState* chat = engine.load(tx, chat_id);
      auto room = tx.open_rooms().room(chat_id);
      if (!chat || !room) return room_not_found();
      if (chat->member(me)) return summary_result(tx, *chat, me);  // already in: nothing to do
      if (tx.open_rooms().ban(chat_id, me)) return make_error(ErrorCode::kBanned, "you are banned from this room");
      if (room->join_policy == JoinPolicy::kPasscode && !passcode_ok)
        return make_error(ErrorCode::kWrongPasscode, "the passcode does not match");
      auto identity = resolve_profile(tx, me, profile);
      if (!identity.ok()) return identity.take_error();
      auto [nickname, avatar] = std::move(identity).value();

      if (room->join_policy == JoinPolicy::kApproval) {
        if (auto pending = tx.open_rooms().pending_application(chat_id, me);
            pending && effective_state(*pending, now_ms()) == ApplicationState::kPending)
          return application_json(tx, *pending, true);
        if (auto e = check_conditions(tx, *chat, *room, me)) return *e;
        if (auto e = check_community_cap(tx, *room, me, options)) return *e;
        auto answers_json = check_answers(*room, answers);
        if (!answers_json.ok()) return answers_json.take_error();
        TimeMs now = now_ms();
        ApplicationRecord a{.chat = chat_id, .user = me, .nickname = std::move(nickname),
                            .avatar = std::move(avatar), .answers_json = std::move(answers_json).value(),
                            .created_at = now, .expires_at = now + room->application_ttl_seconds * 1000};
        a.id = tx.open_rooms().insert_application(a);
        auto staff = std::make_shared<const std::vector<UserId>>(staff_with(*chat, kPermApprove));
        fx.publish(staff, application_event(tx, a, true));
        return application_json(tx, a, true);
      }
      if (static_cast<std::int64_t>(chat->members.size()) >= room->capacity)
        return make_error(ErrorCode::kRoomFull, fmt::format("the room is full ({} members)", room->capacity));
      admit(tx, fx, engine, *chat, *room, me, std::move(nickname), std::move(avatar), MemberRole::kMember,
            tx.next_pos());
      return summary_result(tx, *chat, me);
    });
  };

  auto membership = view.membership(chat_id, me);
  bool already_member = membership && membership->active;
  if (found->room.join_policy != JoinPolicy::kPasscode || already_member) return join(true);
  if (!passcode) return call.reply.fail(ErrorCode::kWrongPasscode, "this room needs its passcode");
  // Verified off the loop (argon2id); the job re-checks the policy against committed state.
  boost::asio::post(services.blocking, [join, hash = found->room.passcode_hash, passcode = std::move(*passcode)] {
    join(verify_password(passcode, hash));
  });
}

void open_applications(Call& call, Services& services) {
  ChatId chat_id(call.args.int64("chat_id", 1, kMaxId));
  auto state_name = call.args.opt_string("state", 1, 16).value_or("pending");
  if (args_failed(call)) return;
  auto state = parse_application_state(state_name);
  if (!state) return call.reply.fail(ErrorCode::kBadRequest, "field 'state' is not an application state");
  ReadView& view = services.store.reader();
  ReadSnapshot snapshot(view);
  auto me = view.membership(chat_id, call.conn.user);
  if (!me || !me->active) return call.reply.fail(chat_not_found());
  if (!may(*me, kPermApprove)) return call.reply.fail(forbidden("approve"));
  // Expired applications are pending rows past their time.
  ApplicationState stored = *state == ApplicationState::kExpired ? ApplicationState::kPending : *state;
  TimeMs now = now_ms();
  JsonWriter w;
  w.begin_object().key("applications").begin_array();
  for (const auto& a : view.open_rooms().applications(chat_id, stored, 500))
    if (effective_state(a, now) == *state) write_application(w, view, a, true, std::nullopt);
  w.end_array().end_object();
  call.reply.ok(w);
}

void open_decide(Call& call, Services& services, ChatEngine& engine) {
  ChatId chat_id(call.args.int64("chat_id", 1, kMaxId));
  std::int64_t application_id = call.args.int64("application_id", 1, kMaxId);
  auto approve = call.args.opt_bool("approve");
  auto reason = call.args.opt_string("reason", 0, kMaxReasonBytes).value_or("");
  if (args_failed(call)) return;
  if (!approve) return call.reply.fail(ErrorCode::kBadRequest, "missing field 'approve'");
  UserId me = call.conn.user;
  const ServiceOptions& options = services.options;
  submit_write(services, call.reply, chat_id, [&engine, &options, me, chat_id, application_id, approve = *approve,
                                      reason](WriteTx& tx, Effects& fx) -> Result<std::string> {
    auto ctx = load_room(tx, engine, chat_id, me);
    if (!ctx.ok()) return ctx.take_error();
    if (!may(*ctx->me, kPermApprove)) return forbidden("approve");
    auto a = tx.open_rooms().application(application_id);
    if (!a || a->chat != chat_id)
      return make_error(ErrorCode::kApplicationNotFound, "no such application in this room");
    TimeMs now = now_ms();
    ApplicationState state = effective_state(*a, now);
    if (state == ApplicationState::kExpired)
      return make_error(ErrorCode::kApplicationExpired, "the application expired before it was decided");
    if (state != ApplicationState::kPending)
      return make_error(ErrorCode::kInvalidState,
                        fmt::format("the application is already {}", application_state_name(state)));
    ChatState& chat = *ctx->chat;
    if (approve) {
      if (tx.open_rooms().ban(chat_id, a->user)) return make_error(ErrorCode::kBanned, "the applicant is banned");
      if (auto e = check_community_cap(tx, ctx->room, a->user, options)) {
        return make_error(ErrorCode::kMembershipCap, "the applicant already belongs to as many communities as allowed");
      }
      if (static_cast<std::int64_t>(chat.members.size()) >= ctx->room.capacity)
        return make_error(ErrorCode::kRoomFull, "the room is full");
    }
    a->state = approve ? ApplicationState::kApproved : ApplicationState::kRejected;
    a->reason = approve ? "" : reason;
    a->decided_at = now;
    a->decided_by = me;
    tx.open_rooms().update_application(*a);
    Pos pos = tx.next_pos();
    if (approve && !chat.member(a->user))
      admit(tx, fx, engine, chat, ctx->room, a->user, a->nickname, a->avatar, MemberRole::kMember, pos);
    record_audit(tx, chat_id, me, approve ? a->user : UserId(), approve ? "approve" : "reject",
                 fmt::format(R"({{"application_id":{}}})", a->id));
    fx.publish(a->user, application_event(tx, *a, true));
    return application_json(tx, *a, true);
  });
}

void open_my_applications(Call& call, Services& services) {
  ReadView& view = services.store.reader();
  ReadSnapshot snapshot(view);
  JsonWriter w;
  w.begin_object().key("applications").begin_array();
  for (const auto& a : view.open_rooms().applications_of(call.conn.user, 100)) {
    std::optional<RoomListing> room;
    auto r = view.open_rooms().room(a.chat);
    auto c = view.chat(a.chat);
    if (r && c) room = RoomListing{std::move(*c), std::move(*r)};
    write_application(w, view, a, true, room);
  }
  w.end_array().end_object();
  call.reply.ok(w);
}

void open_cancel_application(Call& call, Services& services) {
  std::int64_t application_id = call.args.int64("application_id", 1, kMaxId);
  if (args_failed(call)) return;
  UserId me = call.conn.user;
  submit_write(services, call.reply, Placement::of_id(application_id), [me, application_id](WriteTx& tx, Effects&) -> Result<std::string> {
    auto a = tx.open_rooms().application(application_id);
    if (!a || a->user != me) return make_error(ErrorCode::kApplicationNotFound, "no such application");
    if (effective_state(*a, now_ms()) != ApplicationState::kPending)
      return make_error(ErrorCode::kInvalidState, "only pending applications can be cancelled");
    a->state = ApplicationState::kCancelled;
    a->decided_at = now_ms();
    tx.open_rooms().update_application(*a);
    return application_json(tx, *a, true);
  });
}

std::string member_result(WriteTx& tx, const ChatState& chat, const MemberRecord& m) {
  auto account = m.nickname ? std::nullopt : tx.user_by_id(m.user);
  JsonWriter w;
  w.begin_object().key("member");
  write_member(w, chat.chat, m, account ? &*account : nullptr);
  w.end_object();
  return w.str();
}

void open_set_role(Call& call, Services& services, ChatEngine& engine) {
  ChatId chat_id(call.args.int64("chat_id", 1, kMaxId));
  std::int64_t member_id = call.args.int64("member_id", 1, kMaxId);
  auto role_name = call.args.string("role", 1, 16);
  auto permission_names = call.args.opt_string_list("permissions", 6, 1, 16);
  if (args_failed(call)) return;
  if (role_name != "admin" && role_name != "member")
    return call.reply.fail(ErrorCode::kBadRequest, "field 'role' must be admin or member");
  std::uint32_t permissions = 0;
  if (role_name == "admin") {
    if (!permission_names) permissions = kAllPermissions;
    for (const auto& name : permission_names.value_or(std::vector<std::string>{})) {
      auto bit = parse_permission(name);
      if (!bit) return call.reply.fail(ErrorCode::kBadRequest, fmt::format("no permission '{}'", name));
      permissions |= *bit;
    }
  }
  MemberRole role = role_name == "admin" ? MemberRole::kAdmin : MemberRole::kMember;
  UserId me = call.conn.user;
  submit_write(services, call.reply, chat_id, [&engine, me, chat_id, member_id, role, permissions](
                                         WriteTx& tx, Effects& fx) -> Result<std::string> {
    auto ctx = load_room(tx, engine, chat_id, me);
    if (!ctx.ok()) return ctx.take_error();
    if (ctx->me->role != MemberRole::kOwner) return make_error(ErrorCode::kForbidden, "only the owner sets roles");
    MemberRecord* target = active_member(*ctx->chat, tx, member_id);
    if (!target) return member_not_found();
    if (target->role == MemberRole::kOwner) return make_error(ErrorCode::kInvalidState, "the owner's role is fixed; use open.transfer");
    MemberRecord changed = *target;
    changed.role = role;
    changed.permissions = permissions;
    engine.update_member(tx, *ctx->chat, changed);
    Pos pos = tx.next_pos();
    JsonWriter body;
    body.begin_object().field("type", "role").field("by", ctx->me->shown_id()).field("user", member_id)
        .field("role", member_role_name(role)).key("permissions");
    write_permissions(body, permissions);
    body.end_object();
    announce(tx, fx, engine, *ctx->chat, me, body, pos);
    JsonWriter detail;
    detail.begin_object().field("role", member_role_name(role)).key("permissions");
    write_permissions(detail, permissions);
    detail.end_object();
    record_audit(tx, chat_id, me, changed.user, "set_role", detail.view());
    return member_result(tx, *ctx->chat, *ctx->chat->member(changed.user));
  });
}

void open_transfer(Call& call, Services& services, ChatEngine& engine) {
  ChatId chat_id(call.args.int64("chat_id", 1, kMaxId));
  std::int64_t member_id = call.args.int64("member_id", 1, kMaxId);
  if (args_failed(call)) return;
  UserId me = call.conn.user;
  submit_write(services, call.reply, chat_id, [&engine, me, chat_id, member_id](WriteTx& tx, Effects& fx) -> Result<std::string> {
    auto ctx = load_room(tx, engine, chat_id, me);
    if (!ctx.ok()) return ctx.take_error();
    if (ctx->me->role != MemberRole::kOwner) return make_error(ErrorCode::kForbidden, "only the owner hands ownership over");
    MemberRecord* target = active_member(*ctx->chat, tx, member_id);
    if (!target) return member_not_found();
    if (target->user == me) return make_error(ErrorCode::kInvalidState, "you already own this room");
    MemberRecord heir = *target;
    heir.role = MemberRole::kOwner;
    heir.permissions = kAllPermissions;
    MemberRecord former = *ctx->me;
    former.role = MemberRole::kAdmin;
    former.permissions = kAllPermissions;
    engine.update_member(tx, *ctx->chat, heir);
    engine.update_member(tx, *ctx->chat, former);
    Pos pos = tx.next_pos();
    JsonWriter body;
    body.begin_object().field("type", "transfer").field("by", former.shown_id()).field("user", member_id).end_object();
    announce(tx, fx, engine, *ctx->chat, me, body, pos);
    record_audit(tx, chat_id, me, heir.user, "transfer");
    return summary_result(tx, *ctx->chat, me);
  });
}

// Removes `target` from the room for a kick or a ban, announcing it.
void remove_from_room(WriteTx& tx, Effects& fx, ChatEngine& engine, ChatState& chat, const MemberRecord& actor,
                      UserId target, std::int64_t target_id, std::string_view type, Pos pos) {
  JsonWriter body;
  body.begin_object().field("type", type).field("by", actor.shown_id()).field("user", target_id).end_object();
  announce(tx, fx, engine, chat, actor.user, body, pos);
  engine.remove_member(tx, chat, target, pos);
  publish_unread_counts(tx, fx, engine, chat, pos);
  fx.publish(target, share(event_frame("chat.removed", pos, fmt::format(R"({{"chat_id":{}}})", chat.chat.id.value), tx.shard())));
}

std::string reason_detail(std::string_view reason) {
  JsonWriter w;
  w.begin_object().field("reason", reason).end_object();
  return w.str();
}

void open_kick(Call& call, Services& services, ChatEngine& engine) {
  ChatId chat_id(call.args.int64("chat_id", 1, kMaxId));
  std::int64_t member_id = call.args.int64("member_id", 1, kMaxId);
  auto reason = call.args.opt_string("reason", 0, kMaxReasonBytes).value_or("");
  if (args_failed(call)) return;
  UserId me = call.conn.user;
  submit_write(services, call.reply, chat_id, [&engine, me, chat_id, member_id, reason](WriteTx& tx, Effects& fx) -> Result<std::string> {
    auto ctx = load_room(tx, engine, chat_id, me);
    if (!ctx.ok()) return ctx.take_error();
    if (!may(*ctx->me, kPermKick)) return forbidden("kick");
    MemberRecord* target = active_member(*ctx->chat, tx, member_id);
    if (!target) return member_not_found();
    if (!outranks(*ctx->me, *target)) return make_error(ErrorCode::kForbidden, "you can only remove members below your rank");
    UserId target_user = target->user;
    MemberRecord actor = *ctx->me;
    remove_from_room(tx, fx, engine, *ctx->chat, actor, target_user, member_id, "kick", tx.next_pos());
    record_audit(tx, chat_id, me, target_user, "kick", reason_detail(reason));
    return std::string("{}");
  });
}

void write_ban(JsonWriter& w, ReadView& view, const ChatRecord& chat, const BanRecord& b) {
  auto m = view.membership(chat.id, b.user);
  auto account = m && !m->nickname ? view.user_by_id(b.user) : std::nullopt;
  ShownIds shown(view, chat);
  w.begin_object().field("ban_id", b.id).field("member_id", m ? m->shown_id() : 0).key("profile");
  if (m) write_shown_profile(w, *m, account ? &*account : nullptr); else w.null();
  w.field("reason", b.reason).field("by", shown.of(b.by)).field("at", b.at).end_object();
}

void open_ban(Call& call, Services& services, ChatEngine& engine) {
  ChatId chat_id(call.args.int64("chat_id", 1, kMaxId));
  std::int64_t member_id = call.args.int64("member_id", 1, kMaxId);
  auto reason = call.args.opt_string("reason", 0, kMaxReasonBytes).value_or("");
  if (args_failed(call)) return;
  UserId me = call.conn.user;
  submit_write(services, call.reply, chat_id, [&engine, me, chat_id, member_id, reason](WriteTx& tx, Effects& fx) -> Result<std::string> {
    auto ctx = load_room(tx, engine, chat_id, me);
    if (!ctx.ok()) return ctx.take_error();
    if (!may(*ctx->me, kPermBan)) return forbidden("ban");
    // Former members can be banned too, so they cannot come back.
    auto row = tx.open_rooms().member_by_public_id(chat_id, member_id);
    if (!row) return member_not_found();
    MemberRecord* active = ctx->chat->member(row->user);
    if (!outranks(*ctx->me, active ? *active : *row)) return make_error(ErrorCode::kForbidden, "you can only ban members below your rank");
    BanRecord ban{.chat = chat_id, .user = row->user, .by = me, .reason = reason, .at = now_ms()};
    ban.id = tx.open_rooms().insert_ban(ban);
    if (auto pending = tx.open_rooms().pending_application(chat_id, row->user)) {
      pending->state = ApplicationState::kRejected;
      pending->decided_at = now_ms();
      pending->decided_by = me;
      tx.open_rooms().update_application(*pending);
    }
    Pos pos = tx.next_pos();
    MemberRecord actor = *ctx->me;
    if (active) remove_from_room(tx, fx, engine, *ctx->chat, actor, row->user, member_id, "ban", pos);
    record_audit(tx, chat_id, me, row->user, "ban", reason_detail(reason));
    JsonWriter w;
    w.begin_object().key("ban");
    write_ban(w, tx, ctx->chat->chat, ban);
    w.end_object();
    return w.str();
  });
}

void open_unban(Call& call, Services& services, ChatEngine& engine) {
  ChatId chat_id(call.args.int64("chat_id", 1, kMaxId));
  std::int64_t ban_id = call.args.int64("ban_id", 1, kMaxId);
  if (args_failed(call)) return;
  UserId me = call.conn.user;
  submit_write(services, call.reply, chat_id, [&engine, me, chat_id, ban_id](WriteTx& tx, Effects&) -> Result<std::string> {
    auto ctx = load_room(tx, engine, chat_id, me);
    if (!ctx.ok()) return ctx.take_error();
    if (!may(*ctx->me, kPermBan)) return forbidden("ban");
    auto ban = tx.open_rooms().ban_by_id(ban_id);
    if (!ban || ban->chat != chat_id) return make_error(ErrorCode::kBadRequest, "no such ban in this room");
    tx.open_rooms().delete_ban(ban_id);
    record_audit(tx, chat_id, me, ban->user, "unban");
    return std::string("{}");
  });
}

// The caller's active membership of an open chat, for staff reads on the loop.
std::optional<MemberRecord> staff_membership(Call& call, ReadView& view, ChatId chat_id) {
  auto me = view.membership(chat_id, call.conn.user);
  auto chat = me && me->active ? view.chat(chat_id) : std::nullopt;
  if (!chat || chat->kind != ChatKind::kOpen) {
    call.reply.fail(chat_not_found());
    return std::nullopt;
  }
  return me;
}

void open_bans(Call& call, Services& services) {
  ChatId chat_id(call.args.int64("chat_id", 1, kMaxId));
  if (args_failed(call)) return;
  ReadView& view = services.store.reader();
  ReadSnapshot snapshot(view);
  auto me = staff_membership(call, view, chat_id);
  if (!me) return;
  if (!may(*me, kPermBan)) return call.reply.fail(forbidden("ban"));
  auto chat = view.chat(chat_id);
  JsonWriter w;
  w.begin_object().key("bans").begin_array();
  for (const auto& b : view.open_rooms().bans(chat_id)) write_ban(w, view, *chat, b);
  w.end_array().end_object();
  call.reply.ok(w);
}

void open_notice(Call& call, Services& services, ChatEngine& engine) {
  ChatId chat_id(call.args.int64("chat_id", 1, kMaxId));
  auto text = call.args.string("text", 0, kMaxNoticeBytes);
  if (args_failed(call)) return;
  UserId me = call.conn.user;
  submit_write(services, call.reply, chat_id, [&engine, me, chat_id, text](WriteTx& tx, Effects& fx) -> Result<std::string> {
    auto ctx = load_room(tx, engine, chat_id, me);
    if (!ctx.ok()) return ctx.take_error();
    if (!may(*ctx->me, kPermNotice)) return forbidden("notice");
    RoomRecord room = ctx->room;
    room.notice_text = text;
    room.notice_by = ctx->me->shown_id();
    room.notice_at = now_ms();
    tx.open_rooms().update_room(room, search_terms(ctx->chat->chat.title, room));
    Pos pos = tx.next_pos();
    if (!text.empty()) {
      JsonWriter body;
      body.begin_object().field("type", "notice").field("by", ctx->me->shown_id()).field("text", text).end_object();
      announce(tx, fx, engine, *ctx->chat, me, body, pos);
    }
    engine.mark_changed(*ctx->chat, pos);
    JsonWriter detail;
    detail.begin_object().field("text", text).end_object();
    record_audit(tx, chat_id, me, UserId(), "notice", detail.view());
    publish_room(fx, *ctx->chat, room, pos);
    return summary_result(tx, *ctx->chat, me);
  });
}

// A message changed visibility (hidden or shown again): message.updated to the room.
void publish_message_updated(WriteTx& tx, Effects& fx, ChatState& chat, const MessageRecord& m, Pos pos) {
  fx.publish(chat.member_ids, share(event_frame("message.updated", pos, message_json(tx, chat, m), tx.shard())));
}

void open_report(Call& call, Services& services, ChatEngine& engine) {
  ChatId chat_id(call.args.int64("chat_id", 1, kMaxId));
  auto seq = call.args.opt_int64("seq", 1, kMaxId);
  auto member_id = call.args.opt_int64("member_id", 1, kMaxId);
  auto reason = call.args.string("reason", 1, kMaxReasonBytes);
  if (args_failed(call)) return;
  if (seq.has_value() == member_id.has_value())
    return call.reply.fail(ErrorCode::kBadRequest, "give 'seq' or 'member_id'");
  UserId me = call.conn.user;
  submit_write(services, call.reply, chat_id, [&engine, me, chat_id, seq, member_id, reason](
                                         WriteTx& tx, Effects& fx) -> Result<std::string> {
    auto ctx = load_room(tx, engine, chat_id, me);
    if (!ctx.ok()) return ctx.take_error();
    ChatState& chat = *ctx->chat;
    UserId target;
    std::optional<MessageRecord> message;
    if (seq) {
      message = tx.message(chat_id, *seq);
      if (!message || message->kind != MessageKind::kText || *seq <= ctx->me->joined_seq)
        return make_error(ErrorCode::kMessageNotFound, "no such message in this chat");
      target = message->sender;
    } else {
      auto row = tx.open_rooms().member_by_public_id(chat_id, *member_id);
      if (!row) return member_not_found();
      target = row->user;
    }
    if (target == me) return make_error(ErrorCode::kBadRequest, "you cannot report yourself");
    Seq reported_seq = seq.value_or(0);
    if (auto prior = tx.open_rooms().report_by(chat_id, me, target, reported_seq))
      return fmt::format(R"({{"report_id":{}}})", *prior);
    std::int64_t id = tx.open_rooms().insert_report(ReportRecord{
        .chat = chat_id, .reporter = me, .target = target, .seq = reported_seq, .reason = reason,
        .created_at = now_ms()});
    // Enough different members reported the message: hide it until staff review it.
    if (message && !message->hidden && !message->deleted &&
        tx.open_rooms().open_reporters(chat_id, *seq) >= ctx->room.report_threshold) {
      Pos pos = tx.next_pos();
      tx.set_message_hidden(chat_id, *seq, true, pos);
      message->hidden = true;
      engine.mark_changed(chat, pos);
      record_audit(tx, chat_id, UserId(), target, "hide_message", fmt::format(R"({{"seq":{}}})", *seq));
      publish_message_updated(tx, fx, chat, *message, pos);
    }
    return fmt::format(R"({{"report_id":{}}})", id);
  });
}

bool may_review(const MemberRecord& m) { return may(m, kPermDelete) || may(m, kPermKick) || may(m, kPermBan); }

void open_reports(Call& call, Services& services) {
  ChatId chat_id(call.args.int64("chat_id", 1, kMaxId));
  auto state = call.args.opt_string("state", 1, 16).value_or("open");
  if (args_failed(call)) return;
  if (state != "open" && state != "resolved")
    return call.reply.fail(ErrorCode::kBadRequest, "field 'state' must be open or resolved");
  ReadView& view = services.store.reader();
  ReadSnapshot snapshot(view);
  auto me = staff_membership(call, view, chat_id);
  if (!me) return;
  if (!may_review(*me)) return call.reply.fail(forbidden("delete"));
  auto chat = view.chat(chat_id);
  ShownIds shown(view, *chat);
  std::unordered_map<std::int64_t, std::int64_t> totals;
  JsonWriter w;
  w.begin_object().key("reports").begin_array();
  for (const auto& r : view.open_rooms().reports(chat_id, state == "open", 200)) {
    auto [it, fresh] = totals.try_emplace(r.target.value, 0);
    if (fresh) it->second = view.open_rooms().reports_against(r.target);
    w.begin_object()
        .field("report_id", r.id)
        .field("chat_id", chat_id.value)
        .field("reporter", shown.of(r.reporter))
        .field("target", shown.of(r.target))
        .field("seq", r.seq)
        .field("reason", r.reason)
        .field("state", r.open ? "open" : "resolved")
        .field("created_at", r.created_at)
        .key("message");
    auto m = r.seq ? view.message(chat_id, r.seq) : std::nullopt;
    if (m) {
      bool hidden = m->hidden;
      m->hidden = false;  // staff review the text
      write_message(w, *m, 0, shown.of(m->sender));
      w.field("message_hidden", hidden);
    } else {
      w.null();
    }
    w.field("target_reports_total", it->second).end_object();
  }
  w.end_array().end_object();
  call.reply.ok(w);
}

void open_resolve(Call& call, Services& services, ChatEngine& engine) {
  ChatId chat_id(call.args.int64("chat_id", 1, kMaxId));
  std::int64_t report_id = call.args.int64("report_id", 1, kMaxId);
  auto action = call.args.string("action", 1, 16);
  if (args_failed(call)) return;
  if (action != "dismiss" && action != "restore" && action != "delete")
    return call.reply.fail(ErrorCode::kBadRequest, "field 'action' must be dismiss, restore or delete");
  UserId me = call.conn.user;
  submit_write(services, call.reply, chat_id, [&engine, me, chat_id, report_id, action](WriteTx& tx, Effects& fx) -> Result<std::string> {
    auto ctx = load_room(tx, engine, chat_id, me);
    if (!ctx.ok()) return ctx.take_error();
    if (!may(*ctx->me, kPermDelete)) return forbidden("delete");
    auto report = tx.open_rooms().report(report_id);
    if (!report || report->chat != chat_id) return make_error(ErrorCode::kBadRequest, "no such report in this room");
    ChatState& chat = *ctx->chat;
    std::optional<MessageRecord> m = report->seq ? tx.message(chat_id, report->seq) : std::nullopt;
    if (action != "dismiss" && !m) return make_error(ErrorCode::kInvalidState, "this report is about a member, not a message");
    Pos pos = tx.next_pos();
    if (action == "restore" && m->hidden && !m->deleted) {
      tx.set_message_hidden(chat_id, m->seq, false, pos);
      m->hidden = false;
      engine.mark_changed(chat, pos);
      publish_message_updated(tx, fx, chat, *m, pos);
    } else if (action == "delete" && !m->deleted) {
      tx.mark_message_deleted(chat_id, m->seq, pos);
      m->deleted = true;
      m->hidden = false;
      m->text.clear();
      engine.mark_changed(chat, pos);
      record_audit(tx, chat_id, me, m->sender, "delete_message", fmt::format(R"({{"seq":{}}})", m->seq));
      fx.publish(chat.member_ids, share(event_frame("message.deleted", pos, message_json(tx, chat, *m), tx.shard())));
    }
    tx.open_rooms().resolve_reports(chat_id, report->target, report->seq);
    JsonWriter detail;
    detail.begin_object().field("report_id", report_id).field("action", action).field("seq", report->seq).end_object();
    record_audit(tx, chat_id, me, report->target, "resolve_report", detail.view());
    return std::string("{}");
  });
}

void open_audit(Call& call, Services& services) {
  ChatId chat_id(call.args.int64("chat_id", 1, kMaxId));
  auto before = call.args.opt_int64("before", 1, kMaxId).value_or(kMaxId);
  auto limit = call.args.opt_int64("limit", 1, 200).value_or(50);
  if (args_failed(call)) return;
  ReadView& view = services.store.reader();
  ReadSnapshot snapshot(view);
  auto me = staff_membership(call, view, chat_id);
  if (!me) return;
  if (!is_staff(*me)) return call.reply.fail(ErrorCode::kForbidden, "only the owner and admins read the audit log");
  auto chat = view.chat(chat_id);
  ShownIds shown(view, *chat);
  auto entries = view.open_rooms().audit(chat_id, before, limit + 1);
  bool more = static_cast<std::int64_t>(entries.size()) > limit;
  if (more) entries.resize(static_cast<std::size_t>(limit));
  JsonWriter w;
  w.begin_object().key("entries").begin_array();
  for (const auto& e : entries) {
    w.begin_object().field("entry_id", e.id).field("at", e.at).key("actor");
    if (e.actor.value) w.value(shown.of(e.actor)); else w.null();
    w.field("action", e.action).key("target");
    if (e.target.value) w.value(shown.of(e.target)); else w.null();
    w.key("detail").raw(e.detail_json).end_object();
  }
  w.end_array().field("has_more", more).end_object();
  call.reply.ok(w);
}

void write_nickname(JsonWriter& w, const std::optional<SavedNickname>& n) {
  w.begin_object().key("nickname");
  if (n) w.begin_object().field("nickname", n->nickname).field("avatar", n->avatar).end_object();
  else w.null();
  w.end_object();
}

void open_nickname_get(Call& call, Services& services) {
  JsonWriter w;
  write_nickname(w, services.store.reader().open_rooms().saved_nickname(call.conn.user));
  call.reply.ok(w);
}

void open_nickname_set(Call& call, Services& services) {
  auto nickname = call.args.string("nickname", 1, kMaxNicknameBytes);
  auto avatar = call.args.opt_string("avatar", 0, kMaxUrlBytes).value_or("");
  if (args_failed(call)) return;
  if (auto e = check_nickname(nickname)) return call.reply.fail(*e);
  UserId me = call.conn.user;
  SavedNickname saved{nickname, avatar};
  submit_write(services, call.reply, me, [me, saved](WriteTx& tx, Effects&) -> Result<std::string> {
    tx.open_rooms().set_saved_nickname(me, saved);
    JsonWriter w;
    write_nickname(w, saved);
    return w.str();
  });
}

}  // namespace

void register_open_chat_ops(Router& router, Services& services, ChatEngine& engine) {
  engine.set_rules(ChatKind::kOpen, openchat::open_chat_rules());
  using A = Router::Access;
  auto& s = services;
  auto& e = engine;
  router.add("open.create", A::kSignedIn, [&s, &e](Call& c) { open_create(c, s, e); });
  router.add("open.update", A::kSignedIn, [&s, &e](Call& c) { open_update(c, s, e); });
  router.add("open.search", A::kSignedIn, [&s](Call& c) { open_search(c, s); });
  router.add("open.popular", A::kSignedIn, [&s](Call& c) { open_popular(c, s); });
  router.add("open.preview", A::kSignedIn, [&s](Call& c) { open_preview(c, s); });
  router.add("open.join", A::kSignedIn, [&s, &e](Call& c) { open_join(c, s, e); });
  router.add("open.applications", A::kSignedIn, [&s](Call& c) { open_applications(c, s); });
  router.add("open.decide", A::kSignedIn, [&s, &e](Call& c) { open_decide(c, s, e); });
  router.add("open.my_applications", A::kSignedIn, [&s](Call& c) { open_my_applications(c, s); });
  router.add("open.cancel_application", A::kSignedIn, [&s](Call& c) { open_cancel_application(c, s); });
  router.add("open.set_role", A::kSignedIn, [&s, &e](Call& c) { open_set_role(c, s, e); });
  router.add("open.transfer", A::kSignedIn, [&s, &e](Call& c) { open_transfer(c, s, e); });
  router.add("open.kick", A::kSignedIn, [&s, &e](Call& c) { open_kick(c, s, e); });
  router.add("open.ban", A::kSignedIn, [&s, &e](Call& c) { open_ban(c, s, e); });
  router.add("open.unban", A::kSignedIn, [&s, &e](Call& c) { open_unban(c, s, e); });
  router.add("open.bans", A::kSignedIn, [&s](Call& c) { open_bans(c, s); });
  router.add("open.notice", A::kSignedIn, [&s, &e](Call& c) { open_notice(c, s, e); });
  router.add("open.report", A::kSignedIn, [&s, &e](Call& c) { open_report(c, s, e); });
  router.add("open.reports", A::kSignedIn, [&s](Call& c) { open_reports(c, s); });
  router.add("open.resolve", A::kSignedIn, [&s, &e](Call& c) { open_resolve(c, s, e); });
  router.add("open.audit", A::kSignedIn, [&s](Call& c) { open_audit(c, s); });
  router.add("open.nickname.get", A::kSignedIn, [&s](Call& c) { open_nickname_get(c, s); });
  router.add("open.nickname.set", A::kSignedIn, [&s](Call& c) { open_nickname_set(c, s); });
}

}  // namespace modu
