// `modu serve`: wires the parts together and runs until SIGINT/SIGTERM.
#pragma once

#include "app/config.h"

namespace modu {

// Returns the process exit code.
int run_serve(ServeConfig config);

}  // namespace modu
