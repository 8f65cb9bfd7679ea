// The page cache over SQLite's own (storage/sqlite/page_cache.h): it is what every
// connection uses, B-tree splits do park pages under the locking page's number, and a
// database written through many such splits, with rollbacks among them, stays intact.
#include "storage/sqlite/page_cache.h"

#include <gtest/gtest.h>

#include <random>
#include <string>

#include "storage/sqlite/sqlite_db.h"
#include "test_support.h"

namespace modu::sqlite {
namespace {

using modu::test::TempDir;

std::string integrity(Db& db) {
  auto s = db.prepare("PRAGMA integrity_check");
  EXPECT_TRUE(s.step());
  return s.text(0);
}

TEST(PageCacheTest, SplitsParkPagesAndTheDatabaseStaysIntact) {
  TempDir dir;
  std::string path = (dir.path() / "t.db").string();
  std::uint64_t parked_before = pages_parked();
  {
    Db db(path, false);
    EXPECT_TRUE(page_cache_installed());
    // A small cache, so that pages are also evicted, recycled and read back.
    db.exec("PRAGMA journal_mode = WAL; PRAGMA cache_size = 50; "
            "CREATE TABLE t (id INTEGER PRIMARY KEY, k BLOB NOT NULL, v TEXT NOT NULL); "
            "CREATE UNIQUE INDEX t_by_k ON t(k)");
    std::mt19937_64 random(42);
    auto key = [&random] {
      std::string k(16, '\0');
      for (char& c : k) c = static_cast<char>(random());
      return k;
    };
    std::int64_t kept = 0;
    for (int tx = 0; tx < 40; ++tx) {
      db.exec("BEGIN");
      for (int i = 0; i < 250; ++i) {
        db.prepare("INSERT INTO t(k, v) VALUES (?, ?)").bind_blob(1, key()).bind(2, std::string(40, 'v')).run();
        ++kept;
      }
      // Splits inside a savepoint that is rolled back, then a whole transaction rolled back.
      db.exec("SAVEPOINT s");
      for (int i = 0; i < 100; ++i)
        db.prepare("INSERT INTO t(k, v) VALUES (?, ?)").bind_blob(1, key()).bind(2, std::string(40, 'x')).run();
      db.exec("ROLLBACK TO s; RELEASE s");
      db.exec(tx % 5 == 4 ? "ROLLBACK" : "COMMIT");
      if (tx % 5 == 4) kept -= 250;
    }
    EXPECT_GT(pages_parked(), parked_before) << "no split swapped pages: the test lost its point";
    EXPECT_EQ(test::first_number(db, "SELECT count(*) FROM t"), kept);
    EXPECT_EQ(test::first_number(db, "SELECT count(*) FROM t WHERE v = 'x'"), 0);
    EXPECT_EQ(integrity(db), "ok");
  }
  Db reopened(path, true);
  EXPECT_EQ(test::first_number(reopened, "SELECT count(*) FROM t"), 32 * 250);
  EXPECT_EQ(integrity(reopened), "ok");
}

}  // namespace
}  // namespace modu::sqlite
