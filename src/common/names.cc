// Wire and storage names of the domain enums. These strings are part of the protocol and
// of the on-disk format: never rename one, only add.
#include <array>
#include <string_view>

#include "modu/error.h"
#include "modu/open_rooms.h"
#include "modu/records.h"

namespace modu {
namespace {

template <class E, std::size_t N>
std::optional<E> find_name(const std::array<std::string_view, N>& names, std::string_view name) {
  for (std::size_t i = 0; i < N; ++i)
    if (names[i] == name) return static_cast<E>(i);
  return std::nullopt;
}

constexpr std::array<std::string_view, kErrorCodeCount> kErrorNames = {
    "bad_json",          "bad_request",        "unknown_op",       "unauthenticated",
    "already_authenticated", "invalid_credentials", "session_revoked", "handle_taken",
    "invalid_handle",    "weak_password",      "user_not_found",   "chat_not_found",
    "message_not_found", "forbidden",          "duplicate_client_id", "delete_window_expired",
    "too_large",         "rate_limited",       "invalid_state",    "unavailable",
    "internal",
    "room_not_found",    "banned",             "room_full",        "wrong_passcode",
    "conditions_not_met", "membership_cap",    "application_not_found", "application_expired",
    "slow_mode",         "member_not_found",
};
constexpr std::array<std::string_view, 4> kDeviceKinds = {"phone", "tablet", "pc", "web"};
constexpr std::array<std::string_view, 4> kChatKinds = {"direct", "group", "memo", "open"};
constexpr std::array<std::string_view, 3> kRoles = {"owner", "admin", "member"};
constexpr std::array<std::string_view, 2> kMessageKinds = {"text", "system"};
constexpr std::array<std::string_view, 3> kJoinPolicies = {"open", "passcode", "approval"};
constexpr std::array<std::string_view, 5> kFieldTypes = {"real_name", "phone", "company", "job_title", "text"};
constexpr std::array<std::string_view, 5> kApplicationStates = {"pending", "approved", "rejected",
                                                                 "expired", "cancelled"};

}  // namespace

std::string_view error_code_name(ErrorCode code) {
  auto i = static_cast<std::size_t>(code);
  return i < kErrorNames.size() ? kErrorNames[i] : "internal";
}

std::string_view device_kind_name(DeviceKind kind) { return kDeviceKinds[static_cast<std::size_t>(kind)]; }
std::optional<DeviceKind> parse_device_kind(std::string_view name) {
  return find_name<DeviceKind>(kDeviceKinds, name);
}
std::string_view chat_kind_name(ChatKind kind) { return kChatKinds[static_cast<std::size_t>(kind)]; }
std::optional<ChatKind> parse_chat_kind(std::string_view name) {
  return find_name<ChatKind>(kChatKinds, name);
}
std::string_view member_role_name(MemberRole role) { return kRoles[static_cast<std::size_t>(role)]; }
std::optional<MemberRole> parse_member_role(std::string_view name) {
  return find_name<MemberRole>(kRoles, name);
}
std::string_view message_kind_name(MessageKind kind) {
  return kMessageKinds[static_cast<std::size_t>(kind)];
}
std::optional<MessageKind> parse_message_kind(std::string_view name) {
  return find_name<MessageKind>(kMessageKinds, name);
}

std::string_view join_policy_name(JoinPolicy p) { return kJoinPolicies[static_cast<std::size_t>(p)]; }
std::optional<JoinPolicy> parse_join_policy(std::string_view name) {
  return find_name<JoinPolicy>(kJoinPolicies, name);
}
std::string_view field_type_name(FieldType t) { return kFieldTypes[static_cast<std::size_t>(t)]; }
std::optional<FieldType> parse_field_type(std::string_view name) {
  return find_name<FieldType>(kFieldTypes, name);
}
std::string_view application_state_name(ApplicationState s) {
  return kApplicationStates[static_cast<std::size_t>(s)];
}
std::optional<ApplicationState> parse_application_state(std::string_view name) {
  return find_name<ApplicationState>(kApplicationStates, name);
}

}  // namespace modu
