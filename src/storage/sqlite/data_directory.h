// The files of the embedded store's data directory: the database `modu.db` (with SQLite's
// `modu.db-wal` and `modu.db-shm` beside it while it is open) and `modu.lock`
// (storage/sqlite/directory_lock.h).
#pragma once

#include <filesystem>
#include <string>

namespace modu::sqlite {

inline std::filesystem::path database_file(const std::string& directory) {
  return std::filesystem::path(directory) / "modu.db";
}

}  // namespace modu::sqlite
