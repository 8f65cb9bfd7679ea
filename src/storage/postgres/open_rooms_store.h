// The PostgreSQL store's part of open chats (include/modu/open_rooms.h), on a connection
// owned by a read view or the write transaction.
#pragma once

#include <memory>

#include "modu/open_rooms.h"
#include "storage/postgres/pg_db.h"

namespace modu::pg {

// Reads and writes over `db`, which must outlive the result. Writes are only valid on the
// committer's connection, inside its transaction.
std::unique_ptr<OpenRoomsTx> make_open_rooms(Conn& db);

}  // namespace modu::pg
