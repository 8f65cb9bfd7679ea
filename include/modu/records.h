// Plain records exchanged between the services and the storage layer.
//
// These are the domain's nouns as stored; they carry no behaviour and no storage
// details. Strings are UTF-8.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "modu/ids.h"

namespace modu {

struct UserRecord {
  UserId id;
  std::string handle;
  std::string display_name;
  std::string status_message;
  std::string avatar;
  TimeMs created_at = 0;
  Pos profile_pos = 0;  // position of the last profile change
};

// Credentials are kept apart from the profile so they never travel with it by accident.
struct UserCredentials {
  UserId id;
  std::string password_hash;  // argon2id, libsodium string format
};

enum class DeviceKind { kPhone, kTablet, kPc, kWeb };

struct DeviceRecord {
  DeviceId id;
  UserId user;
  DeviceKind kind = DeviceKind::kWeb;
  std::string name;
  TimeMs created_at = 0;
  TimeMs last_seen_at = 0;
  bool revoked = false;
};

// A session token's device and the user it belongs to, read together.
struct SessionRecord {
  DeviceRecord device;
  UserRecord user;
};

// The kinds share one model. Later features add kinds (open, team, channel); storage
// stores the kind as text so adding one needs no migration.
enum class ChatKind { kDirect, kGroup, kMemo, kOpen };

enum class MemberRole { kOwner, kAdmin, kMember };

// What a chat's admins may do (a bit set; the owner may do everything). Used by open chats.
enum Permission : std::uint32_t {
  kPermApprove = 1u << 0,  // decide join applications
  kPermKick = 1u << 1,
  kPermBan = 1u << 2,
  kPermDelete = 1u << 3,   // delete anyone's message
  kPermNotice = 1u << 4,   // pin the notice
  kPermEdit = 1u << 5,     // edit the room's info and settings
};
inline constexpr std::uint32_t kAllPermissions = (1u << 6) - 1;

struct ChatRecord {
  ChatId id;
  ChatKind kind = ChatKind::kGroup;
  std::string title;
  UserId created_by;
  TimeMs created_at = 0;
  Seq last_seq = 0;
  TimeMs last_activity_at = 0;
  // A wide chat (a big one) records its changes on the chat row only, not on every
  // membership: see WriteTx::set_chat_wide.
  bool wide = false;
};

struct MemberRecord {
  ChatId chat;
  UserId user;
  MemberRole role = MemberRole::kMember;
  Seq joined_seq = 0;  // chat's last seq when this member (re)joined
  Seq read_seq = 0;
  bool active = true;  // false once the member left
  Pos pos = 0;         // last change of this chat visible to this member
  // Who this member is to the other members. 0: their account (user id and profile).
  // Open chats set a room-scoped number, so the account stays private.
  std::int64_t public_id = 0;
  // The room profile shown instead of the account's profile, when `nickname` is set.
  std::optional<std::string> nickname;
  std::string room_avatar;
  std::uint32_t permissions = 0;  // Permission bits of an admin
  TimeMs joined_at = 0;

  std::int64_t shown_id() const { return public_id != 0 ? public_id : user.value; }
};

// A member's read pointer, as WriteTx::touch_members_and_reads writes it.
struct MemberReadSeq {
  UserId user;
  Seq read_seq = 0;
};

enum class MessageKind { kText, kSystem };

struct MessageRecord {
  ChatId chat;
  Seq seq = 0;
  std::string client_id;
  UserId sender;
  MessageKind kind = MessageKind::kText;
  std::string text;
  Seq reply_to = 0;  // 0 = not a reply
  TimeMs created_at = 0;
  bool deleted = false;
  bool hidden = false;  // withheld pending moderation (reported in an open chat)
  // The position of the change that stored it, so sync can hand a device what it missed
  // (ReadView::messages_since). 0 for messages stored before positions were kept (schema v4).
  Pos pos = 0;
};

// A message whose visibility changed (deleted, hidden or shown again) after some position.
struct ModeratedMessage {
  Seq seq = 0;
  bool deleted = false;
  bool hidden = false;
  Pos pos = 0;  // of the message's latest visibility change
};

// One entry of a user's chat list: the chat plus the user's membership in it.
struct ChatListEntry {
  ChatRecord chat;
  MemberRecord me;
};

struct FriendChange {
  UserRecord profile;
  bool removed = false;
};

struct StoreStats {
  std::int64_t users = 0;
  std::int64_t devices = 0;
  std::int64_t chats = 0;
  std::int64_t messages = 0;
  std::int64_t bytes_on_disk = 0;
};

std::string_view device_kind_name(DeviceKind kind);
std::optional<DeviceKind> parse_device_kind(std::string_view name);
std::string_view chat_kind_name(ChatKind kind);
std::optional<ChatKind> parse_chat_kind(std::string_view name);
std::string_view member_role_name(MemberRole role);
std::optional<MemberRole> parse_member_role(std::string_view name);
std::string_view message_kind_name(MessageKind kind);
std::optional<MessageKind> parse_message_kind(std::string_view name);

}  // namespace modu
