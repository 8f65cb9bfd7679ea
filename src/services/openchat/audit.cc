#include "services/openchat/audit.h"

#include <string>

#include "services/router.h"

namespace modu::openchat {

void record_audit(WriteTx& tx, ChatId chat, UserId actor, UserId target, std::string_view action,
                  std::string_view detail_json) {
  tx.open_rooms().insert_audit(AuditRecord{.chat = chat, .at = now_ms(), .actor = actor, .target = target,
                                           .action = std::string(action),
                                           .detail_json = std::string(detail_json)});
}

}  // namespace modu::openchat
