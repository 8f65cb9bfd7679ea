// The social feature: profile.* and friends.* operations.
#pragma once

#include "services/router.h"

namespace modu {

void register_social_ops(Router& router, Services& services);

}  // namespace modu
