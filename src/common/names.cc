// Wire and storage names of the domain enums. These strings are part of the protocol and
// of the on-disk format: never rename one, only add.
#include <array>
#include <string_view>

#include "modu/error.h"
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
};
constexpr std::array<std::string_view, 4> kDeviceKinds = {"phone", "tablet", "pc", "web"};
constexpr std::array<std::string_view, 3> kChatKinds = {"direct", "group", "memo"};
constexpr std::array<std::string_view, 3> kRoles = {"owner", "admin", "member"};
constexpr std::array<std::string_view, 2> kMessageKinds = {"text", "system"};

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

}  // namespace modu
