// Versioned schema migrations of the PostgreSQL store.
#pragma once

#include "storage/postgres/pg_db.h"

namespace modu::pg {

// The schema version this build writes.
int latest_schema_version();

// Brings the database up to `latest_schema_version()`, one migration per transaction,
// recorded in the `schema_version` table. Runs under a session advisory lock, so several
// nodes starting together migrate once. Refuses (StorageError) a database written by a
// newer build. `conn` must not be in pipeline mode.
//
// `shard` is the database's number in the shard map (store.h): recorded the first time,
// refused as any other number later (StorageError). On a fresh shard k > 0 every id sequence
// starts at first_id_of_shard(k).
void migrate(Conn& conn, int shard = 0);

}  // namespace modu::pg
