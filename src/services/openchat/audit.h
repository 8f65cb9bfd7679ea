// The moderation audit log of an open chat: every staff action, and the server's own
// (hiding a reported message), in order. Owners and admins read it with `open.audit`.
#pragma once

#include <string_view>

#include "modu/store.h"

namespace modu::openchat {

// Appends an entry; `actor` 0 is the server, `target` 0 is nobody. `detail_json` is an
// object.
void record_audit(WriteTx& tx, ChatId chat, UserId actor, UserId target, std::string_view action,
                  std::string_view detail_json = "{}");

}  // namespace modu::openchat
