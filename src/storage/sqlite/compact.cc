// compact_sqlite_store (modu/store.h): VACUUM INTO a new file beside the database, under the
// data directory's lock, then the new file renamed over the old one.
#include <fcntl.h>
#include <sqlite3.h>
#include <unistd.h>

#include <cerrno>
#include <filesystem>
#include <system_error>

#include "modu/store.h"
#include "storage/sqlite/data_directory.h"
#include "storage/sqlite/directory_lock.h"
#include "storage/sqlite/schema.h"
#include "storage/sqlite/sqlite_db.h"

namespace modu {
namespace {

namespace fs = std::filesystem;

std::int64_t pragma_number(sqlite::Db& db, const char* sql) {
  auto s = db.prepare(sql);
  return s.step() ? s.int64(0) : 0;
}

// Syncs a file or a directory to the disk; throws with the path on failure.
void sync_path(const fs::path& path, bool directory) {
  int fd = ::open(path.c_str(), (directory ? O_RDONLY | O_DIRECTORY : O_RDWR) | O_CLOEXEC);
  if (fd < 0 || ::fsync(fd) != 0) {
    int error = errno;
    if (fd >= 0) ::close(fd);
    throw std::system_error(error, std::generic_category(), "syncing " + path.string());
  }
  ::close(fd);
}

// Watches the new file grow while VACUUM INTO runs on the same thread: SQLite calls this
// every kStepsPerCheck virtual-machine steps of the copy.
struct CopyWatch {
  static constexpr int kStepsPerCheck = 10'000;
  const fs::path* file;
  std::int64_t expected;
  const std::function<void(std::int64_t, std::int64_t)>* copied;
  std::int64_t last_told = 0;

  static int check(void* self) {
    auto& w = *static_cast<CopyWatch*>(self);
    std::error_code ec;
    auto size = static_cast<std::int64_t>(fs::file_size(*w.file, ec));
    if (!ec && size > w.last_told) {
      w.last_told = size;
      (*w.copied)(size, w.expected);
    }
    return 0;  // go on
  }
};

}  // namespace

Result<CompactReport> compact_sqlite_store(const std::string& directory, const CompactProgress& progress) {
  const fs::path path = sqlite::database_file(directory);
  const fs::path copy = fs::path(path).concat(".new");
  const fs::path wal = fs::path(path).concat("-wal");
  if (!fs::exists(path)) return sqlite::no_database_error(directory);
  auto lock = sqlite::DirectoryLock::take(directory);
  if (!lock.ok()) return lock.take_error();
  try {
    CompactReport report;
    std::int64_t page = 0;
    {
      sqlite::Db db(path.string(), false);
      db.exec("PRAGMA journal_mode = WAL; PRAGMA synchronous = FULL");
      sqlite::migrate(db);
      // Everything into the database file, and the WAL emptied: the copy is made from the
      // file, and a WAL left beside the new file would be played into it.
      db.exec("PRAGMA wal_checkpoint(TRUNCATE)");
      page = pragma_number(db, "PRAGMA page_size");
      report.bytes_before = pragma_number(db, "PRAGMA page_count") * page;
      report.free_bytes_before = pragma_number(db, "PRAGMA freelist_count") * page;
      report.bytes_after = report.bytes_before;
      if (report.free_bytes_before == 0) return report;

      fs::remove(copy);  // left by an interrupted run; the lock says no one else writes it
      if (progress.starting) progress.starting(report);
      // The copy's page cache is the connection's: a small one makes the file grow steadily
      // (and so shows progress) at no cost to a copy that reads and writes each page once.
      db.exec("PRAGMA cache_size = -2048");
      CopyWatch watch{&copy, report.bytes_before - report.free_bytes_before, &progress.copied};
      if (progress.copied) sqlite3_progress_handler(db.raw(), CopyWatch::kStepsPerCheck, &CopyWatch::check, &watch);
      auto vacuum = db.prepare("VACUUM INTO ?");
      vacuum.bind(1, std::string_view(copy.native()));
      vacuum.run();
      sqlite3_progress_handler(db.raw(), 0, nullptr, nullptr);
    }  // the last connection closed: SQLite removes the empty WAL and its index
    sync_path(copy, false);
    std::error_code ec;
    if (fs::exists(wal) && fs::file_size(wal, ec) > 0) {
      fs::remove(copy);
      return make_error(ErrorCode::kInvalidState,
                        "the database's WAL was written to during the copy; nothing was changed");
    }
    fs::rename(copy, path);
    sync_path(fs::path(directory), true);

    sqlite::Db db(path.string(), false);
    db.exec("PRAGMA journal_mode = WAL");  // a VACUUM INTO copy starts in rollback mode
    report.bytes_after = pragma_number(db, "PRAGMA page_count") * page;
    return report;
  } catch (const std::exception& e) {
    std::error_code ignored;
    fs::remove(copy, ignored);  // the database itself is untouched until the rename
    return make_error(ErrorCode::kUnavailable, e.what());
  }
}

}  // namespace modu
