// compact_sqlite_store (modu/store.h): VACUUM under the data directory's lock.
#include <fmt/format.h>

#include <filesystem>

#include "modu/store.h"
#include "storage/sqlite/directory_lock.h"
#include "storage/sqlite/schema.h"
#include "storage/sqlite/sqlite_db.h"

namespace modu {
namespace {

std::int64_t pragma_number(sqlite::Db& db, const char* sql) {
  auto s = db.prepare(sql);
  return s.step() ? s.int64(0) : 0;
}

}  // namespace

Result<CompactReport> compact_sqlite_store(const std::string& directory,
                                           const std::function<void(const CompactReport&)>& starting) {
  std::string path = (std::filesystem::path(directory) / "modu.db").string();
  if (!std::filesystem::exists(path))
    return make_error(ErrorCode::kInvalidState, fmt::format("there is no Modu database in {}", directory));
  auto lock = sqlite::DirectoryLock::take(directory);
  if (!lock.ok()) return lock.take_error();
  try {
    sqlite::Db db(path, false);
    db.exec("PRAGMA journal_mode = WAL; PRAGMA synchronous = FULL");
    sqlite::migrate(db);
    std::int64_t page = pragma_number(db, "PRAGMA page_size");
    CompactReport report;
    report.bytes_before = pragma_number(db, "PRAGMA page_count") * page;
    report.free_bytes_before = pragma_number(db, "PRAGMA freelist_count") * page;
    if (report.free_bytes_before > 0) {
      if (starting) starting(report);
      db.exec("VACUUM");
    }
    // Copies the WAL back, which cuts the database file to its new size, and empties the WAL.
    db.exec("PRAGMA wal_checkpoint(TRUNCATE)");
    report.bytes_after = pragma_number(db, "PRAGMA page_count") * page;
    return report;
  } catch (const std::exception& e) {
    return make_error(ErrorCode::kUnavailable, e.what());
  }
}

}  // namespace modu
