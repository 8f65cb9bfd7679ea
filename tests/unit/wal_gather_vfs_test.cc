// The WAL-gathering VFS (storage/sqlite/wal_gather_vfs.h): a commit's frames reach the file
// in one write, other connections see every commit at once, and what a big transaction
// spills and rewrites before its commit reads back intact.
#include "storage/sqlite/wal_gather_vfs.h"

#include <gtest/gtest.h>

#include <string>

#include "storage/sqlite/sqlite_db.h"
#include "test_support.h"

namespace modu::sqlite {
namespace {

using modu::test::TempDir;

std::int64_t count_rows(Db& db, const char* sql) {
  auto s = db.prepare(sql);
  EXPECT_TRUE(s.step());
  return s.int64(0);
}

class WalGatherTest : public ::testing::Test {
 protected:
  void SetUp() override {
    path_ = (dir_.path() / "t.db").string();
    writer_ = std::make_unique<Db>(path_, false, wal_gather_vfs());
    writer_->exec("PRAGMA journal_mode = WAL; PRAGMA synchronous = FULL; "
                  "CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT NOT NULL)");
    reader_ = std::make_unique<Db>(path_, true);
  }

  TempDir dir_;
  std::string path_;
  std::unique_ptr<Db> writer_;
  std::unique_ptr<Db> reader_;
};

TEST_F(WalGatherTest, ACommitOfManyPagesReachesTheWalInOneWrite) {
  writer_->exec("INSERT INTO t(v) VALUES ('first')");  // the WAL's header is written once
  std::uint64_t before = wal_gather_writes();
  writer_->exec("BEGIN");
  for (int i = 0; i < 150; ++i)
    writer_->prepare("INSERT INTO t(v) VALUES (?)").bind(1, std::string(500, 'a' + i % 26)).run();
  writer_->exec("COMMIT");
  // 150 rows of 500 bytes fill about 20 pages, under the 31 frames one write may carry:
  // without gathering, 50 writes or more.
  EXPECT_EQ(wal_gather_writes() - before, 1u);
  EXPECT_EQ(count_rows(*reader_, "SELECT count(*) FROM t"), 151);
}

TEST_F(WalGatherTest, AnotherConnectionSeesEveryCommitAtOnce) {
  for (int i = 1; i <= 50; ++i) {
    writer_->prepare("INSERT INTO t(v) VALUES (?)").bind(1, std::string(3000, 'x')).run();
    ASSERT_EQ(count_rows(*reader_, "SELECT count(*) FROM t"), i);
    ASSERT_EQ(count_rows(*reader_, "SELECT sum(length(v)) FROM t"), 3000 * i);
  }
}

// A transaction bigger than the writer's page cache spills pages into the WAL before its
// commit, then rewrites some of them and reads others back: every such access must see
// what was gathered. Its frames are passed on in parts of at most 31 frames.
TEST_F(WalGatherTest, ATransactionThatSpillsAndRewritesFramesReadsBackIntact) {
  writer_->exec("PRAGMA cache_size = 10");
  writer_->exec("BEGIN");
  for (int i = 0; i < 3000; ++i)
    writer_->prepare("INSERT INTO t(v) VALUES (?)").bind(1, std::string(700, 'b')).run();
  writer_->exec("UPDATE t SET v = 'short' || id WHERE id % 3 = 0");
  EXPECT_EQ(count_rows(*writer_, "SELECT count(*) FROM t WHERE v LIKE 'short%'"), 1000);
  writer_->exec("COMMIT");
  EXPECT_EQ(count_rows(*reader_, "SELECT count(*) FROM t"), 3000);
  EXPECT_EQ(count_rows(*reader_, "SELECT sum(length(v)) FROM t WHERE v NOT LIKE 'short%'"), 2000 * 700);

  writer_.reset();  // closing checkpoints the WAL into the database file
  reader_.reset();
  Db fresh(path_, true);
  auto check = fresh.prepare("PRAGMA integrity_check");
  ASSERT_TRUE(check.step());
  EXPECT_EQ(check.text(0), "ok");
  EXPECT_EQ(count_rows(fresh, "SELECT count(*) FROM t WHERE v = 'short' || id"), 1000);
}

TEST_F(WalGatherTest, OtherFilesAreTheDefaultVfssOwn) {
  // Through the gathering VFS, a database file and its rollback journal behave as usual.
  Db plain((dir_.path() / "rollback.db").string(), false, wal_gather_vfs());
  plain.exec("PRAGMA journal_mode = DELETE; CREATE TABLE k (x); INSERT INTO k VALUES (1), (2)");
  std::uint64_t before = wal_gather_writes();
  plain.exec("BEGIN; INSERT INTO k VALUES (3); ROLLBACK");
  EXPECT_EQ(count_rows(plain, "SELECT count(*) FROM k"), 2);
  EXPECT_EQ(wal_gather_writes(), before);
}

}  // namespace
}  // namespace modu::sqlite
