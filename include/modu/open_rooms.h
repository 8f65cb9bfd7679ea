// Storage contract of open chats and communities (services/openchat/).
//
// An open chat is a chat of kind `open` (its messages, members and read pointers are the
// core's) plus a room record: how it is found (code, listing, search words), who may join
// (policy, passcode, application form, conditions, caps) and its moderation state
// (applications, bans, reports, audit log). The store reaches these through
// `ReadView::open_rooms()` and `WriteTx::open_rooms()`, on the same connection and
// transaction as the core, so a join writes the membership and the room in one commit.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "modu/ids.h"
#include "modu/records.h"

namespace modu {

enum class JoinPolicy { kOpen, kPasscode, kApproval };
enum class FieldType { kRealName, kPhone, kCompany, kJobTitle, kText };
enum class ApplicationState { kPending, kApproved, kRejected, kExpired, kCancelled };

struct FormField {
  std::string key;
  std::string label;
  FieldType type = FieldType::kText;
  bool required = false;
};

struct RoomRecord {
  ChatId chat;
  std::string code;  // join code, unique
  std::string description;
  std::vector<std::string> tags;
  std::string cover;
  std::int64_t capacity = 1500;
  bool listed = true;
  JoinPolicy join_policy = JoinPolicy::kOpen;
  std::string passcode_hash;  // empty unless the policy is passcode
  bool history_all = false;   // new members see the whole history
  std::vector<FormField> form;
  bool friend_of_staff = false;
  std::int64_t min_account_age_days = 0;
  std::optional<std::int64_t> community_cap;
  std::int64_t slow_mode_seconds = 0;
  std::int64_t report_threshold = 3;
  std::int64_t application_ttl_seconds = 7 * 24 * 3600;
  std::string notice_text;  // empty: no notice
  std::int64_t notice_by = 0;  // member id of the author
  TimeMs notice_at = 0;
  std::int64_t member_count = 0;
  std::int64_t last_public_id = 0;  // member ids are handed out in order
  TimeMs created_at = 0;
};

// A room with its chat, as listed by search and browse.
struct RoomListing {
  ChatRecord chat;
  RoomRecord room;
};

struct ApplicationRecord {
  std::int64_t id = 0;
  ChatId chat;
  UserId user;
  ApplicationState state = ApplicationState::kPending;
  std::optional<std::string> nickname;  // the room profile to join with; none = real profile
  std::string avatar;
  std::string answers_json;  // {"key": "answer", …}, validated against the form
  std::string reason;
  TimeMs created_at = 0;
  TimeMs expires_at = 0;
  TimeMs decided_at = 0;
  UserId decided_by;
};

struct BanRecord {
  std::int64_t id = 0;
  ChatId chat;
  UserId user;
  UserId by;
  std::string reason;
  TimeMs at = 0;
};

struct ReportRecord {
  std::int64_t id = 0;
  ChatId chat;
  UserId reporter;
  UserId target;
  Seq seq = 0;  // 0: a report about the member, not a message
  std::string reason;
  bool open = true;
  TimeMs created_at = 0;
};

struct AuditRecord {
  std::int64_t id = 0;
  ChatId chat;
  TimeMs at = 0;
  UserId actor;   // 0: the server itself
  UserId target;  // 0: none
  std::string action;
  std::string detail_json;  // an object
};

struct SavedNickname {
  std::string nickname;
  std::string avatar;
};

class OpenRoomsView {
 public:
  virtual ~OpenRoomsView() = default;

  virtual std::optional<RoomRecord> room(ChatId chat) = 0;
  virtual std::optional<RoomRecord> room_by_code(std::string_view code) = 0;
  // Listed rooms whose search text holds every one of `terms` (see the search index in
  // services/openchat/search.h), most members first.
  virtual std::vector<RoomListing> search(const std::vector<std::string>& terms,
                                          std::int64_t limit, std::int64_t offset) = 0;
  virtual std::vector<RoomListing> popular(std::int64_t limit, std::int64_t offset) = 0;

  // A member of the chat (active or not) by their room-scoped id.
  virtual std::optional<MemberRecord> member_by_public_id(ChatId chat, std::int64_t public_id) = 0;
  // Active memberships of `user` in approval rooms (communities).
  virtual std::int64_t community_count(UserId user) = 0;

  virtual std::optional<ApplicationRecord> application(std::int64_t id) = 0;
  virtual std::optional<ApplicationRecord> pending_application(ChatId chat, UserId user) = 0;
  // Oldest first.
  virtual std::vector<ApplicationRecord> applications(ChatId chat, ApplicationState state,
                                                      std::int64_t limit) = 0;
  // Newest first.
  virtual std::vector<ApplicationRecord> applications_of(UserId user, std::int64_t limit) = 0;

  virtual std::optional<BanRecord> ban(ChatId chat, UserId user) = 0;
  virtual std::optional<BanRecord> ban_by_id(std::int64_t id) = 0;
  virtual std::vector<BanRecord> bans(ChatId chat) = 0;

  virtual std::optional<ReportRecord> report(std::int64_t id) = 0;
  // The id of `reporter`'s report on that message (seq > 0) or member (seq == 0), if any.
  virtual std::optional<std::int64_t> report_by(ChatId chat, UserId reporter, UserId target, Seq seq) = 0;
  // Distinct members with an open report on the message.
  virtual std::int64_t open_reporters(ChatId chat, Seq seq) = 0;
  // Newest first.
  virtual std::vector<ReportRecord> reports(ChatId chat, bool open, std::int64_t limit) = 0;
  // Reports against `user` in every room, open or resolved.
  virtual std::int64_t reports_against(UserId user) = 0;

  // Newest first, with id < before.
  virtual std::vector<AuditRecord> audit(ChatId chat, std::int64_t before, std::int64_t limit) = 0;

  virtual std::optional<SavedNickname> saved_nickname(UserId user) = 0;

  // When `user` last sent a message in a room with slow mode, if recorded.
  virtual std::optional<TimeMs> last_send(ChatId chat, UserId user) = 0;
};

class OpenRoomsTx : public OpenRoomsView {
 public:
  // `search_text` is the room's text as the search index wants it (search.h).
  virtual void insert_room(const RoomRecord& room, std::string_view search_text) = 0;
  virtual void update_room(const RoomRecord& room, std::string_view search_text) = 0;
  virtual void set_member_count(ChatId chat, std::int64_t count) = 0;
  // Hands out the room's next member id (1, 2, …).
  virtual std::int64_t next_public_id(ChatId chat) = 0;

  virtual std::int64_t insert_application(const ApplicationRecord& application) = 0;
  virtual void update_application(const ApplicationRecord& application) = 0;

  virtual std::int64_t insert_ban(const BanRecord& ban) = 0;
  virtual void delete_ban(std::int64_t id) = 0;

  virtual std::int64_t insert_report(const ReportRecord& report) = 0;
  // Resolves the open reports on one message (seq > 0) or one member (seq == 0).
  virtual void resolve_reports(ChatId chat, UserId target, Seq seq) = 0;

  virtual std::int64_t insert_audit(const AuditRecord& entry) = 0;

  virtual void set_saved_nickname(UserId user, const SavedNickname& nickname) = 0;

  virtual void set_last_send(ChatId chat, UserId user, TimeMs at) = 0;
};

std::string_view join_policy_name(JoinPolicy policy);
std::optional<JoinPolicy> parse_join_policy(std::string_view name);
std::string_view field_type_name(FieldType type);
std::optional<FieldType> parse_field_type(std::string_view name);
std::string_view application_state_name(ApplicationState state);
std::optional<ApplicationState> parse_application_state(std::string_view name);

}  // namespace modu
