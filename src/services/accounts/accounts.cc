#include "services/accounts/accounts.h"

namespace modu {

std::optional<std::string> normalize_handle(std::string_view in) {
  if (in.size() < 3 || in.size() > 32) return std::nullopt;
  std::string out;
  out.reserve(in.size());
  for (char c : in) {
    bool ok = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == '.';
    if (!ok) return std::nullopt;
    out.push_back(c);
  }
  return out;
}

Result<UserRecord> create_account(WriteTx& tx, ChatEngine& engine, const std::string& handle,
                                  const std::string& password_hash, const std::string& display_name,
                                  TimeMs now) {
  if (tx.user_by_handle(handle)) return make_error(ErrorCode::kHandleTaken, "that handle is taken");
  Pos pos = tx.next_pos();
  UserRecord user{.handle = handle, .display_name = display_name, .created_at = now, .profile_pos = pos};
  user.id = tx.insert_user(user, password_hash);
  // Every user has a chat with themselves (the memo chat).
  ChatRecord memo{.kind = ChatKind::kMemo, .created_by = user.id, .created_at = now, .last_activity_at = now};
  engine.create(tx, memo, {user.id}, memo_chat_key(user.id), pos);
  return user;
}

}  // namespace modu
