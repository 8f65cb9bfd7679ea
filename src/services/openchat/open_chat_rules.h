// What open chats add to the core chat rules (ChatKindRules), and who may do what.
//
// Ranks: the owner outranks admins (부방장), who outrank members. Staff (owner and admins)
// act only on members of lower rank; an admin acts only within the permissions the owner
// granted. Every check runs inside the write job that acts, against committed state.
#pragma once

#include "services/chat/chat_engine.h"

namespace modu::openchat {

// Whether `m` holds `permission` (the owner holds all).
bool may(const MemberRecord& m, std::uint32_t permission);
bool is_staff(const MemberRecord& m);
// Whether `actor` outranks `target` (owner > admin > member).
bool outranks(const MemberRecord& actor, const MemberRecord& target);

// Slow mode (each member's last send is stored, so it holds across restarts and nodes),
// staff deleting messages, and the room's member count, as core chat rules for the `open`
// kind.
ChatKindRules open_chat_rules();

}  // namespace modu::openchat
