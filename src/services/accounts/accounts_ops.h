// The accounts feature: auth.* and devices.* operations.
#pragma once

#include "services/chat/chat_engine.h"
#include "services/router.h"

namespace modu {

void register_account_ops(Router& router, Services& services, ChatEngine& engine);

}  // namespace modu
