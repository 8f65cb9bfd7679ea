// The embedded store's part of open chats (include/modu/open_rooms.h), on a connection
// owned by a read view or the write transaction.
#pragma once

#include <memory>

#include "modu/open_rooms.h"
#include "storage/sqlite/sqlite_db.h"

namespace modu::sqlite {

// Reads and writes over `db`, which must outlive the result. Writes are only valid on the
// committer's connection, inside its transaction.
std::unique_ptr<OpenRoomsTx> make_open_rooms(Db& db);

}  // namespace modu::sqlite
