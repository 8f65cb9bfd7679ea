#include "services/openchat/room_view.h"

#include <array>
#include <utility>

namespace modu {
namespace {

constexpr std::array<std::pair<std::string_view, std::uint32_t>, 6> kPermissionNames = {{
    {"approve", kPermApprove}, {"kick", kPermKick}, {"ban", kPermBan},
    {"delete", kPermDelete}, {"notice", kPermNotice}, {"edit", kPermEdit},
}};

}  // namespace

void write_permissions(JsonWriter& w, std::uint32_t permissions) {
  w.begin_array();
  for (auto [name, bit] : kPermissionNames)
    if (permissions & bit) w.value(name);
  w.end_array();
}

std::optional<std::uint32_t> parse_permission(std::string_view name) {
  for (auto [n, bit] : kPermissionNames)
    if (n == name) return bit;
  return std::nullopt;
}

void write_room(JsonWriter& w, const ChatRecord& chat, const RoomRecord& r) {
  w.begin_object()
      .field("chat_id", chat.id.value)
      .field("code", r.code)
      .field("title", chat.title)
      .field("description", r.description)
      .key("tags").begin_array();
  for (const auto& t : r.tags) w.value(t);
  w.end_array()
      .field("cover", r.cover)
      .field("capacity", r.capacity)
      .field("member_count", r.member_count)
      .field("listed", r.listed)
      .field("join_policy", join_policy_name(r.join_policy))
      .field("history", r.history_all ? "all" : "from_join")
      .key("form").begin_array();
  for (const auto& f : r.form)
    w.begin_object()
        .field("key", f.key)
        .field("label", f.label)
        .field("type", field_type_name(f.type))
        .field("required", f.required)
        .end_object();
  w.end_array()
      .key("conditions").begin_object()
      .field("friend_of_staff", r.friend_of_staff)
      .field("min_account_age_days", r.min_account_age_days)
      .end_object()
      .key("community_cap");
  if (r.community_cap) w.value(*r.community_cap); else w.null();
  w.field("slow_mode_seconds", r.slow_mode_seconds)
      .field("report_threshold", r.report_threshold)
      .field("application_ttl_seconds", r.application_ttl_seconds)
      .key("notice");
  if (r.notice_text.empty()) {
    w.null();
  } else {
    w.begin_object()
        .field("text", r.notice_text)
        .field("by", r.notice_by)
        .field("at", r.notice_at)
        .end_object();
  }
  w.field("created_at", r.created_at)
      .field("last_activity_at", chat.last_activity_at)
      .end_object();
}

}  // namespace modu
