// The chat feature's protocol operations: chats.*, messages.* and sync.
#pragma once

#include "services/chat/chat_engine.h"
#include "services/router.h"

namespace modu {

void register_chat_ops(Router& router, Services& services, ChatEngine& engine);

}  // namespace modu
