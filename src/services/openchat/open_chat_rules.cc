#include "services/openchat/open_chat_rules.h"

#include <fmt/format.h>

#include <memory>
#include <unordered_map>

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

namespace {

struct SendKey {
  ChatId chat;
  UserId user;
  bool operator==(const SendKey&) const = default;
};
struct SendKeyHash {
  std::size_t operator()(const SendKey& k) const noexcept {
    return std::hash<std::uint64_t>{}(static_cast<std::uint64_t>(k.chat.value) * 1'000'003u +
                                      static_cast<std::uint64_t>(k.user.value));
  }
};
using LastSends = std::unordered_map<SendKey, TimeMs, SendKeyHash>;

}  // namespace

ChatKindRules open_chat_rules() {
  auto last_send = std::make_shared<LastSends>();
  ChatKindRules rules;
  rules.check_send = [last_send](WriteTx& tx, const ChatRecord& chat, const MemberRecord& sender,
                            TimeMs now) -> std::optional<Error> {
    if (is_staff(sender)) return std::nullopt;
    auto room = tx.open_rooms().room(chat.id);
    if (!room || room->slow_mode_seconds <= 0) return std::nullopt;
    auto it = last_send->find(SendKey{chat.id, sender.user});
    if (it == last_send->end()) return std::nullopt;
    TimeMs wait = it->second + room->slow_mode_seconds * 1000 - now;
    if (wait <= 0) return std::nullopt;
    return make_error(ErrorCode::kSlowMode,
                      fmt::format("slow mode: wait {} more seconds", (wait + 999) / 1000));
  };
  rules.sent = [last_send](const ChatRecord& chat, const MemberRecord& sender, TimeMs now) {
    if (last_send->size() > 1'000'000) last_send->clear();  // bounded; forgetting is harmless
    (*last_send)[SendKey{chat.id, sender.user}] = now;
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
