// Column lists and row readers shared by the PostgreSQL store's core and open chat parts.
#pragma once

#include "modu/records.h"
#include "storage/postgres/pg_db.h"

namespace modu::pg {

#define MODU_PG_USER_COLS "id, handle, display_name, status_message, avatar, created_at, profile_pos"
#define MODU_PG_CHAT_COLS \
  "c.id, c.kind, c.title, c.created_by, c.created_at, c.last_seq, c.last_activity_at, c.wide"
#define MODU_PG_MEMBER_COLS                                                                 \
  "m.chat_id, m.user_id, m.role, m.joined_seq, m.read_seq, m.active, m.pos, m.public_id, " \
  "m.nickname, m.room_avatar, m.permissions, m.joined_at"

inline constexpr int kChatCols = 8;    // columns of MODU_PG_CHAT_COLS
inline constexpr int kMemberCols = 12;  // columns of MODU_PG_MEMBER_COLS

inline UserRecord read_user(const Rows& r, int c = 0) {
  UserRecord u;
  u.id = UserId(r.int64(c));
  u.handle = r.text(c + 1);
  u.display_name = r.text(c + 2);
  u.status_message = r.text(c + 3);
  u.avatar = r.text(c + 4);
  u.created_at = r.int64(c + 5);
  u.profile_pos = r.int64(c + 6);
  return u;
}

inline ChatRecord read_chat(const Rows& r, int c = 0) {
  ChatRecord chat;
  chat.id = ChatId(r.int64(c));
  chat.kind = parse_chat_kind(r.text(c + 1)).value_or(ChatKind::kGroup);
  chat.title = r.text(c + 2);
  chat.created_by = UserId(r.int64(c + 3));
  chat.created_at = r.int64(c + 4);
  chat.last_seq = r.int64(c + 5);
  chat.last_activity_at = r.int64(c + 6);
  chat.wide = r.int64(c + 7) != 0;
  return chat;
}

inline MemberRecord read_member(const Rows& r, int c = 0) {
  MemberRecord m;
  m.chat = ChatId(r.int64(c));
  m.user = UserId(r.int64(c + 1));
  m.role = parse_member_role(r.text(c + 2)).value_or(MemberRole::kMember);
  m.joined_seq = r.int64(c + 3);
  m.read_seq = r.int64(c + 4);
  m.active = r.boolean(c + 5);
  m.pos = r.int64(c + 6);
  m.public_id = r.int64(c + 7);
  if (!r.is_null(c + 8)) m.nickname = r.text(c + 8);
  m.room_avatar = r.text(c + 9);
  m.permissions = static_cast<std::uint32_t>(r.int64(c + 10));
  m.joined_at = r.int64(c + 11);
  return m;
}

}  // namespace modu::pg
