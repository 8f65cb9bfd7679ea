// The files of the embedded store's data directory: the database `modu.db` (with SQLite's
// `modu.db-wal` and `modu.db-shm` beside it while it is open) and `modu.lock`
// (storage/sqlite/directory_lock.h).
#pragma once

#include <filesystem>
#include <string>

#include "modu/error.h"

namespace modu::sqlite {

inline std::filesystem::path database_file(const std::string& directory) {
  return std::filesystem::path(directory) / "modu.db";
}

// What opening or compacting a directory without a database fails with (kInvalidState):
// a mistyped path, say, which a command that only reads must not turn into a new store.
inline Error no_database_error(const std::string& directory) {
  return make_error(ErrorCode::kInvalidState, "there is no Modu database in " + directory);
}

}  // namespace modu::sqlite
