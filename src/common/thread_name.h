// Names for the server's threads, so that `top -H`, `perf`, `ps -L` and /proc/PID/task/*/comm
// tell the event loops, the committer and the checkpointer apart (modu-bench reports each
// thread's CPU by these names).
#pragma once

#include <string_view>

namespace modu {

// Names the calling thread. Linux keeps the first 15 bytes; a longer name is cut there.
void name_this_thread(std::string_view name);

}  // namespace modu
