// The open chat feature's protocol operations (open.*; docs/protocol.md, "Open chats and
// communities"). Registers the ops and the `open` kind's chat rules with the engine.
#pragma once

#include "services/chat/chat_engine.h"
#include "services/router.h"

namespace modu {

void register_open_chat_ops(Router& router, Services& services, ChatEngine& engine);

}  // namespace modu
