// Versioned schema migrations of the embedded store.
#pragma once

#include "storage/sqlite/sqlite_db.h"

namespace modu::sqlite {

// The schema version this build writes.
int latest_schema_version();

// Brings the database up to `latest_schema_version()`, one migration per transaction.
// Refuses (StorageError) a database written by a newer build.
void migrate(Db& db);

}  // namespace modu::sqlite
