// `modu admin`: maintenance on a data directory (users, stats, integrity).
#pragma once

#include <CLI/CLI.hpp>

namespace modu {

// Adds the admin subcommands to `admin`; `exit_code` receives the outcome of the one run.
void add_admin_commands(CLI::App& admin, int& exit_code);

}  // namespace modu
