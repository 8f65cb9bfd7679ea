// The write-gathering VFS (storage/sqlite/write_gather_vfs.h): a commit's frames reach the
// WAL in one write, a checkpoint's adjacent pages reach the database file together, other
// connections see every commit at once, and what a big transaction spills and rewrites
// before its commit reads back intact.
#include "storage/sqlite/write_gather_vfs.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <string>

#include "storage/sqlite/sqlite_db.h"
#include "test_support.h"

namespace modu::sqlite {
namespace {

using modu::test::TempDir;

class WriteGatherTest : public ::testing::Test {
 protected:
  void SetUp() override {
    path_ = (dir_.path() / "t.db").string();
    writer_ = std::make_unique<Db>(path_, false, write_gather_vfs());
    writer_->exec("PRAGMA journal_mode = WAL; PRAGMA synchronous = FULL; "
                  "CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT NOT NULL)");
    reader_ = std::make_unique<Db>(path_, true);
  }

  TempDir dir_;
  std::string path_;
  std::unique_ptr<Db> writer_;
  std::unique_ptr<Db> reader_;
};

TEST_F(WriteGatherTest, ACommitOfManyPagesReachesTheWalInOneWrite) {
  writer_->exec("INSERT INTO t(v) VALUES ('first')");  // the WAL's header is written once
  std::uint64_t before = gathered_writes_passed_on();
  writer_->exec("BEGIN");
  for (int i = 0; i < 150; ++i)
    writer_->prepare("INSERT INTO t(v) VALUES (?)").bind(1, std::string(500, 'a' + i % 26)).run();
  writer_->exec("COMMIT");
  // 150 rows of 500 bytes fill about 20 pages, under the 31 frames one write may carry:
  // without gathering, 50 writes or more.
  EXPECT_EQ(gathered_writes_passed_on() - before, 1u);
  EXPECT_EQ(test::first_number(*reader_, "SELECT count(*) FROM t"), 151);
}

TEST_F(WriteGatherTest, AnotherConnectionSeesEveryCommitAtOnce) {
  for (int i = 1; i <= 50; ++i) {
    writer_->prepare("INSERT INTO t(v) VALUES (?)").bind(1, std::string(3000, 'x')).run();
    ASSERT_EQ(test::first_number(*reader_, "SELECT count(*) FROM t"), i);
    ASSERT_EQ(test::first_number(*reader_, "SELECT sum(length(v)) FROM t"), 3000 * i);
  }
}

// A transaction bigger than the writer's page cache spills pages into the WAL before its
// commit, then rewrites some of them and reads others back: every such access must see
// what was gathered. Its frames are passed on in parts of at most 31 frames.
TEST_F(WriteGatherTest, ATransactionThatSpillsAndRewritesFramesReadsBackIntact) {
  writer_->exec("PRAGMA cache_size = 10");
  writer_->exec("BEGIN");
  for (int i = 0; i < 3000; ++i)
    writer_->prepare("INSERT INTO t(v) VALUES (?)").bind(1, std::string(700, 'b')).run();
  writer_->exec("UPDATE t SET v = 'short' || id WHERE id % 3 = 0");
  EXPECT_EQ(test::first_number(*writer_, "SELECT count(*) FROM t WHERE v LIKE 'short%'"), 1000);
  writer_->exec("COMMIT");
  EXPECT_EQ(test::first_number(*reader_, "SELECT count(*) FROM t"), 3000);
  EXPECT_EQ(test::first_number(*reader_, "SELECT sum(length(v)) FROM t WHERE v NOT LIKE 'short%'"), 2000 * 700);

  writer_.reset();  // closing checkpoints the WAL into the database file
  reader_.reset();
  Db fresh(path_, true);
  auto check = fresh.prepare("PRAGMA integrity_check");
  ASSERT_TRUE(check.step());
  EXPECT_EQ(check.text(0), "ok");
  EXPECT_EQ(test::first_number(fresh, "SELECT count(*) FROM t WHERE v = 'short' || id"), 1000);
}

// A checkpoint copies pages into the database file in page order. Rows inserted in one go
// fill pages that follow each other, so most of the copy goes in writes of 31 pages. Other
// connections, through the default VFS, read those pages intact from the database file.
TEST_F(WriteGatherTest, ACheckpointPassesAdjacentPagesOnTogether) {
  writer_->exec("PRAGMA wal_autocheckpoint = 0; BEGIN");
  for (int i = 0; i < 2000; ++i)
    writer_->prepare("INSERT INTO t(v) VALUES (?)").bind(1, std::string(500, 'a' + i % 26)).run();
  writer_->exec("COMMIT");
  const std::int64_t pages = test::first_number(*writer_, "PRAGMA page_count");
  ASSERT_GT(pages, 250);

  Db checkpointer(path_, false, write_gather_vfs());
  checkpointer.exec("PRAGMA synchronous = FULL");
  std::uint64_t before = gathered_writes_passed_on();
  auto checkpoint = checkpointer.prepare("PRAGMA wal_checkpoint(PASSIVE)");
  ASSERT_TRUE(checkpoint.step());
  ASSERT_EQ(checkpoint.int64(0), 0);                   // not busy
  ASSERT_EQ(checkpoint.int64(1), checkpoint.int64(2));  // every frame copied
  // The copy went through this VFS, in one write per run of up to 31 adjacent pages rather
  // than one per page.
  std::uint64_t writes = gathered_writes_passed_on() - before;
  EXPECT_GE(writes, static_cast<std::uint64_t>(pages / 31));
  EXPECT_LE(writes, static_cast<std::uint64_t>(pages / 20));

  // Once the WAL is emptied, every page comes from the database file.
  checkpointer.exec("PRAGMA wal_checkpoint(TRUNCATE)");
  reader_.reset();
  Db fresh(path_, true);
  EXPECT_EQ(std::filesystem::file_size(path_ + "-wal"), 0u);
  auto check = fresh.prepare("PRAGMA integrity_check");
  ASSERT_TRUE(check.step());
  EXPECT_EQ(check.text(0), "ok");
  EXPECT_EQ(test::first_number(fresh, "SELECT count(*) FROM t"), 2000);
  EXPECT_EQ(test::first_number(fresh, "SELECT count(*) FROM t "
                              "WHERE v = printf('%.*c', 500, char(97 + (id - 1) % 26))"),
            2000);
}

TEST_F(WriteGatherTest, ARollbackJournalDatabaseCommitsAndRollsBackIntact) {
  // In rollback-journal mode the commit writes the database file itself; another
  // connection reads it only after this one unlocks, when everything has been passed on.
  const std::string path = (dir_.path() / "rollback.db").string();
  Db plain(path, false, write_gather_vfs());
  plain.exec("PRAGMA journal_mode = DELETE; PRAGMA synchronous = FULL; CREATE TABLE k (x TEXT)");
  Db other(path, true);
  plain.exec("BEGIN");
  for (int i = 0; i < 500; ++i)
    plain.prepare("INSERT INTO k VALUES (?)").bind(1, std::string(300, 'k')).run();
  plain.exec("COMMIT");
  EXPECT_EQ(test::first_number(other, "SELECT count(*) FROM k"), 500);
  plain.exec("BEGIN; DELETE FROM k; INSERT INTO k VALUES ('only'); ROLLBACK");
  EXPECT_EQ(test::first_number(other, "SELECT count(*) FROM k"), 500);
  EXPECT_EQ(test::first_number(plain, "SELECT sum(length(x)) FROM k"), 500 * 300);
  auto check = other.prepare("PRAGMA integrity_check");
  ASSERT_TRUE(check.step());
  EXPECT_EQ(check.text(0), "ok");
}

}  // namespace
}  // namespace modu::sqlite
