#include "services/openchat/open_chat_rules.h"

#include <fmt/format.h>


#include "services/openchat/audit.h"

namespace modu::openchat {

bool may(const MemberRecord& m, std::uint32_t permission) {
  return m.role == MemberRole::kOwner || (m.role == MemberRole::kAdmin && (m.permissions & permission) != 0);
}

bool is_staff(const MemberRecord& m) { return m.role == MemberRole::kOwner || m.role == MemberRole::kAdmin; }

namespace {
int rank(const MemberRecord& m) {
  switch (m.role) {
    case MemberRole::kOwner: return 2;
    case MemberRole::kAdmin: return 1;
    default: return 0;
  }
}
}  // namespace

bool outranks(const MemberRecord& actor, const MemberRecord& target) { return rank(actor) > rank(target); }

ChatKindRules open_chat_rules() {
  ChatKindRules rules;
  rules.check_send = [](WriteTx& tx, const ChatRecord& chat, const MemberRecord& sender,
                        TimeMs now) -> std::optional<Error> {
    if (is_staff(sender)) return std::nullopt;
    auto room = tx.open_rooms().room(chat.id);
    if (!room || room->slow_mode_seconds <= 0) return std::nullopt;
    auto last = tx.open_rooms().last_send(chat.id, sender.user);
    if (!last) return std::nullopt;
    TimeMs wait = *last + room->slow_mode_seconds * 1000 - now;
    if (wait <= 0) return std::nullopt;
    return make_error(ErrorCode::kSlowMode,
                      fmt::format("slow mode: wait {} more seconds", (wait + 999) / 1000));
  };
  rules.sent = [](WriteTx& tx, const ChatRecord& chat, const MemberRecord& sender, TimeMs now) {
    // Only rooms with slow mode pay for the row (check_send read the room just before).
    if (is_staff(sender)) return;
    auto room = tx.open_rooms().room(chat.id);
    if (room && room->slow_mode_seconds > 0) tx.open_rooms().set_last_send(chat.id, sender.user, now);
  };
  rules.moderates_messages = [](const MemberRecord& m) { return may(m, kPermDelete); };
  rules.moderator_deleted = [](WriteTx& tx, const ChatRecord& chat, const MemberRecord& by,
                               const MessageRecord& m) {
    record_audit(tx, chat.id, by.user, m.sender, "delete_message", fmt::format(R"({{"seq":{}}})", m.seq));
  };
  rules.members_changed = [](WriteTx& tx, const ChatState& chat) {
    tx.open_rooms().set_member_count(chat.chat.id, static_cast<std::int64_t>(chat.members.size()));
  };
  return rules;
}

}  // namespace modu::openchat
