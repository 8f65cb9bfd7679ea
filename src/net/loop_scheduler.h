// Running the embedded store's commits on an event loop (SqliteOptions::commit_scheduler).
#pragma once

#include <boost/asio/io_context.hpp>

#include "modu/store.h"

namespace modu {

// A scheduler that runs each task on `io`'s thread at its time: at once (behind the
// handlers already queued there) when the time has come, else on a timer. `io` must outlive
// every task given to it.
CommitScheduler schedule_on_loop(boost::asio::io_context& io);

}  // namespace modu
