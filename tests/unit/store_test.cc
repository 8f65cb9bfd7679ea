// The store contract (include/modu/store.h), checked on both implementations — the embedded
// SQLite store (committing on its own thread, and on an event loop) and the PostgreSQL store,
// each test on a fresh database: group commit and job
// isolation, positions, reopen and migrations, and the reads the services page with. Then
// what only a shared PostgreSQL database does: several stores (nodes) on one database,
// and a lost connection.
#include "modu/store.h"

#include <fmt/format.h>
#include <gtest/gtest.h>
#include <sqlite3.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstring>
#include <fstream>
#include <future>
#include <map>
#include <mutex>
#include <set>
#include <thread>
#include <vector>

#include <boost/asio/post.hpp>

#include "test_support.h"

namespace modu {
namespace {

using test::fulfil;
using test::Gate;
using test::open_store;
using test::run_job;
using test::TempDir;

UserRecord user_named(std::string handle) {
  return UserRecord{.handle = std::move(handle), .display_name = "name", .created_at = 1000};
}

// A job that creates the user `handle` and reports to `result`.
WriteJob creates_user(std::string handle, std::promise<Status>& result) {
  return WriteJob{[handle = std::move(handle)](WriteTx& tx) {
                    tx.insert_user(user_named(handle), "hash");
                    return ok_status();
                  },
                  fulfil(result)};
}

class StoreTest : public ::testing::TestWithParam<test::Backend> {
 protected:
  StoreTest() : db_(GetParam()), store_(db_.open()) {}

  void reopen() {
    store_->stop();
    store_.reset();
    store_ = db_.open();
  }

  // Creates a user in its own job; returns the id.
  UserId add_user(const std::string& handle) {
    UserId id;
    EXPECT_TRUE(run_job(*store_, [&](WriteTx& tx) {
                  id = tx.insert_user(user_named(handle), "hash");
                  return ok_status();
                }).ok());
    return id;
  }

  test::TestDatabase db_;
  std::unique_ptr<Store> store_;
};

INSTANTIATE_TEST_SUITE_P(Backends, StoreTest,
                         ::testing::Values(test::Backend::kSqlite, test::Backend::kSqliteOnLoop,
                                           test::Backend::kPostgres),
                         test::BackendName());

TEST_P(StoreTest, OpensEmptyAndConsistent) {
  ReadView& r = store_->reader();
  EXPECT_EQ(r.current_pos(), 0);
  EXPECT_EQ(r.stats().users, 0);
  EXPECT_EQ(r.stats().messages, 0);
  EXPECT_GT(r.stats().bytes_on_disk, 0);
  EXPECT_TRUE(r.check_integrity().empty());
  EXPECT_EQ(store_->queued(), 0u);
}

TEST_P(StoreTest, JobsAndCallbacksRunInSubmissionOrder) {
  constexpr int kJobs = 200;
  std::vector<int> applied, done;  // touched on the committer thread only
  std::promise<Status> last;
  Gate gate;
  store_->submit(gate.job());
  gate.wait_entered();
  for (int i = 0; i < kJobs; ++i) {
    store_->submit(WriteJob{[&applied, i](WriteTx&) { applied.push_back(i); return ok_status(); },
                            [&done, &last, i](const Status& s) {
                              done.push_back(i);
                              if (i == kJobs - 1) last.set_value(s);
                            }});
  }
  EXPECT_EQ(store_->queued(), static_cast<std::size_t>(kJobs));
  gate.release();
  ASSERT_TRUE(last.get_future().get().ok());
  ASSERT_EQ(applied.size(), static_cast<std::size_t>(kJobs));
  ASSERT_EQ(done.size(), static_cast<std::size_t>(kJobs));
  for (int i = 0; i < kJobs; ++i) {
    EXPECT_EQ(applied[i], i);
    EXPECT_EQ(done[i], i);
  }
  EXPECT_EQ(store_->queued(), 0u);
}

TEST_P(StoreTest, DoneRunsAfterTheCommitIsVisible) {
  std::promise<bool> visible_in_done;
  store_->submit(WriteJob{[](WriteTx& tx) {
                            tx.insert_user(user_named("minji"), "hash");
                            return ok_status();
                          },
                          [this, &visible_in_done](const Status& s) {
                            // A separate connection sees only committed data.
                            visible_in_done.set_value(s.ok() &&
                                                      store_->reader().user_by_handle("minji").has_value());
                          }});
  EXPECT_TRUE(visible_in_done.get_future().get());
  EXPECT_TRUE(store_->reader().user_by_handle("minji"));
}

TEST_P(StoreTest, WritesAreVisibleInsideTheirOwnTransaction) {
  ASSERT_TRUE(run_job(*store_, [](WriteTx& tx) {
                UserId id = tx.insert_user(user_named("jiho"), "hash");
                auto u = tx.user_by_id(id);
                if (!u || u->handle != "jiho") return Status(make_error(ErrorCode::kInternal, "not visible"));
                return ok_status();
              }).ok());
}

TEST_P(StoreTest, FailedJobLeavesNoTraceAndOthersInTheBatchCommit) {
  std::promise<Status> a, b, c;
  Gate gate;
  store_->submit(gate.job());
  gate.wait_entered();
  store_->submit(creates_user("alice", a));
  store_->submit(WriteJob{[](WriteTx& tx) -> Status {
                            UserId id = tx.insert_user(user_named("bob"), "hash");
                            ChatId chat = tx.insert_chat(ChatRecord{.created_by = id}, std::nullopt);
                            tx.upsert_member(MemberRecord{.chat = chat, .user = id});
                            return make_error(ErrorCode::kHandleTaken, "changed my mind");
                          },
                          fulfil(b)});
  store_->submit(creates_user("carol", c));
  gate.release();
  Status sa = a.get_future().get(), sb = b.get_future().get(), sc = c.get_future().get();
  EXPECT_TRUE(sa.ok());
  ASSERT_FALSE(sb.ok());
  EXPECT_EQ(sb.error().code, ErrorCode::kHandleTaken);  // the job's own error, unchanged
  EXPECT_EQ(sb.error().message, "changed my mind");
  EXPECT_TRUE(sc.ok());

  ReadView& r = store_->reader();
  EXPECT_TRUE(r.user_by_handle("alice"));
  EXPECT_FALSE(r.user_by_handle("bob"));
  EXPECT_TRUE(r.user_by_handle("carol"));
  EXPECT_EQ(r.stats().users, 2);
  EXPECT_EQ(r.stats().chats, 0);
  EXPECT_TRUE(r.check_integrity().empty());
}

// A job that returns its error before changing anything needs no savepoint to fail alone.
TEST_P(StoreTest, AJobThatChecksBeforeWritingFailsAloneBeforeItsFirstChange) {
  std::promise<Status> a, b, c;
  Gate gate;
  store_->submit(gate.job());
  gate.wait_entered();
  store_->submit(creates_user("alice", a));
  WriteJob checked{[](WriteTx& tx) -> Status {
                     if (!tx.user_by_handle("nobody"))
                       return make_error(ErrorCode::kUserNotFound, "no such user");
                     tx.insert_user(user_named("bob"), "hash");
                     return ok_status();
                   },
                   fulfil(b)};
  checked.checks_before_writing = true;
  store_->submit(std::move(checked));
  store_->submit(creates_user("carol", c));
  gate.release();
  Status sa = a.get_future().get(), sb = b.get_future().get(), sc = c.get_future().get();
  EXPECT_TRUE(sa.ok());
  ASSERT_FALSE(sb.ok());
  EXPECT_EQ(sb.error().code, ErrorCode::kUserNotFound);
  EXPECT_TRUE(sc.ok());
  ReadView& r = store_->reader();
  EXPECT_TRUE(r.user_by_handle("alice"));
  EXPECT_FALSE(r.user_by_handle("bob"));
  EXPECT_TRUE(r.user_by_handle("carol"));
  EXPECT_TRUE(r.check_integrity().empty());
}

// One that breaks its word still commits nothing half-applied: it ran without a savepoint,
// so the store fails the whole batch.
TEST_P(StoreTest, AJobThatChecksBeforeWritingButFailsAfterAChangeCommitsNoneOfIt) {
  std::atomic<int> aborts{0};
  store_->set_hooks(CommitHooks{.after_abort = [&aborts] { aborts.fetch_add(1); }});
  std::promise<Status> a, b;
  Gate gate;
  store_->submit(gate.job());
  gate.wait_entered();
  store_->submit(creates_user("alice", a));
  WriteJob broken{[](WriteTx& tx) -> Status {
                    tx.insert_user(user_named("bob"), "hash");
                    return make_error(ErrorCode::kHandleTaken, "changed my mind");
                  },
                  fulfil(b)};
  broken.checks_before_writing = true;
  store_->submit(std::move(broken));
  gate.release();
  Status sa = a.get_future().get(), sb = b.get_future().get();
  ASSERT_FALSE(sb.ok());
  EXPECT_FALSE(store_->reader().user_by_handle("bob"));
  EXPECT_EQ(sb.error().code, ErrorCode::kUnavailable);
  ASSERT_FALSE(sa.ok());
  EXPECT_EQ(sa.error().code, ErrorCode::kUnavailable);
  EXPECT_EQ(aborts.load(), 1);
  EXPECT_FALSE(store_->reader().user_by_handle("alice"));
  EXPECT_TRUE(add_user("carol"));  // the store keeps working
  EXPECT_TRUE(store_->reader().check_integrity().empty());
}

TEST_P(StoreTest, ExceptionInAJobFailsTheWholeBatch) {
  std::atomic<int> aborts{0};
  store_->set_hooks(CommitHooks{.after_abort = [&aborts] { aborts.fetch_add(1); }});
  std::promise<Status> a, b;
  Gate gate;
  store_->submit(gate.job());
  gate.wait_entered();
  store_->submit(creates_user("alice", a));
  store_->submit(WriteJob{[](WriteTx&) -> Status { throw StorageError("disk on fire"); }, fulfil(b)});
  gate.release();
  Status sa = a.get_future().get(), sb = b.get_future().get();
  ASSERT_FALSE(sa.ok());
  EXPECT_EQ(sa.error().code, ErrorCode::kUnavailable);
  ASSERT_FALSE(sb.ok());
  EXPECT_EQ(sb.error().code, ErrorCode::kUnavailable);
  EXPECT_EQ(aborts.load(), 1);
  EXPECT_FALSE(store_->reader().user_by_handle("alice"));

  // The store keeps working afterwards.
  EXPECT_TRUE(add_user("alice"));
  EXPECT_TRUE(store_->reader().user_by_handle("alice"));
  EXPECT_TRUE(store_->reader().check_integrity().empty());
}

TEST_P(StoreTest, HooksRunAroundEachBatch) {
  std::atomic<int> before{0};
  std::atomic<std::size_t> jobs_seen{0};
  store_->set_hooks(CommitHooks{
      .before_commit = [&before](WriteTx& tx) {
        // Runs inside the transaction: a write here commits with the batch.
        tx.insert_user(user_named("hook" + std::to_string(before.fetch_add(1))), "h");
      },
      .after_commit = [&jobs_seen](std::size_t jobs, double seconds) {
        EXPECT_GE(seconds, 0.0);
        jobs_seen.fetch_add(jobs);
      }});
  EXPECT_TRUE(add_user("x"));
  EXPECT_EQ(before.load(), 1);
  EXPECT_TRUE(store_->reader().user_by_handle("hook0"));
  store_->stop();  // after_commit runs after done; stop() waits for the committer
  EXPECT_EQ(jobs_seen.load(), 1u);
}

TEST_P(StoreTest, SubmitAfterStopFailsWithUnavailable) {
  store_->stop();
  store_->stop();  // idempotent
  Status s = run_job(*store_, [](WriteTx&) { return ok_status(); });
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.error().code, ErrorCode::kUnavailable);
}

TEST_P(StoreTest, StopFinishesQueuedJobs) {
  std::atomic<int> done{0};
  Gate gate;
  store_->submit(gate.job());
  gate.wait_entered();
  for (int i = 0; i < 20; ++i)
    store_->submit(WriteJob{[i](WriteTx& tx) {
                              tx.insert_user(user_named("u" + std::to_string(i)), "h");
                              return ok_status();
                            },
                            [&done](const Status& s) { done.fetch_add(s.ok() ? 1 : 0); }});
  std::thread releaser([&gate] {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
    gate.release();
  });
  store_->stop();
  releaser.join();
  EXPECT_EQ(done.load(), 20);
  reopen();
  EXPECT_EQ(store_->reader().stats().users, 20);
}

// --- positions ------------------------------------------------------------------------

TEST_P(StoreTest, PositionsGrowAndArePublishedOnCommit) {
  Pos first = 0, last = 0;
  ASSERT_TRUE(run_job(*store_, [&](WriteTx& tx) {
                first = tx.next_pos();
                Pos second = tx.next_pos();
                if (second <= first) return Status(make_error(ErrorCode::kInternal, "not increasing"));
                last = tx.next_pos();
                if (tx.current_pos() != last) return Status(make_error(ErrorCode::kInternal, "current"));
                return ok_status();
              }).ok());
  EXPECT_GT(first, 0);
  EXPECT_EQ(store_->reader().current_pos(), last);

  Pos next = 0;
  ASSERT_TRUE(run_job(*store_, [&](WriteTx& tx) {
                next = tx.next_pos();
                return ok_status();
              }).ok());
  EXPECT_GT(next, last);
  EXPECT_EQ(store_->reader().current_pos(), next);
}

TEST_P(StoreTest, PositionsSurviveReopen) {
  Pos last = 0;
  for (int i = 0; i < 5; ++i)
    ASSERT_TRUE(run_job(*store_, [&](WriteTx& tx) {
                  for (int k = 0; k < 3; ++k) last = tx.next_pos();
                  return ok_status();
                }).ok());
  // A failed job's positions are skipped, never reused.
  Pos failed_pos = 0;
  Status s = run_job(*store_, [&](WriteTx& tx) -> Status {
    failed_pos = tx.next_pos();
    return make_error(ErrorCode::kForbidden, "no");
  });
  ASSERT_FALSE(s.ok());
  EXPECT_GT(failed_pos, last);

  reopen();
  EXPECT_EQ(store_->reader().current_pos(), failed_pos);
  Pos after = 0;
  ASSERT_TRUE(run_job(*store_, [&](WriteTx& tx) {
                after = tx.next_pos();
                return ok_status();
              }).ok());
  EXPECT_GT(after, failed_pos);

  reopen();
  EXPECT_EQ(store_->reader().current_pos(), after);
}

TEST_P(StoreTest, AbortedBatchDoesNotMoveThePublishedPosition) {
  Pos committed = 0, aborted = 0, later = 0;
  ASSERT_TRUE(run_job(*store_, [&](WriteTx& tx) {
                committed = tx.next_pos();
                return ok_status();
              }).ok());
  Status s = run_job(*store_, [&](WriteTx& tx) -> Status {
    aborted = tx.next_pos();
    throw StorageError("boom");
  });
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(store_->reader().current_pos(), committed);
  ASSERT_TRUE(run_job(*store_, [&](WriteTx& tx) {
                later = tx.next_pos();
                return ok_status();
              }).ok());
  EXPECT_GT(later, committed);
  reopen();
  EXPECT_EQ(store_->reader().current_pos(), later);
}

// Schema v5 makes the chats that are already big wide, with their active members; the
// integrity check finds a membership that does not follow its chat's width.
TEST(SqliteStoreTest, MigrationMakesBigChatsWideAndTheCheckFindsStrayMemberships) {
  TempDir dir;
  ChatId big, small;
  UserId left;
  {
    auto store = open_store(dir.path());
    ASSERT_TRUE(run_job(*store, [&](WriteTx& tx) {
                  auto chat_with = [&](int members) {
                    ChatId id = tx.insert_chat(ChatRecord{.kind = ChatKind::kGroup, .title = "t"}, std::nullopt);
                    for (int i = 0; i < members; ++i) {
                      UserId u = tx.insert_user(user_named(fmt::format("u{}-{}", id.value, i)), "hash");
                      tx.upsert_member(MemberRecord{.chat = id, .user = u, .pos = tx.next_pos()});
                      left = u;
                    }
                    return id;
                  };
                  small = chat_with(63);
                  big = chat_with(65);
                  tx.set_member_left(big, left, tx.next_pos());  // 64 active, one left
                  return ok_status();
                }).ok());
    store->stop();
  }
  auto sql = [&](const char* statements) {
    sqlite3* db = nullptr;
    ASSERT_EQ(sqlite3_open((dir.path() / "modu.db").c_str(), &db), SQLITE_OK);
    char* error = nullptr;
    EXPECT_EQ(sqlite3_exec(db, statements, nullptr, nullptr, &error), SQLITE_OK) << (error ? error : "");
    sqlite3_free(error);
    sqlite3_close(db);
  };
  // Back to the schema before v5.
  sql("DROP INDEX members_via_chat; ALTER TABLE members DROP COLUMN via_chat; "
      "ALTER TABLE chats DROP COLUMN wide; PRAGMA user_version = 4;");
  {
    auto store = open_store(dir.path());
    ReadView& r = store->reader();
    EXPECT_TRUE(r.chat(big)->wide);
    EXPECT_FALSE(r.chat(small)->wide);
    EXPECT_TRUE(r.check_integrity().empty());
    store->stop();
  }
  sql("UPDATE members SET via_chat = 1 WHERE user_id = (SELECT min(user_id) FROM members);");
  auto store = open_store(dir.path());
  auto problems = store->reader().check_integrity();
  ASSERT_EQ(problems.size(), 1u);
  EXPECT_NE(problems[0].find("width"), std::string::npos) << problems[0];
}

// Runs `fn` on a connection of its own to the database file of the store in `dir`, as an
// older build (or an operator) would open it.
template <typename Fn>
void with_database_file(const TempDir& dir, Fn&& fn) {
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open((dir.path() / "modu.db").c_str(), &db), SQLITE_OK);
  fn(db);
  sqlite3_close(db);
}

// What `sql` returns from that file: columns joined by '|', each row ended by a newline.
std::string query_database_file(const TempDir& dir, const std::string& sql) {
  std::string out;
  with_database_file(dir, [&](sqlite3* db) {
    sqlite3_stmt* s = nullptr;
    ASSERT_EQ(sqlite3_prepare_v2(db, sql.c_str(), -1, &s, nullptr), SQLITE_OK) << sql;
    while (sqlite3_step(s) == SQLITE_ROW)
      for (int i = 0; i < sqlite3_column_count(s); ++i) {
        const unsigned char* text = sqlite3_column_text(s, i);
        out += text ? reinterpret_cast<const char*>(text) : "NULL";
        out += i + 1 < sqlite3_column_count(s) ? "|" : "\n";
      }
    sqlite3_finalize(s);
  });
  return out;
}

// Schema v6 rebuilds the idempotency index with client_id first: a database from before
// keeps finding its messages by (sender, client id), refuses a second message with the same
// pair, and looks them up through the index, not by a scan.
TEST(SqliteStoreTest, MigrationPutsClientIdFirstInTheIdempotencyIndex) {
  TempDir dir;
  ChatId chat;
  UserId sender, other;
  {
    auto store = open_store(dir.path());
    ASSERT_TRUE(run_job(*store, [&](WriteTx& tx) {
                  chat = tx.insert_chat(ChatRecord{.kind = ChatKind::kGroup, .title = "t"}, std::nullopt);
                  sender = tx.insert_user(user_named("sender"), "hash");
                  other = tx.insert_user(user_named("other"), "hash");
                  tx.insert_message(MessageRecord{.chat = chat, .seq = 1, .client_id = "w-1", .sender = sender, .text = "a"});
                  tx.update_chat_last(chat, 1, 1000, 0);
                  return ok_status();
                }).ok());
    store->stop();
  }
  auto with_db = [&](auto&& fn) { with_database_file(dir, fn); };
  auto first_column = [&] {
    std::string name;
    with_db([&](sqlite3* db) {
      sqlite3_stmt* s = nullptr;
      ASSERT_EQ(sqlite3_prepare_v2(db, "SELECT name FROM pragma_index_info('messages_by_client_id') WHERE seqno = 0",
                                   -1, &s, nullptr), SQLITE_OK);
      if (sqlite3_step(s) == SQLITE_ROW) name = reinterpret_cast<const char*>(sqlite3_column_text(s, 0));
      sqlite3_finalize(s);
    });
    return name;
  };
  EXPECT_EQ(first_column(), "client_id");
  // Back to the schema before v6.
  with_db([](sqlite3* db) {
    EXPECT_EQ(sqlite3_exec(db, "DROP INDEX messages_by_client_id; "
                               "CREATE UNIQUE INDEX messages_by_client_id ON messages(sender_id, client_id); "
                               "PRAGMA user_version = 5;", nullptr, nullptr, nullptr), SQLITE_OK);
  });
  ASSERT_EQ(first_column(), "sender_id");

  auto store = open_store(dir.path());
  EXPECT_EQ(first_column(), "client_id");
  ReadView& r = store->reader();
  ASSERT_TRUE(r.message_by_client_id(sender, "w-1"));
  EXPECT_EQ(r.message_by_client_id(sender, "w-1")->text, "a");
  EXPECT_FALSE(r.message_by_client_id(other, "w-1"));
  EXPECT_TRUE(r.check_integrity().empty());
  Status again = run_job(*store, [&](WriteTx& tx) {
    tx.insert_message(MessageRecord{.chat = chat, .seq = 2, .client_id = "w-1", .sender = sender, .text = "b"});
    return ok_status();
  });
  EXPECT_FALSE(again.ok());
  EXPECT_TRUE(run_job(*store, [&](WriteTx& tx) {
                tx.insert_message(MessageRecord{.chat = chat, .seq = 2, .client_id = "w-1", .sender = other, .text = "c"});
                tx.update_chat_last(chat, 2, 2000, 0);
                return ok_status();
              }).ok());
  store->stop();
  with_db([](sqlite3* db) {
    sqlite3_stmt* s = nullptr;
    ASSERT_EQ(sqlite3_prepare_v2(db, "EXPLAIN QUERY PLAN SELECT text FROM messages WHERE sender_id = 2 AND client_id = 'w-1'",
                                 -1, &s, nullptr), SQLITE_OK);
    std::string plan;
    while (sqlite3_step(s) == SQLITE_ROW) plan += reinterpret_cast<const char*>(sqlite3_column_text(s, 3));
    sqlite3_finalize(s);
    EXPECT_NE(plan.find("messages_by_client_id"), std::string::npos) << plan;
  });
}

// Schema v7 drops the index on chats.pos, which only PostgreSQL reads: a fresh database never
// has it, and one from before loses it on opening while the chat keeps its position.
TEST(SqliteStoreTest, MigrationDropsTheChatPositionIndex) {
  TempDir dir;
  ChatId chat;
  {
    auto store = open_store(dir.path());
    ASSERT_TRUE(run_job(*store, [&](WriteTx& tx) {
                  chat = tx.insert_chat(ChatRecord{.kind = ChatKind::kGroup, .title = "t"}, std::nullopt);
                  tx.update_chat_last(chat, 0, 1000, 7);
                  return ok_status();
                }).ok());
    store->stop();
  }
  auto query = [&](const std::string& sql) { return query_database_file(dir, sql); };
  const std::string kHasIndex = "SELECT count(*) FROM sqlite_schema WHERE type = 'index' AND name = 'chats_by_pos'";
  EXPECT_EQ(query(kHasIndex), "0\n");
  EXPECT_GE(std::stoi(query("PRAGMA user_version")), 7);
  // Back to the schema before v7.
  with_database_file(dir, [](sqlite3* db) {
    EXPECT_EQ(sqlite3_exec(db, "CREATE INDEX chats_by_pos ON chats(pos); PRAGMA user_version = 6;",
                           nullptr, nullptr, nullptr), SQLITE_OK);
  });
  ASSERT_EQ(query(kHasIndex), "1\n");

  auto store = open_store(dir.path());
  store->stop();
  EXPECT_EQ(query(kHasIndex), "0\n");
  EXPECT_GE(std::stoi(query("PRAGMA user_version")), 7);
  EXPECT_EQ(query("SELECT pos FROM chats WHERE id = " + std::to_string(chat.value)), "7\n");
}

// Schema v8 stores messages in a rowid table with a unique (chat_id, seq) index. A database
// from before, whose messages were keyed by chat, keeps every message and every column,
// refuses a second message at a taken seq, finds messages through the new index, and
// appends new ones after the copied ones.
TEST(SqliteStoreTest, MigrationStoresMessagesInArrivalOrder) {
  TempDir dir;
  ChatId first, second;
  UserId sender;
  {
    auto store = open_store(dir.path());
    ASSERT_TRUE(run_job(*store, [&](WriteTx& tx) {
                  first = tx.insert_chat(ChatRecord{.kind = ChatKind::kGroup, .title = "a"}, std::nullopt);
                  second = tx.insert_chat(ChatRecord{.kind = ChatKind::kGroup, .title = "b"}, std::nullopt);
                  sender = tx.insert_user(user_named("sender"), "hash");
                  for (Seq seq = 1; seq <= 3; ++seq)
                    for (ChatId chat : {first, second})
                      tx.insert_message(MessageRecord{.chat = chat, .seq = seq,
                                                      .client_id = fmt::format("c{}-{}", chat.value, seq),
                                                      .sender = sender, .text = fmt::format("t{}", seq),
                                                      .reply_to = seq - 1, .created_at = 1000 + seq, .pos = seq});
                  tx.update_chat_last(first, 3, 1003, 3);
                  tx.update_chat_last(second, 3, 1003, 3);
                  tx.mark_message_deleted(first, 2, 4);
                  tx.set_message_hidden(second, 3, true, 5);
                  return ok_status();
                }).ok());
    store->stop();
  }
  auto query_text = [&](const std::string& sql) { return query_database_file(dir, sql); };
  const std::string kTableSql = "SELECT sql FROM sqlite_schema WHERE type = 'table' AND name = 'messages'";
  const std::string kAll = "SELECT chat_id, seq, sender_id, client_id, kind, text, reply_to, created_at, deleted, "
                           "deleted_pos, hidden, pos FROM messages ORDER BY chat_id, seq";
  EXPECT_EQ(query_text(kTableSql).find("WITHOUT ROWID"), std::string::npos);
  const std::string rows = query_text(kAll);
  ASSERT_EQ(std::count(rows.begin(), rows.end(), '\n'), 6) << rows;

  // Back to the layout before v8: keyed by chat, without a rowid.
  with_database_file(dir, [](sqlite3* db) {
    EXPECT_EQ(sqlite3_exec(db, R"sql(
      CREATE TABLE old (chat_id INTEGER NOT NULL, seq INTEGER NOT NULL, sender_id INTEGER NOT NULL,
        client_id TEXT NOT NULL, kind TEXT NOT NULL, text TEXT NOT NULL,
        reply_to INTEGER NOT NULL DEFAULT 0, created_at INTEGER NOT NULL,
        deleted INTEGER NOT NULL DEFAULT 0, deleted_pos INTEGER NOT NULL DEFAULT 0,
        hidden INTEGER NOT NULL DEFAULT 0, pos INTEGER NOT NULL DEFAULT 0,
        PRIMARY KEY (chat_id, seq)) WITHOUT ROWID;
      INSERT INTO old SELECT chat_id, seq, sender_id, client_id, kind, text, reply_to, created_at,
        deleted, deleted_pos, hidden, pos FROM messages;
      DROP TABLE messages;
      ALTER TABLE old RENAME TO messages;
      CREATE UNIQUE INDEX messages_by_client_id ON messages(client_id, sender_id);
      CREATE INDEX messages_moderated ON messages(chat_id, deleted_pos) WHERE deleted_pos != 0;
      PRAGMA user_version = 7;)sql", nullptr, nullptr, nullptr), SQLITE_OK);
  });
  ASSERT_NE(query_text(kTableSql).find("WITHOUT ROWID"), std::string::npos);
  ASSERT_EQ(query_text(kAll), rows);

  auto store = open_store(dir.path());
  EXPECT_EQ(query_text(kTableSql).find("WITHOUT ROWID"), std::string::npos);
  EXPECT_EQ(query_text(kAll), rows);
  // Copied in chat order: each chat's messages sit together.
  EXPECT_EQ(query_text("SELECT chat_id, seq FROM messages ORDER BY rowid"),
            fmt::format("{0}|1\n{0}|2\n{0}|3\n{1}|1\n{1}|2\n{1}|3\n", first.value, second.value));
  ReadView& r = store->reader();
  EXPECT_TRUE(r.check_integrity().empty());
  auto deleted = r.message(first, 2);
  ASSERT_TRUE(deleted);
  EXPECT_TRUE(deleted->deleted);
  EXPECT_EQ(r.messages_before(second, 10, 10).size(), 3u);
  auto by_client = r.message_by_client_id(sender, fmt::format("c{}-3", second.value));
  ASSERT_TRUE(by_client);
  EXPECT_EQ(by_client->seq, 3);
  EXPECT_EQ(by_client->text, "t3");
  // A taken seq is refused; a new one is appended after the copied rows.
  EXPECT_FALSE(run_job(*store, [&](WriteTx& tx) {
                 tx.insert_message(MessageRecord{.chat = first, .seq = 3, .client_id = "new", .sender = sender, .text = "x"});
                 return ok_status();
               }).ok());
  EXPECT_TRUE(run_job(*store, [&](WriteTx& tx) {
                tx.insert_message(MessageRecord{.chat = first, .seq = 4, .client_id = "new", .sender = sender, .text = "x"});
                tx.update_chat_last(first, 4, 1004, 6);
                return ok_status();
              }).ok());
  store->stop();
  EXPECT_EQ(query_text("SELECT chat_id, seq FROM messages ORDER BY rowid DESC LIMIT 1"),
            fmt::format("{}|4\n", first.value));
}

// Schema v9 keys a chat's messages by seq in `timeline` (and the newest in `timeline_tail`)
// instead of an index on the messages table.
TEST(SqliteStoreTest, MigrationKeysEveryMessageInTheTimeline) {
  TempDir dir;
  ChatId chat;
  {
    auto store = open_store(dir.path());
    ASSERT_TRUE(run_job(*store, [&](WriteTx& tx) {
                  chat = tx.insert_chat(ChatRecord{.kind = ChatKind::kGroup, .title = "a"}, std::nullopt);
                  UserId sender = tx.insert_user(user_named("sender"), "hash");
                  for (Seq seq = 1; seq <= 5; ++seq)
                    tx.insert_message(MessageRecord{.chat = chat, .seq = seq, .client_id = fmt::format("c{}", seq),
                                                    .sender = sender, .text = fmt::format("t{}", seq), .pos = seq});
                  tx.update_chat_last(chat, 5, 1005, 5);
                  return ok_status();
                }).ok());
  }
  auto query = [&](const std::string& sql) { return query_database_file(dir, sql); };
  // Back to v8: an index on messages, no timeline.
  with_database_file(dir, [](sqlite3* db) {
    EXPECT_EQ(sqlite3_exec(db, "DROP TABLE timeline; DROP TABLE timeline_tail; "
                               "CREATE UNIQUE INDEX messages_by_chat ON messages(chat_id, seq); "
                               "PRAGMA user_version = 8;", nullptr, nullptr, nullptr), SQLITE_OK);
  });
  auto store = open_store(dir.path());
  EXPECT_EQ(query("SELECT count(*) FROM sqlite_schema WHERE name = 'messages_by_chat'"), "0\n");
  EXPECT_EQ(query("SELECT group_concat(k.seq || ':' || m.text) FROM timeline k JOIN messages m ON m.rowid = k.msg"),
            "1:t1,2:t2,3:t3,4:t4,5:t5\n");
  EXPECT_EQ(query("SELECT count(*) FROM timeline_tail"), "0\n");
  ReadView& r = store->reader();
  EXPECT_TRUE(r.check_integrity().empty());
  ASSERT_EQ(r.messages_before(chat, 5, 10).size(), 4u);
  EXPECT_EQ(r.messages_before(chat, 5, 10).back().text, "t4");
  EXPECT_EQ(r.message(chat, 3)->text, "t3");
  // A page of history walks the key in order and looks each message up by rowid: no sort.
  const std::string plan = query("EXPLAIN QUERY PLAN SELECT m.text FROM timeline k JOIN messages m "
                                 "ON m.rowid = k.msg WHERE k.chat_id = 1 AND k.seq > 0 AND k.seq < 5 "
                                 "ORDER BY k.seq DESC LIMIT 50");
  EXPECT_NE(plan.find("SEARCH k USING PRIMARY KEY"), std::string::npos) << plan;
  EXPECT_NE(plan.find("SEARCH m USING INTEGER PRIMARY KEY"), std::string::npos) << plan;
  EXPECT_EQ(plan.find("TEMP B-TREE"), std::string::npos) << plan;
}

// New messages are keyed in the tail, and the committer files the tail into the timeline a
// slice per batch. Reads see one gap-free sequence across both tables, and a change to a
// message finds it in either.
TEST(SqliteStoreTest, TheTimelineTailIsFiledAsItGrowsAndReadsSeeBothTables) {
  TempDir dir;
  auto store = open_store(dir.path());
  constexpr int kChats = 7;
  constexpr int kBatches = 24;
  constexpr int kPerChatPerBatch = 60;  // 24 batches of 420: past the tail's 8,192
  std::vector<ChatId> chats;
  UserId sender;
  ASSERT_TRUE(run_job(*store, [&](WriteTx& tx) {
                sender = tx.insert_user(user_named("sender"), "hash");
                for (int c = 0; c < kChats; ++c)
                  chats.push_back(tx.insert_chat(ChatRecord{.kind = ChatKind::kGroup, .title = "c"}, std::nullopt));
                return ok_status();
              }).ok());
  auto tail_rows = [&] { return std::stoll(query_database_file(dir, "SELECT count(*) FROM timeline_tail")); };
  auto filed_rows = [&] { return std::stoll(query_database_file(dir, "SELECT count(*) FROM timeline")); };
  Seq last = 0;
  for (int b = 0; b < kBatches; ++b) {
    ASSERT_TRUE(run_job(*store, [&](WriteTx& tx) {
                  for (int i = 0; i < kPerChatPerBatch; ++i)
                    for (ChatId chat : chats) {
                      Seq seq = last + i + 1;
                      tx.insert_message(MessageRecord{.chat = chat, .seq = seq,
                                                      .client_id = fmt::format("{}-{}", chat.value, seq),
                                                      .sender = sender, .text = fmt::format("{}", seq),
                                                      .pos = tx.next_pos()});
                    }
                  for (ChatId chat : chats) tx.update_chat_last(chat, last + kPerChatPerBatch, 1, tx.next_pos());
                  return ok_status();
                }).ok());
    last += kPerChatPerBatch;
    EXPECT_LE(tail_rows(), 8192) << "after batch " << b;
  }
  const std::int64_t total = static_cast<std::int64_t>(kChats) * last;
  EXPECT_EQ(tail_rows() + filed_rows(), total);
  EXPECT_GT(filed_rows(), 0);
  EXPECT_GT(tail_rows(), 0);

  ReadView& r = store->reader();
  EXPECT_TRUE(r.check_integrity().empty());
  for (ChatId chat : chats) {
    // Walk each chat's whole history backwards in pages, then forwards: every seq once, in order.
    Seq expected = last;
    for (Seq before = last + 1; before > 1;) {
      auto page = r.messages_before(chat, before, 97);
      ASSERT_FALSE(page.empty());
      for (auto it = page.rbegin(); it != page.rend(); ++it) {
        ASSERT_EQ(it->seq, expected);
        ASSERT_EQ(it->text, std::to_string(expected));
        --expected;
      }
      before = page.front().seq;
    }
    EXPECT_EQ(expected, 0);
    Seq next = 1;
    for (Seq after = 0; after < last;) {
      auto page = r.messages_after(chat, after, 89);
      ASSERT_FALSE(page.empty());
      for (const auto& m : page) ASSERT_EQ(m.seq, next++);
      after = page.back().seq;
    }
    EXPECT_EQ(next, last + 1);
  }
  // The newest messages by position, across the two tables.
  auto since = r.messages_since(chats[0], 0, 500);
  ASSERT_EQ(since.size(), 500u);
  EXPECT_EQ(since.front().seq, last - 499);
  EXPECT_EQ(since.back().seq, last);

  // A filed message and a message in the tail, deleted and hidden.
  const std::string oldest_filed = query_database_file(dir, "SELECT chat_id, seq FROM timeline LIMIT 1");
  const std::string newest_tail = query_database_file(
      dir, "SELECT chat_id, seq FROM timeline_tail ORDER BY chat_id DESC, seq DESC LIMIT 1");
  auto key_of = [](const std::string& row) {
    auto bar = row.find('|');
    return std::pair{ChatId(std::stoll(row.substr(0, bar))), Seq(std::stoll(row.substr(bar + 1)))};
  };
  auto [filed_chat, filed_seq] = key_of(oldest_filed);
  auto [tail_chat, tail_seq] = key_of(newest_tail);
  ASSERT_TRUE(run_job(*store, [&](WriteTx& tx) {
                tx.mark_message_deleted(filed_chat, filed_seq, tx.next_pos());
                tx.set_message_hidden(tail_chat, tail_seq, true, tx.next_pos());
                return ok_status();
              }).ok());
  EXPECT_TRUE(r.message(filed_chat, filed_seq)->deleted);
  EXPECT_TRUE(r.message(tail_chat, tail_seq)->hidden);
  EXPECT_FALSE(r.message(filed_chat, filed_seq + 1)->deleted);
  // A seq already taken is refused whichever table keys it, whether or not the batch also
  // moves the chat's last seq on.
  for (bool moves_last : {false, true})
    for (auto [chat, seq] : {std::pair{filed_chat, filed_seq}, std::pair{tail_chat, tail_seq}})
      EXPECT_FALSE(run_job(*store, [&](WriteTx& tx) {
                     tx.insert_message(MessageRecord{.chat = chat, .seq = seq, .client_id = "again", .sender = sender});
                     if (moves_last) tx.update_chat_last(chat, last + 1, 2, tx.next_pos());
                     return ok_status();
                   }).ok());
  EXPECT_EQ(r.chat(filed_chat)->last_seq, last);

  // The check finds a message keyed twice, and one keyed nowhere.
  store.reset();
  with_database_file(dir, [&](sqlite3* db) {
    EXPECT_EQ(sqlite3_exec(db, fmt::format("INSERT INTO timeline_tail SELECT * FROM timeline WHERE chat_id = {} "
                                           "AND seq = {}", filed_chat.value, filed_seq).c_str(),
                           nullptr, nullptr, nullptr), SQLITE_OK);
  });
  EXPECT_FALSE(open_store(dir.path())->reader().check_integrity().empty());
  with_database_file(dir, [&](sqlite3* db) {
    EXPECT_EQ(sqlite3_exec(db, fmt::format("DELETE FROM timeline WHERE chat_id = {} AND seq = {}; "
                                           "DELETE FROM timeline_tail WHERE chat_id = {} AND seq = {}",
                                           filed_chat.value, filed_seq, filed_chat.value, filed_seq).c_str(),
                           nullptr, nullptr, nullptr), SQLITE_OK);
  });
  EXPECT_FALSE(open_store(dir.path())->reader().check_integrity().empty());
}

TEST_P(StoreTest, ReopenKeepsDataAndMigrationsAreIdempotent) {
  UserId id = add_user("minji");
  ASSERT_TRUE(id);
  for (int i = 0; i < 3; ++i) {
    reopen();
    ReadView& r = store_->reader();
    auto u = r.user_by_id(id);
    ASSERT_TRUE(u);
    EXPECT_EQ(u->handle, "minji");
    EXPECT_EQ(r.stats().users, 1);
    EXPECT_TRUE(r.check_integrity().empty());
  }
  EXPECT_TRUE(add_user("jiho"));
}

class StoreVersionTest : public ::testing::TestWithParam<test::Backend> {};
INSTANTIATE_TEST_SUITE_P(Backends, StoreVersionTest,
                         ::testing::Values(test::Backend::kSqlite, test::Backend::kPostgres),
                         test::BackendName());

TEST_P(StoreVersionTest, RefusesADatabaseFromANewerBuild) {
  test::TestDatabase database(GetParam());
  { auto store = database.open(); }
  if (GetParam() == test::Backend::kSqlite) {
    sqlite3* db = nullptr;
    ASSERT_EQ(sqlite3_open((database.dir().path() / "modu.db").c_str(), &db), SQLITE_OK);
    ASSERT_EQ(sqlite3_exec(db, "PRAGMA user_version = 999", nullptr, nullptr, nullptr), SQLITE_OK);
    sqlite3_close(db);
  } else {
    modu_testing::pg_run(database.dsn(), "UPDATE schema_version SET version = 999");
  }
  auto store = GetParam() == test::Backend::kSqlite
                   ? open_sqlite_store(SqliteOptions{.directory = database.dir().str()})
                   : open_postgres_store(PostgresOptions{.dsn = database.dsn()});
  ASSERT_FALSE(store.ok());
  EXPECT_EQ(store.error().code, ErrorCode::kUnavailable);
  EXPECT_NE(store.error().message.find("newer"), std::string::npos) << store.error().message;
}

TEST(StoreOpenTest, CreatesMissingDirectories) {
  TempDir dir;
  auto nested = dir.path() / "a" / "b";
  auto store = open_store(nested);
  EXPECT_TRUE(std::filesystem::exists(nested / "modu.db"));
}

TEST(StoreOpenTest, FailsOnAnUnusableDirectory) {
  TempDir dir;
  dir.write("file", "not a directory");
  auto store = open_sqlite_store(SqliteOptions{.directory = (dir.path() / "file").string()});
  EXPECT_FALSE(store.ok());
}

// The WAL's index, as the -shm file holds it (sqlite.org/walformat.html, native byte order):
// the last frame of the WAL (mxFrame, byte 16) and how many frames a checkpoint has copied
// back into the database (nBackfill, byte 96).
struct WalIndex {
  std::uint32_t frames = 0;
  std::uint32_t copied = 0;
};

WalIndex read_wal_index(const std::filesystem::path& shm) {
  std::ifstream in(shm, std::ios::binary);
  char header[100] = {};
  in.read(header, sizeof header);
  EXPECT_EQ(in.gcount(), std::streamsize{sizeof header}) << shm;
  WalIndex index;
  std::memcpy(&index.frames, header + 16, sizeof index.frames);
  std::memcpy(&index.copied, header + 96, sizeof index.copied);
  return index;
}

void expect_the_idle_writer_copies_the_wal_back(Store& store, const TempDir& dir) {
  for (int i = 0; i < 5; ++i)
    ASSERT_TRUE(run_job(store, [&](WriteTx& tx) {
                  tx.insert_user(user_named("idle" + std::to_string(i)), "hash");
                  return ok_status();
                }).ok());
  // Far fewer frames than a checkpoint waits for while writes keep coming.
  WalIndex index = read_wal_index(dir.path() / "modu.db-shm");
  ASSERT_GT(index.frames, 0u);
  ASSERT_LT(index.frames, 1000u);
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
  while (index.copied != index.frames && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
    index = read_wal_index(dir.path() / "modu.db-shm");
  }
  EXPECT_EQ(index.copied, index.frames) << "frames left in the WAL after the writer went idle";
  EXPECT_GT(index.frames, 0u);
}

// Compaction gives the free pages back to the disk and keeps every row; it waits for no
// store, but refuses to run beside one.
TEST(SqliteStoreTest, CompactGivesBackFreePagesAndKeepsEveryRow) {
  TempDir dir;
  {
    auto store = open_store(dir.path());
    for (int i = 0; i < 50; ++i)
      ASSERT_TRUE(run_job(*store, [i](WriteTx& tx) {
                    tx.insert_user(user_named("user" + std::to_string(i)), "hash");
                    return ok_status();
                  }).ok());
    auto refused = compact_sqlite_store(dir.str(), {});
    ASSERT_FALSE(refused.ok());
    EXPECT_EQ(refused.error().code, ErrorCode::kUnavailable);
  }
  // Two MiB of rows, deleted again: their pages stay in the file as free pages.
  with_database_file(dir, [](sqlite3* db) {
    ASSERT_EQ(sqlite3_exec(db, "CREATE TABLE scratch (b BLOB); "
                               "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 64) "
                               "INSERT INTO scratch SELECT zeroblob(32768) FROM n; DROP TABLE scratch",
                           nullptr, nullptr, nullptr),
              SQLITE_OK);
  });
  auto file_size = [&] { return std::filesystem::file_size(dir.path() / "modu.db"); };
  std::optional<CompactReport> told;
  auto report = compact_sqlite_store(dir.str(), {.starting = [&told](const CompactReport& r) { told = r; }});
  ASSERT_TRUE(report.ok()) << report.error().message;
  ASSERT_TRUE(told);
  EXPECT_EQ(told->bytes_before, report->bytes_before);
  EXPECT_GE(report->free_bytes_before, 2 << 20);
  EXPECT_LE(report->bytes_after, report->bytes_before - report->free_bytes_before);
  EXPECT_EQ(file_size(), static_cast<std::uintmax_t>(report->bytes_after));
  EXPECT_EQ(query_database_file(dir, "PRAGMA freelist_count"), "0\n");

  auto again =
      compact_sqlite_store(dir.str(), {.starting = [](const CompactReport&) { ADD_FAILURE() << "nothing to do"; }});
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(again->free_bytes_before, 0);
  EXPECT_EQ(again->bytes_after, report->bytes_after);

  auto store = open_store(dir.path());
  EXPECT_EQ(store->reader().stats().users, 50);
  EXPECT_TRUE(store->reader().user_by_handle("user49"));
  EXPECT_TRUE(store->reader().check_integrity().empty());

  TempDir empty;
  auto nothing = compact_sqlite_store(empty.str(), {});
  ASSERT_FALSE(nothing.ok());
  EXPECT_EQ(nothing.error().code, ErrorCode::kInvalidState);
}

// A device catching up asks for the messages after the last it has, which are mostly still
// in the tail; a commit that files them into the timeline between the reader's look at the
// one table and at the other would hide some. One snapshot covers both.
TEST(SqliteStoreTest, AReaderRacingTheFilingOfTheTailMissesNoMessage) {
  TempDir dir;
  auto store = open_store(SqliteOptions{.directory = dir.str(), .synchronous_full = false,
                                        .commit_interval = std::chrono::microseconds(0),
                                        .recent_messages_bytes = 0, .timeline_tail_rows = 1});
  ChatId chat;
  UserId sender;
  ASSERT_TRUE(run_job(*store, [&](WriteTx& tx) {
                sender = tx.insert_user(user_named("sender"), "hash");
                chat = tx.insert_chat(ChatRecord{.kind = ChatKind::kGroup, .title = "c"}, std::nullopt);
                return ok_status();
              }).ok());
  constexpr Seq kMessages = 3000;
  std::atomic<bool> writing{true};
  std::thread writer([&] {
    for (Seq seq = 1; seq <= kMessages; ++seq)
      EXPECT_TRUE(run_job(*store, [&](WriteTx& tx) {
                    tx.insert_message(MessageRecord{.chat = chat, .seq = seq, .client_id = fmt::format("m{}", seq),
                                                    .sender = sender, .pos = tx.next_pos()});
                    tx.update_chat_last(chat, seq, 1, tx.current_pos());
                    return ok_status();
                  }).ok());
    writing = false;
  });
  ReadView& r = store->reader();
  Seq seen = 0;
  int gaps = 0;
  while (seen < kMessages) {
    for (const MessageRecord& m : r.messages_after(chat, seen, 1000)) {
      if (m.seq != seen + 1) ++gaps;
      seen = m.seq;
    }
    if (!writing && r.messages_after(chat, seen, 1).empty()) break;
  }
  writer.join();
  EXPECT_EQ(gaps, 0);
  EXPECT_EQ(seen, kMessages);
}

// The copy is written beside the database and shows its progress as it grows; a copy an
// interrupted run left behind is thrown away, and only a whole copy replaces the file.
TEST(SqliteStoreTest, CompactShowsItsProgressAndReplacesTheFileWithAWholeCopy) {
  TempDir dir;
  {
    auto store = open_store(dir.path());
    ASSERT_TRUE(run_job(*store, [](WriteTx& tx) {
                  tx.insert_user(user_named("kept"), "hash");
                  return ok_status();
                }).ok());
  }
  // 12 MiB of small rows to keep, as messages are, and 4 MiB of free pages.
  with_database_file(dir, [](sqlite3* db) {
    ASSERT_EQ(sqlite3_exec(db, "CREATE TABLE bulk (i INTEGER, b BLOB); "
                               "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 100000) "
                               "INSERT INTO bulk SELECT i, randomblob(120) FROM n; "
                               "CREATE TABLE scratch AS SELECT randomblob(4 << 20); DROP TABLE scratch",
                           nullptr, nullptr, nullptr),
              SQLITE_OK);
  });
  const std::string bulk_fingerprint = query_database_file(dir, "SELECT count(*), sum(length(b)), "
                                                            "sum(unicode(substr(b, i % 120 + 1, 1))) FROM bulk");
  std::ofstream(dir.path() / "modu.db.new") << "half a copy from an interrupted run";

  std::vector<std::pair<std::int64_t, std::int64_t>> told;
  auto report = compact_sqlite_store(dir.str(), {.copied = [&told](std::int64_t written, std::int64_t expected) {
                                                   told.emplace_back(written, expected);
                                                 }});
  ASSERT_TRUE(report.ok()) << report.error().message;
  const std::int64_t kept = report->bytes_before - report->free_bytes_before;
  EXPECT_GE(report->free_bytes_before, 4 << 20);
  ASSERT_GE(told.size(), 3u) << "the copy of 12 MiB should be seen growing";
  for (std::size_t i = 0; i < told.size(); ++i) {
    EXPECT_EQ(told[i].second, kept);
    EXPECT_LE(told[i].first, kept);
    if (i > 0) {
      EXPECT_GT(told[i].first, told[i - 1].first);
    }
  }
  EXPECT_GE(told.back().first, kept / 2);
  EXPECT_FALSE(std::filesystem::exists(dir.path() / "modu.db.new"));
  EXPECT_EQ(static_cast<std::int64_t>(std::filesystem::file_size(dir.path() / "modu.db")), report->bytes_after);
  EXPECT_LE(report->bytes_after, kept);
  EXPECT_EQ(query_database_file(dir, "PRAGMA journal_mode"), "wal\n");
  EXPECT_EQ(query_database_file(dir, "PRAGMA freelist_count"), "0\n");
  EXPECT_EQ(query_database_file(dir, "SELECT count(*), sum(length(b)), sum(unicode(substr(b, i % 120 + 1, 1))) FROM bulk"),
            bulk_fingerprint);

  auto store = open_store(dir.path());
  EXPECT_TRUE(store->reader().user_by_handle("kept"));
  EXPECT_TRUE(store->reader().check_integrity().empty());
}

TEST(SqliteStoreTest, AnIdleWriterCopiesTheWholeWalBack) {
  for (bool on_loop : {false, true}) {
    SCOPED_TRACE(on_loop ? "commits on an event loop" : "commits on the committer thread");
    TempDir dir;
    test::TestLoop loop;
    auto store = open_store(SqliteOptions{
        .directory = dir.str(), .commit_scheduler = on_loop ? schedule_on_loop(loop.io()) : CommitScheduler()});
    expect_the_idle_writer_copies_the_wal_back(*store, dir);
  }
}

// Under writes that never pause, a background checkpoint never reaches the WAL's end. The
// committer then copies the short tail itself and the WAL starts over from its beginning
// (at 16,000 frames), rather than growing; nothing written is lost on the way.
TEST(SqliteStoreTest, UnderSteadyWritesTheWalStartsOverAndStaysBounded) {
  TempDir dir;
  auto store = open_store(SqliteOptions{.directory = dir.str()});  // syncs, as in production
  ChatId chat;
  UserId sender;
  ASSERT_TRUE(run_job(*store, [&](WriteTx& tx) {
                chat = tx.insert_chat(ChatRecord{.kind = ChatKind::kGroup, .title = "wal"}, std::nullopt);
                sender = tx.insert_user(user_named("writer"), "hash");
                return ok_status();
              }).ok());
  const std::string text(1500, 'w');  // about two messages a page
  constexpr int kPerJob = 100;
  Seq seq = 0;
  std::uint32_t most = 0, before = 0;
  int rewinds = 0;
  for (int job = 0; job < 1500 && rewinds < 2; ++job) {
    ASSERT_TRUE(run_job(*store, [&](WriteTx& tx) {
                  for (int i = 0; i < kPerJob; ++i) {
                    ++seq;
                    tx.insert_message(MessageRecord{.chat = chat, .seq = seq, .client_id = fmt::format("c{}", seq),
                                                    .sender = sender, .text = text});
                  }
                  tx.update_chat_last(chat, seq, seq, 0);
                  return ok_status();
                }).ok());
    WalIndex index = read_wal_index(dir.path() / "modu.db-shm");
    most = std::max(most, index.frames);
    if (index.frames < before) ++rewinds;
    before = index.frames;
  }
  EXPECT_EQ(rewinds, 2) << "the WAL never started over; it reached " << most << " frames";
  EXPECT_GE(most, 16000u);
  EXPECT_LE(most, 2 * 16000u + 200) << "the WAL outgrew its bound";
  ReadView& r = store->reader();
  for (Seq s : {Seq{1}, seq / 2, seq}) {
    auto m = r.message(chat, s);
    ASSERT_TRUE(m) << "message " << s << " of " << seq;
    EXPECT_EQ(m->client_id, fmt::format("c{}", s));
    EXPECT_EQ(m->text.size(), text.size());
  }
  EXPECT_TRUE(r.check_integrity().empty());
}

// Group commit by time (SqliteOptions::commit_interval): writes that come within the
// interval after a commit started share the next commit; after a quiet spell, a write is
// committed at once. Both hold whether the committer thread or an event loop commits
// (SqliteOptions::commit_scheduler), and jobs run on that loop's thread.
std::unique_ptr<Store> open_paced(const TempDir& dir, std::chrono::milliseconds interval,
                                  test::TestLoop* loop) {
  return open_store(SqliteOptions{.directory = dir.path().string(),
                                  .synchronous_full = false,
                                  .commit_interval = interval,
                                  .commit_scheduler = loop ? schedule_on_loop(loop->io()) : CommitScheduler()});
}

Status nothing(WriteTx&) { return ok_status(); }

TEST(SqliteStoreTest, WritesWithinTheCommitIntervalShareOneCommit) {
  for (bool on_loop : {false, true}) {
    SCOPED_TRACE(on_loop ? "commits on an event loop" : "commits on the committer thread");
    TempDir dir;
    test::TestLoop loop;
    std::promise<std::thread::id> loop_thread;
    boost::asio::post(loop.io(), [&] { loop_thread.set_value(std::this_thread::get_id()); });
    auto store = open_paced(dir, std::chrono::milliseconds(300), on_loop ? &loop : nullptr);
    std::mutex mu;
    std::vector<std::size_t> batches;
    std::set<std::thread::id> threads;
    store->set_hooks(CommitHooks{.after_commit = [&](std::size_t jobs, double) {
      std::lock_guard lock(mu);
      batches.push_back(jobs);
      threads.insert(std::this_thread::get_id());
    }});
    ASSERT_TRUE(run_job(*store, nothing).ok());  // its commit starts the interval
    auto after_first = std::chrono::steady_clock::now();
    std::promise<Status> second, third;
    store->submit(WriteJob{nothing, fulfil(second)});
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
    store->submit(WriteJob{nothing, fulfil(third)});
    EXPECT_TRUE(second.get_future().get().ok());
    EXPECT_TRUE(third.get_future().get().ok());
    auto waited = std::chrono::steady_clock::now() - after_first;
    store->stop();  // after_commit runs after done; stop() waits for the committer
    std::lock_guard lock(mu);
    EXPECT_EQ(batches, (std::vector<std::size_t>{1, 2}));
    EXPECT_GE(waited, std::chrono::milliseconds(100)) << "the second commit did not wait for the interval";
    ASSERT_EQ(threads.size(), 1u);
    EXPECT_NE(*threads.begin(), std::this_thread::get_id());
    EXPECT_EQ(*threads.begin() == loop_thread.get_future().get(), on_loop);
  }
}

TEST(SqliteStoreTest, AWriteAfterAQuietSpellIsCommittedAtOnce) {
  for (bool on_loop : {false, true}) {
    SCOPED_TRACE(on_loop ? "commits on an event loop" : "commits on the committer thread");
    TempDir dir;
    test::TestLoop loop;
    auto store = open_paced(dir, std::chrono::milliseconds(300), on_loop ? &loop : nullptr);
    ASSERT_TRUE(run_job(*store, nothing).ok());
    std::this_thread::sleep_for(std::chrono::milliseconds(400));
    auto submitted = std::chrono::steady_clock::now();
    ASSERT_TRUE(run_job(*store, nothing).ok());
    EXPECT_LT(std::chrono::steady_clock::now() - submitted, std::chrono::milliseconds(200));
  }
}

// Commits on an event loop (SqliteOptions::commit_scheduler): stop() finishes queued jobs
// itself; a task that comes after the store is gone does nothing.
TEST(SqliteStoreOnLoopTest, StopFinishesQueuedJobsAndLaterTasksFindNoStore) {
  TempDir dir;
  test::TestLoop loop;
  auto store = open_store(SqliteOptions{.directory = dir.str(),
                                        .synchronous_full = false,
                                        .commit_scheduler = schedule_on_loop(loop.io())});
  // Hold the loop, so that the commit tasks the jobs ask for wait behind this.
  std::promise<void> release;
  std::promise<void> held;
  boost::asio::post(loop.io(), [&] {
    held.set_value();
    release.get_future().wait();
  });
  held.get_future().wait();
  constexpr int kJobs = 5;
  std::vector<std::promise<Status>> outcomes(kJobs);
  std::vector<int> applied;
  for (int i = 0; i < kJobs; ++i)
    store->submit(WriteJob{[&applied, i](WriteTx& tx) {
                             applied.push_back(i);
                             tx.insert_user(user_named(fmt::format("user{}", i)), "hash");
                             return ok_status();
                           },
                           fulfil(outcomes[i])});
  EXPECT_EQ(store->queued(), static_cast<std::size_t>(kJobs));
  store->stop();  // the loop is held: stop() runs the queued jobs on this thread
  for (auto& outcome : outcomes) EXPECT_TRUE(outcome.get_future().get().ok());
  EXPECT_EQ(applied, (std::vector<int>{0, 1, 2, 3, 4}));
  EXPECT_EQ(store->reader().stats().users, kJobs);
  std::promise<Status> late;
  store->submit(WriteJob{nothing, fulfil(late)});
  EXPECT_EQ(late.get_future().get().error().code, ErrorCode::kUnavailable);
  store.reset();
  // The commit task asked for by the first job now runs, after the store is gone.
  std::promise<void> drained;
  release.set_value();
  boost::asio::post(loop.io(), [&] { drained.set_value(); });
  EXPECT_EQ(drained.get_future().wait_for(std::chrono::seconds(5)), std::future_status::ready);
  auto reopened = open_store(SqliteOptions{.directory = dir.str(), .synchronous_full = false});
  EXPECT_EQ(reopened->reader().stats().users, kJobs);
}

// --- reads ----------------------------------------------------------------------------

// A user with a handful of chats, each with a known activity time and membership position.
class StoreReadsTest : public StoreTest {
 protected:
  struct Fixture {
    UserId me, other;
    std::vector<ChatId> chats;  // by creation
  };

  // Creates chats for `me` with these last-activity times; chat i gets member pos = i + 1
  // offset from the current position (in creation order).
  Fixture make_chats(const std::vector<TimeMs>& activity) {
    Fixture f;
    f.me = add_user("me");
    f.other = add_user("other");
    EXPECT_TRUE(run_job(*store_, [&](WriteTx& tx) {
                  for (TimeMs t : activity) {
                    Pos pos = tx.next_pos();
                    ChatId id = tx.insert_chat(ChatRecord{.kind = ChatKind::kGroup, .title = "t",
                                                          .created_by = f.me, .created_at = t,
                                                          .last_activity_at = t},
                                               std::nullopt);
                    tx.upsert_member(MemberRecord{.chat = id, .user = f.me, .role = MemberRole::kOwner, .pos = pos});
                    tx.upsert_member(MemberRecord{.chat = id, .user = f.other, .pos = pos});
                    f.chats.push_back(id);
                  }
                  return ok_status();
                }).ok());
    return f;
  }

  static std::vector<ChatId> ids(const std::vector<ChatListEntry>& list) {
    std::vector<ChatId> out;
    for (const auto& e : list) out.push_back(e.chat.id);
    return out;
  }
};

INSTANTIATE_TEST_SUITE_P(Backends, StoreReadsTest,
                         ::testing::Values(test::Backend::kSqlite, test::Backend::kSqliteOnLoop,
                                           test::Backend::kPostgres),
                         test::BackendName());

TEST_P(StoreReadsTest, ChatListIsNewestActivityFirstWithIdTieBreak) {
  auto f = make_chats({100, 300, 200, 300, 50});
  auto list = store_->reader().chat_list(f.me, 10, std::nullopt);
  // 300 (two chats: higher id first), 200, 100, 50.
  EXPECT_EQ(ids(list), (std::vector<ChatId>{f.chats[3], f.chats[1], f.chats[2], f.chats[0], f.chats[4]}));
  for (const auto& e : list) {
    EXPECT_EQ(e.me.user, f.me);
    EXPECT_EQ(e.me.chat, e.chat.id);
    EXPECT_EQ(e.me.role, MemberRole::kOwner);
    EXPECT_TRUE(e.me.active);
  }
}

TEST_P(StoreReadsTest, ChatListCursorPagesWithoutGapsOrRepeats) {
  std::vector<TimeMs> activity;
  for (int i = 0; i < 23; ++i) activity.push_back(1000 + (i % 5) * 10);  // many ties
  auto f = make_chats(activity);
  auto all = ids(store_->reader().chat_list(f.me, 100, std::nullopt));
  ASSERT_EQ(all.size(), 23u);

  std::vector<ChatId> paged;
  std::optional<ChatListCursor> cursor;
  for (int pages = 0; pages < 20; ++pages) {
    auto page = store_->reader().chat_list(f.me, 4, cursor);
    if (page.empty()) break;
    EXPECT_LE(page.size(), 4u);
    for (const auto& e : page) paged.push_back(e.chat.id);
    cursor = ChatListCursor{page.back().chat.last_activity_at, page.back().chat.id};
  }
  EXPECT_EQ(paged, all);
}

TEST_P(StoreReadsTest, ChatListLeavesOutLeftChatsAndOtherUsers) {
  auto f = make_chats({10, 20, 30});
  UserId stranger = add_user("stranger");
  ASSERT_TRUE(run_job(*store_, [&](WriteTx& tx) {
                tx.set_member_left(f.chats[1], f.me, tx.next_pos());
                return ok_status();
              }).ok());
  EXPECT_EQ(ids(store_->reader().chat_list(f.me, 10, std::nullopt)),
            (std::vector<ChatId>{f.chats[2], f.chats[0]}));
  EXPECT_EQ(ids(store_->reader().chat_list(f.other, 10, std::nullopt)),
            (std::vector<ChatId>{f.chats[2], f.chats[1], f.chats[0]}));
  EXPECT_TRUE(store_->reader().chat_list(stranger, 10, std::nullopt).empty());
}

TEST_P(StoreReadsTest, ChangedChatsByPositionIncludingLeftOnes) {
  auto f = make_chats({10, 20, 30});
  ReadView& r = store_->reader();
  auto changed = r.changed_chats(f.me, 0, 100);
  ASSERT_EQ(changed.size(), 3u);
  EXPECT_EQ(ids(changed), f.chats);  // created in position order
  Pos p0 = changed[0].me.pos;
  EXPECT_LT(changed[0].me.pos, changed[1].me.pos);
  EXPECT_LT(changed[1].me.pos, changed[2].me.pos);

  // Only what changed after a position, at most `limit`.
  EXPECT_EQ(ids(r.changed_chats(f.me, p0, 100)), (std::vector<ChatId>{f.chats[1], f.chats[2]}));
  EXPECT_EQ(ids(r.changed_chats(f.me, 0, 2)), (std::vector<ChatId>{f.chats[0], f.chats[1]}));
  EXPECT_TRUE(r.changed_chats(f.me, changed[2].me.pos, 100).empty());

  // Leaving the oldest chat moves it to the end, still reported, now inactive.
  Pos left_at = 0;
  ASSERT_TRUE(run_job(*store_, [&](WriteTx& tx) {
                left_at = tx.next_pos();
                tx.set_member_left(f.chats[0], f.me, left_at);
                return ok_status();
              }).ok());
  auto after = r.changed_chats(f.me, changed[2].me.pos, 100);
  ASSERT_EQ(after.size(), 1u);
  EXPECT_EQ(after[0].chat.id, f.chats[0]);
  EXPECT_FALSE(after[0].me.active);
  EXPECT_EQ(after[0].me.pos, left_at);

  // touch_members moves every active member's position.
  Pos touched = 0;
  ASSERT_TRUE(run_job(*store_, [&](WriteTx& tx) {
                touched = tx.next_pos();
                tx.touch_members(f.chats[1], touched);
                return ok_status();
              }).ok());
  auto latest = r.changed_chats(f.other, left_at, 100);
  ASSERT_EQ(latest.size(), 1u);
  EXPECT_EQ(latest[0].chat.id, f.chats[1]);
  EXPECT_EQ(latest[0].me.pos, touched);
  EXPECT_TRUE(r.check_integrity().empty());
}

TEST_P(StoreReadsTest, TouchMembersAndReadsMovesEveryPositionAndTheGivenReadPointers) {
  auto f = make_chats({10, 20});
  auto& r = store_->reader();
  Pos p = 0;
  ASSERT_TRUE(run_job(*store_, [&](WriteTx& tx) {
                p = tx.next_pos();
                const MemberReadSeq reads[] = {{f.other, 7}};
                tx.touch_members_and_reads(f.chats[1], p, reads);
                return ok_status();
              }).ok());
  for (UserId u : {f.me, f.other}) {
    auto changed = r.changed_chats(u, p - 1, 100);
    ASSERT_EQ(changed.size(), 1u);  // the other chat kept its positions
    EXPECT_EQ(changed[0].chat.id, f.chats[1]);
    EXPECT_EQ(changed[0].me.pos, p);
    EXPECT_EQ(changed[0].me.read_seq, u == f.other ? 7 : 0) << "only the reader's pointer moves";
  }

  // A member who left keeps its position; the reader's pointer moves again.
  Pos left_at = 0, q = 0;
  ASSERT_TRUE(run_job(*store_, [&](WriteTx& tx) {
                left_at = tx.next_pos();
                tx.set_member_left(f.chats[1], f.me, left_at);
                q = tx.next_pos();
                const MemberReadSeq reads[] = {{f.other, 9}};
                tx.touch_members_and_reads(f.chats[1], q, reads);
                return ok_status();
              }).ok());
  auto mine = r.changed_chats(f.me, p, 100);
  ASSERT_EQ(mine.size(), 1u);
  EXPECT_EQ(mine[0].me.pos, left_at);
  EXPECT_FALSE(mine[0].me.active);
  auto theirs = r.changed_chats(f.other, p, 100);
  ASSERT_EQ(theirs.size(), 1u);
  EXPECT_EQ(theirs[0].me.pos, q);
  EXPECT_EQ(theirs[0].me.read_seq, 9);
  EXPECT_TRUE(r.check_integrity().empty());
}

TEST_P(StoreReadsTest, MembersOfAWideChatSeeTheChatsPosition) {
  auto f = make_chats({10, 20, 30});
  auto& r = store_->reader();
  ChatId wide = f.chats[1];
  auto run = [&](auto job) { ASSERT_TRUE(run_job(*store_, [&](WriteTx& tx) { job(tx); return ok_status(); }).ok()); };
  Pos start = r.changed_chats(f.me, 0, 100).back().me.pos;
  run([&](WriteTx& tx) { tx.set_chat_wide(wide, true); });
  EXPECT_TRUE(r.chat(wide)->wide);
  EXPECT_FALSE(r.chat(f.chats[0])->wide);
  EXPECT_TRUE(r.changed_chats(f.me, start, 100).empty()) << "becoming wide is no change of its own";
  EXPECT_TRUE(r.check_integrity().empty());

  // A change of the wide chat writes the chat row only; both members see it.
  Pos p = 0;
  run([&](WriteTx& tx) {
    p = tx.next_pos();
    tx.update_chat_last(wide, 0, 40, p);  // no message: seqs stay gap-free
  });
  for (UserId u : {f.me, f.other}) {
    auto changed = r.changed_chats(u, start, 100);
    ASSERT_EQ(changed.size(), 1u);
    EXPECT_EQ(changed[0].chat.id, wide);
    EXPECT_TRUE(changed[0].chat.wide);
    EXPECT_EQ(changed[0].me.pos, p);
  }
  EXPECT_LT(r.membership(wide, f.me)->pos, p) << "the membership row itself was not rewritten";

  // Narrow and wide chats page together, by position, cut exactly at `limit`.
  Pos q = 0;
  run([&](WriteTx& tx) {
    q = tx.next_pos();
    tx.touch_members(f.chats[0], q);
  });
  EXPECT_EQ(ids(r.changed_chats(f.me, start, 100)), (std::vector<ChatId>{wide, f.chats[0]}));
  EXPECT_EQ(ids(r.changed_chats(f.me, start, 1)), (std::vector<ChatId>{wide}));
  EXPECT_EQ(ids(r.changed_chats(f.me, p, 100)), (std::vector<ChatId>{f.chats[0]}));

  // A leaver keeps the position of their leaving; the chat's later changes are not theirs.
  // A joiner follows the chat at once.
  UserId joiner = add_user("joiner");
  Pos left_at = 0, later = 0;
  run([&](WriteTx& tx) {
    left_at = tx.next_pos();
    tx.set_member_left(wide, f.other, left_at);
    tx.upsert_member(MemberRecord{.chat = wide, .user = joiner, .pos = left_at});
    later = tx.next_pos();
    tx.update_chat_last(wide, 0, 50, later);
  });
  auto theirs = r.changed_chats(f.other, q, 100);
  ASSERT_EQ(theirs.size(), 1u);
  EXPECT_FALSE(theirs[0].me.active);
  EXPECT_EQ(theirs[0].me.pos, left_at);
  EXPECT_TRUE(r.changed_chats(f.other, left_at, 100).empty());
  auto joined = r.changed_chats(joiner, 0, 100);
  ASSERT_EQ(joined.size(), 1u);
  EXPECT_EQ(joined[0].me.pos, later);
  EXPECT_TRUE(r.check_integrity().empty());

  // Narrow again: every active membership takes the chat's position, so a device that saw
  // up to `q` still finds the change at `later`.
  run([&](WriteTx& tx) { tx.set_chat_wide(wide, false); });
  EXPECT_FALSE(r.chat(wide)->wide);
  for (UserId u : {f.me, joiner}) {
    EXPECT_EQ(r.membership(wide, u)->pos, later);
    auto changed = r.changed_chats(u, q, 100);
    ASSERT_EQ(changed.size(), 1u);
    EXPECT_EQ(changed[0].me.pos, later);
  }
  EXPECT_TRUE(r.check_integrity().empty());
}

TEST_P(StoreReadsTest, SeveralWideChatsPageByPositionWhateverTheirIds) {
  auto f = make_chats({10, 20, 30, 40});
  auto& r = store_->reader();
  auto run = [&](auto job) { ASSERT_TRUE(run_job(*store_, [&](WriteTx& tx) { job(tx); return ok_status(); }).ok()); };
  Pos start = r.changed_chats(f.me, 0, 100).back().me.pos;
  run([&](WriteTx& tx) {
    for (ChatId c : f.chats) tx.set_chat_wide(c, true);
  });
  // Changed in an order that is neither the chats' ids nor their rows' order.
  const std::vector<ChatId> order{f.chats[2], f.chats[0], f.chats[3], f.chats[1]};
  std::vector<Pos> at;
  for (ChatId c : order)
    run([&](WriteTx& tx) {
      at.push_back(tx.next_pos());
      tx.update_chat_last(c, 0, 50, at.back());
    });
  EXPECT_EQ(ids(r.changed_chats(f.me, start, 100)), order);
  EXPECT_EQ(ids(r.changed_chats(f.me, start, 2)), (std::vector<ChatId>{order[0], order[1]}));
  // The next page starts where the cut one ended, with nothing skipped or repeated.
  auto first = r.changed_chats(f.me, start, 3);
  ASSERT_EQ(first.size(), 3u);
  EXPECT_EQ(first.back().me.pos, at[2]);
  EXPECT_EQ(ids(r.changed_chats(f.me, first.back().me.pos, 3)), (std::vector<ChatId>{order[3]}));
  EXPECT_TRUE(r.changed_chats(f.me, at.back(), 100).empty());
}

TEST_P(StoreReadsTest, TouchMembersAndReadsSetsAnyNumberOfPointers) {
  // Up to four pointers go in the statement that moves the positions, more one by one.
  auto f = make_chats({10});
  std::vector<UserId> users = {f.me, f.other};
  for (int i = 0; i < 6; ++i) users.push_back(add_user("reader" + std::to_string(i)));
  ChatId chat = f.chats[0];
  ASSERT_TRUE(run_job(*store_, [&](WriteTx& tx) {
                for (std::size_t i = 2; i < users.size(); ++i)
                  tx.upsert_member(MemberRecord{.chat = chat, .user = users[i], .pos = tx.next_pos()});
                return ok_status();
              }).ok());
  auto& r = store_->reader();
  std::map<UserId, Seq> expected;  // each member's read pointer: 0 until a round sets it
  for (std::size_t n : {std::size_t{0}, std::size_t{2}, std::size_t{4}, std::size_t{7}}) {
    std::vector<MemberReadSeq> reads;
    for (std::size_t i = 0; i < n; ++i) {
      reads.push_back({users[i], static_cast<Seq>(100 * n + i)});
      expected[users[i]] = reads.back().read_seq;
    }
    Pos p = 0;
    ASSERT_TRUE(run_job(*store_, [&](WriteTx& tx) {
                  p = tx.next_pos();
                  tx.touch_members_and_reads(chat, p, reads);
                  return ok_status();
                }).ok());
    auto members = r.active_members(chat);
    ASSERT_EQ(members.size(), users.size());
    for (const auto& m : members) {
      EXPECT_EQ(m.pos, p) << "every member's position moves, with " << n << " pointers";
      EXPECT_EQ(m.read_seq, expected[m.user]) << "member " << m.user.value << ", with " << n << " pointers";
    }
  }
  EXPECT_TRUE(r.check_integrity().empty());
}

class StoreMessagesTest : public StoreTest {
 protected:
  // A chat with messages 1..n from `sender`, client ids "c<seq>".
  void make_chat(int n) {
    sender_ = add_user("sender");
    ASSERT_TRUE(run_job(*store_, [&](WriteTx& tx) {
                  chat_ = tx.insert_chat(ChatRecord{.created_by = sender_, .created_at = 1}, std::nullopt);
                  tx.upsert_member(MemberRecord{.chat = chat_, .user = sender_, .pos = tx.next_pos()});
                  for (Seq s = 1; s <= n; ++s)
                    tx.insert_message(MessageRecord{.chat = chat_, .seq = s, .client_id = "c" + std::to_string(s),
                                                    .sender = sender_, .text = "text " + std::to_string(s),
                                                    .created_at = 1000 + s});
                  tx.update_chat_last(chat_, n, 1000 + n, 0);
                  return ok_status();
                }).ok());
  }

  static std::vector<Seq> seqs(const std::vector<MessageRecord>& ms) {
    std::vector<Seq> out;
    for (const auto& m : ms) out.push_back(m.seq);
    return out;
  }

  UserId sender_;
  ChatId chat_;
};

INSTANTIATE_TEST_SUITE_P(Backends, StoreMessagesTest,
                         ::testing::Values(test::Backend::kSqlite, test::Backend::kSqliteOnLoop,
                                           test::Backend::kPostgres),
                         test::BackendName());

TEST_P(StoreMessagesTest, MessagesBeforePagesBackwardsAscending) {
  make_chat(10);
  ReadView& r = store_->reader();
  EXPECT_EQ(seqs(r.messages_before(chat_, 11, 3)), (std::vector<Seq>{8, 9, 10}));
  EXPECT_EQ(seqs(r.messages_before(chat_, 8, 3)), (std::vector<Seq>{5, 6, 7}));
  EXPECT_EQ(seqs(r.messages_before(chat_, 3, 3)), (std::vector<Seq>{1, 2}));
  EXPECT_TRUE(r.messages_before(chat_, 1, 3).empty());
  EXPECT_EQ(seqs(r.messages_before(chat_, INT64_MAX, 2)), (std::vector<Seq>{9, 10}));
  EXPECT_TRUE(r.messages_before(ChatId(chat_.value + 1), 11, 3).empty());
}

TEST_P(StoreMessagesTest, MessagesAfterPagesForwards) {
  make_chat(10);
  ReadView& r = store_->reader();
  EXPECT_EQ(seqs(r.messages_after(chat_, 0, 4)), (std::vector<Seq>{1, 2, 3, 4}));
  EXPECT_EQ(seqs(r.messages_after(chat_, 4, 4)), (std::vector<Seq>{5, 6, 7, 8}));
  EXPECT_EQ(seqs(r.messages_after(chat_, 8, 4)), (std::vector<Seq>{9, 10}));
  EXPECT_TRUE(r.messages_after(chat_, 10, 4).empty());
}

TEST_P(StoreMessagesTest, MessagesSinceAreTheTailStoredAfterAPosition) {
  make_chat(3);  // stored with pos 0, as before positions were kept
  // Three batches: 4 and 5, then 6, then 7..9.
  std::vector<Pos> batch;
  for (Seq first : {4, 6, 7}) {
    Seq last = first == 4 ? 5 : first == 6 ? 6 : 9;
    ASSERT_TRUE(run_job(*store_, [&](WriteTx& tx) {
                  Pos pos = tx.next_pos();
                  batch.push_back(pos);
                  for (Seq s = first; s <= last; ++s)
                    tx.insert_message(MessageRecord{.chat = chat_, .seq = s, .client_id = "c" + std::to_string(s),
                                                    .sender = sender_, .text = "t", .created_at = 1000 + s,
                                                    .pos = pos});
                  tx.update_chat_last(chat_, last, 1000 + last, pos);
                  return ok_status();
                }).ok());
  }
  ReadView& r = store_->reader();
  EXPECT_EQ(seqs(r.messages_since(chat_, 0, 100)), (std::vector<Seq>{4, 5, 6, 7, 8, 9}));  // pos 0 is old
  EXPECT_EQ(seqs(r.messages_since(chat_, batch[0], 100)), (std::vector<Seq>{6, 7, 8, 9}));
  EXPECT_EQ(seqs(r.messages_since(chat_, batch[1], 100)), (std::vector<Seq>{7, 8, 9}));
  EXPECT_TRUE(r.messages_since(chat_, batch[2], 100).empty());
  // A limit keeps the newest.
  EXPECT_EQ(seqs(r.messages_since(chat_, batch[0], 2)), (std::vector<Seq>{8, 9}));
  EXPECT_EQ(seqs(r.messages_since(chat_, 0, 1)), (std::vector<Seq>{9}));
  EXPECT_TRUE(r.messages_since(ChatId(chat_.value + 1), 0, 10).empty());
  auto m = r.message(chat_, 6);
  ASSERT_TRUE(m);
  EXPECT_EQ(m->pos, batch[1]);
}

TEST_P(StoreMessagesTest, MessageFieldsRoundTrip) {
  make_chat(0);
  MessageRecord m{.chat = chat_, .seq = 1, .client_id = "c-5f2a-0001", .sender = sender_,
                  .kind = MessageKind::kSystem, .text = R"({"type":"rename","title":"주말 등산"})",
                  .reply_to = 0, .created_at = 1795300000123};
  MessageRecord reply{.chat = chat_, .seq = 2, .client_id = "c2", .sender = sender_,
                      .text = std::string("안녕\n") + '\0' + "끝", .reply_to = 1, .created_at = 1795300000124};
  ASSERT_TRUE(run_job(*store_, [&](WriteTx& tx) {
                tx.insert_message(m);
                tx.insert_message(reply);
                tx.update_chat_last(chat_, 2, reply.created_at, 0);
                return ok_status();
              }).ok());
  auto got = store_->reader().message(chat_, 1);
  ASSERT_TRUE(got);
  EXPECT_EQ(got->chat, chat_);
  EXPECT_EQ(got->client_id, m.client_id);
  EXPECT_EQ(got->sender, sender_);
  EXPECT_EQ(got->kind, MessageKind::kSystem);
  EXPECT_EQ(got->text, m.text);
  EXPECT_EQ(got->created_at, m.created_at);
  EXPECT_FALSE(got->deleted);
  auto got2 = store_->reader().message(chat_, 2);
  ASSERT_TRUE(got2);
  EXPECT_EQ(got2->text, reply.text);
  EXPECT_EQ(got2->reply_to, 1);
  EXPECT_EQ(got2->kind, MessageKind::kText);
  EXPECT_FALSE(store_->reader().message(chat_, 3));
}

TEST_P(StoreMessagesTest, MessageByClientIdIsPerSender) {
  make_chat(3);
  UserId other = add_user("other");
  ReadView& r = store_->reader();
  auto m = r.message_by_client_id(sender_, "c2");
  ASSERT_TRUE(m);
  EXPECT_EQ(m->chat, chat_);
  EXPECT_EQ(m->seq, 2);
  EXPECT_EQ(m->text, "text 2");
  EXPECT_FALSE(r.message_by_client_id(other, "c2"));
  EXPECT_FALSE(r.message_by_client_id(sender_, "c9"));
  EXPECT_FALSE(r.message_by_client_id(sender_, "C2"));

  // Another sender may use the same client id.
  ASSERT_TRUE(run_job(*store_, [&](WriteTx& tx) {
                tx.insert_message(MessageRecord{.chat = chat_, .seq = 4, .client_id = "c2", .sender = other, .text = "x"});
                tx.update_chat_last(chat_, 4, 2000, 0);
                return ok_status();
              }).ok());
  EXPECT_EQ(r.message_by_client_id(other, "c2")->seq, 4);
  EXPECT_EQ(r.message_by_client_id(sender_, "c2")->seq, 2);
}

// A batch's idempotency keys may be read up front (WriteJob::client_key): a key stored
// before the batch is found, one stored by an earlier job of the same batch too, and a new
// one is absent.
TEST_P(StoreMessagesTest, ClientKeysOfABatchAreFoundWhateverWroteThem) {
  make_chat(3);
  auto expect = [](bool ok, const char* what) { return ok ? ok_status() : Status(make_error(ErrorCode::kInternal, what)); };
  std::promise<Status> first, second, earlier, fresh;
  Gate gate;
  store_->submit(gate.job());
  gate.wait_entered();
  store_->submit(WriteJob{.apply = [&](WriteTx& tx) -> Status {
                            if (tx.message_by_client_id(sender_, "k1")) return expect(false, "k1 found before it was stored");
                            tx.insert_message(MessageRecord{.chat = chat_, .seq = 4, .client_id = "k1", .sender = sender_, .text = "k"});
                            tx.update_chat_last(chat_, 4, 2000, 0);
                            return ok_status();
                          },
                          .done = fulfil(first),
                          .client_key = ClientKey{sender_, "k1"}});
  store_->submit(WriteJob{.apply = [&](WriteTx& tx) -> Status {
                            auto m = tx.message_by_client_id(sender_, "k1");
                            return expect(m && m->seq == 4, "k1 stored by the batch's first job not found");
                          },
                          .done = fulfil(second),
                          .client_key = ClientKey{sender_, "k1"}});
  store_->submit(WriteJob{.apply = [&](WriteTx& tx) -> Status {
                            auto m = tx.message_by_client_id(sender_, "c2");
                            return expect(m && m->seq == 2, "c2 stored before the batch not found");
                          },
                          .done = fulfil(earlier),
                          .client_key = ClientKey{sender_, "c2"}});
  store_->submit(WriteJob{.apply = [&](WriteTx& tx) -> Status {
                            return expect(!tx.message_by_client_id(sender_, "never"), "a key never stored was found");
                          },
                          .done = fulfil(fresh),
                          .client_key = ClientKey{sender_, "never"}});
  gate.release();
  for (auto* p : {&first, &second, &earlier, &fresh}) {
    Status s = p->get_future().get();
    EXPECT_TRUE(s.ok()) << (s.ok() ? "" : s.error().message);
  }
  EXPECT_EQ(store_->reader().message_by_client_id(sender_, "k1")->seq, 4);
}

// insert_message_once stores a new key, and for a taken one writes nothing and says so,
// within one job, across jobs of one batch and across batches, while the batch goes on.
TEST_P(StoreMessagesTest, InsertMessageOnceStoresEachKeyOnce) {
  make_chat(3);
  UserId other = add_user("other");
  auto expect = [](bool ok, const char* what) { return ok ? ok_status() : Status(make_error(ErrorCode::kInternal, what)); };
  auto message = [&](Seq seq, const char* client_id, UserId sender, const char* text) {
    return MessageRecord{.chat = chat_, .seq = seq, .client_id = client_id, .sender = sender, .text = text};
  };
  std::promise<Status> first, again, taken_before, other_sender;
  Gate gate;
  store_->submit(gate.job());
  gate.wait_entered();
  store_->submit(WriteJob{.apply = [&](WriteTx& tx) -> Status {
                            if (!tx.insert_message_once(message(4, "k1", sender_, "first")))
                              return expect(false, "a new key was refused");
                            if (tx.insert_message_once(message(5, "k1", sender_, "second")))
                              return expect(false, "a key taken in this job was stored again");
                            tx.update_chat_last(chat_, 4, 2000, 0);
                            return ok_status();
                          },
                          .done = fulfil(first),
                          .client_key = ClientKey{sender_, "k1"},
                          .checks_before_writing = true});
  // A job that must find its key taken.
  auto refused = [&](const char* client_id, const char* what, std::promise<Status>& done) {
    store_->submit(WriteJob{.apply = [&, client_id, what](WriteTx& tx) -> Status {
                              return expect(!tx.insert_message_once(message(5, client_id, sender_, "again")), what);
                            },
                            .done = fulfil(done),
                            .client_key = ClientKey{sender_, client_id},
                            .checks_before_writing = true});
  };
  refused("k1", "a key taken by the batch's first job was stored again", again);
  refused("c2", "a key stored before the batch was stored again", taken_before);
  store_->submit(WriteJob{.apply = [&](WriteTx& tx) -> Status {
                            if (!tx.insert_message_once(message(5, "k1", other, "theirs")))
                              return expect(false, "another sender's key was refused");
                            tx.update_chat_last(chat_, 5, 2001, 0);
                            return ok_status();
                          },
                          .done = fulfil(other_sender),
                          .client_key = ClientKey{other, "k1"},
                          .checks_before_writing = true});
  gate.release();
  for (auto* p : {&first, &again, &taken_before, &other_sender}) {
    Status s = p->get_future().get();
    EXPECT_TRUE(s.ok()) << (s.ok() ? "" : s.error().message);
  }
  ReadView& r = store_->reader();
  EXPECT_EQ(r.message(chat_, 4)->text, "first");
  EXPECT_EQ(r.message(chat_, 5)->text, "theirs");
  EXPECT_EQ(r.message(chat_, 2)->text, "text 2");
  EXPECT_EQ(r.message_by_client_id(sender_, "k1")->seq, 4);
  EXPECT_EQ(r.message_by_client_id(other, "k1")->seq, 5);
  EXPECT_FALSE(r.message(chat_, 6));
  EXPECT_EQ(r.chat(chat_)->last_seq, 5);
  EXPECT_TRUE(r.check_integrity().empty());
}

TEST_P(StoreMessagesTest, DuplicateClientIdOfTheSameSenderIsRefusedByTheStore) {
  make_chat(3);
  Status s = run_job(*store_, [&](WriteTx& tx) {
    tx.insert_message(MessageRecord{.chat = chat_, .seq = 4, .client_id = "c1", .sender = sender_, .text = "dup"});
    tx.update_chat_last(chat_, 4, 2000, 0);
    return ok_status();
  });
  EXPECT_FALSE(s.ok());
  EXPECT_FALSE(store_->reader().message(chat_, 4));
  EXPECT_EQ(store_->reader().chat(chat_)->last_seq, 3);
  EXPECT_TRUE(store_->reader().check_integrity().empty());
}

std::vector<Seq> moderated_seqs(const std::vector<ModeratedMessage>& list) {
  std::vector<Seq> out;
  for (const auto& m : list) out.push_back(m.seq);
  return out;
}

TEST_P(StoreMessagesTest, DeletedSinceByPosition) {
  make_chat(6);
  Pos p1 = 0, p2 = 0;
  ASSERT_TRUE(run_job(*store_, [&](WriteTx& tx) {
                p1 = tx.next_pos();
                tx.mark_message_deleted(chat_, 5, p1);
                return ok_status();
              }).ok());
  ASSERT_TRUE(run_job(*store_, [&](WriteTx& tx) {
                p2 = tx.next_pos();
                tx.mark_message_deleted(chat_, 2, p2);
                return ok_status();
              }).ok());
  ReadView& r = store_->reader();
  auto changed = r.moderated_since(chat_, 0, 10);
  EXPECT_EQ(moderated_seqs(changed), (std::vector<Seq>{5, 2}));  // in the order of the changes
  ASSERT_EQ(changed.size(), 2u);
  EXPECT_EQ(changed[0].pos, p1);
  EXPECT_EQ(changed[1].pos, p2);
  EXPECT_TRUE(changed[0].deleted && changed[1].deleted);
  EXPECT_EQ(moderated_seqs(r.moderated_since(chat_, p1, 10)), (std::vector<Seq>{2}));
  EXPECT_TRUE(r.moderated_since(chat_, p2, 10).empty());
  // The limit keeps the earliest changes, not the lowest seqs.
  EXPECT_EQ(moderated_seqs(r.moderated_since(chat_, 0, 1)), (std::vector<Seq>{5}));

  auto m = r.message(chat_, 5);
  ASSERT_TRUE(m);
  EXPECT_TRUE(m->deleted);
  EXPECT_EQ(m->text, "");  // the text is gone, the seq stays
  EXPECT_EQ(seqs(r.messages_after(chat_, 0, 10)), (std::vector<Seq>{1, 2, 3, 4, 5, 6}));
  EXPECT_TRUE(r.check_integrity().empty());
}

TEST_P(StoreMessagesTest, HiddenAndRestoredReportedBySync) {
  make_chat(4);
  Pos hide = 0, restore = 0;
  ASSERT_TRUE(run_job(*store_, [&](WriteTx& tx) {
                hide = tx.next_pos();
                tx.set_message_hidden(chat_, 3, true, hide);
                return ok_status();
              }).ok());
  ReadView& r = store_->reader();
  auto m = r.message(chat_, 3);
  ASSERT_TRUE(m);
  EXPECT_TRUE(m->hidden);
  EXPECT_FALSE(m->text.empty());  // withheld from views, kept for review
  auto changed = r.moderated_since(chat_, 0, 10);
  ASSERT_EQ(changed.size(), 1u);
  EXPECT_TRUE(changed[0].hidden);
  EXPECT_FALSE(changed[0].deleted);
  EXPECT_EQ(changed[0].pos, hide);
  ASSERT_TRUE(run_job(*store_, [&](WriteTx& tx) {
                restore = tx.next_pos();
                tx.set_message_hidden(chat_, 3, false, restore);
                return ok_status();
              }).ok());
  changed = r.moderated_since(chat_, hide, 10);
  ASSERT_EQ(changed.size(), 1u);
  EXPECT_FALSE(changed[0].hidden);
  EXPECT_EQ(changed[0].pos, restore);
  EXPECT_TRUE(r.moderated_since(chat_, restore, 10).empty());
}

TEST_P(StoreMessagesTest, IntegrityCheckFindsAGapInSeqs) {
  make_chat(3);
  EXPECT_TRUE(store_->reader().check_integrity().empty());
  ASSERT_TRUE(run_job(*store_, [&](WriteTx& tx) {
                tx.update_chat_last(chat_, 5, 3000, 0);  // claims 5 messages, holds 3
                return ok_status();
              }).ok());
  auto problems = store_->reader().check_integrity();
  ASSERT_EQ(problems.size(), 1u);
  EXPECT_NE(problems[0].find("chat " + std::to_string(chat_.value)), std::string::npos) << problems[0];
}

TEST_P(StoreMessagesTest, IntegrityCheckFindsPositionsBeyondTheStoredOne) {
  make_chat(1);
  ASSERT_TRUE(run_job(*store_, [&](WriteTx& tx) {
                tx.touch_members(chat_, tx.current_pos() + 1000);  // a position never handed out
                return ok_status();
              }).ok());
  auto problems = store_->reader().check_integrity();
  ASSERT_EQ(problems.size(), 1u);
  EXPECT_NE(problems[0].find("position"), std::string::npos) << problems[0];
}

// --- users, devices, friends ----------------------------------------------------------

TEST_P(StoreTest, UsersDevicesAndFriends) {
  UserId a = add_user("alice"), b = add_user("bob");
  ReadView& r = store_->reader();
  EXPECT_EQ(r.credentials_by_handle("alice")->password_hash, "hash");
  EXPECT_EQ(r.list_users(10, UserId()).size(), 2u);
  EXPECT_EQ(r.list_users(10, a).size(), 1u);
  EXPECT_EQ(r.users_by_ids({b, UserId(999), a}).size(), 2u);

  DeviceId d;
  std::string token_hash(32, '\0');
  token_hash[31] = '\x7f';
  ASSERT_TRUE(run_job(*store_, [&](WriteTx& tx) {
                d = tx.insert_device(DeviceRecord{.user = a, .kind = DeviceKind::kPhone, .name = "폰"}, token_hash);
                tx.add_friend(a, b, tx.next_pos(), 5);
                return ok_status();
              }).ok());
  auto session = r.session_by_token_hash(token_hash);
  ASSERT_TRUE(session);  // binary hashes with NUL bytes round-trip
  EXPECT_EQ(session->device.id, d);
  EXPECT_EQ(session->device.user, a);
  EXPECT_EQ(session->device.kind, DeviceKind::kPhone);
  EXPECT_EQ(session->device.name, "폰");
  EXPECT_EQ(session->user.id, a);  // the device's user comes with it
  EXPECT_EQ(session->user.handle, "alice");
  EXPECT_FALSE(r.session_by_token_hash(std::string(32, '\0')));
  EXPECT_TRUE(r.is_friend(a, b));
  EXPECT_FALSE(r.is_friend(b, a));  // one-way
  EXPECT_EQ(r.friend_owners_of(b), std::vector<UserId>{a});

  bool revoked_twice = true;
  ASSERT_TRUE(run_job(*store_, [&](WriteTx& tx) {
                if (!tx.revoke_device(a, d)) return Status(make_error(ErrorCode::kInternal, "revoke"));
                revoked_twice = tx.revoke_device(a, d);
                return ok_status();
              }).ok());
  EXPECT_FALSE(revoked_twice);
  EXPECT_TRUE(r.session_by_token_hash(token_hash)->device.revoked);
  EXPECT_TRUE(r.devices_of(a).empty());
}

// --- several nodes on one PostgreSQL database; a lost connection -----------------------

// What one store's hooks saw, recorded from its committer thread.
struct HookLog {
  std::mutex mu;
  std::vector<std::pair<Pos, Pos>> batches;  // (from, to] of every batch
  std::vector<ChatId> forgotten;

  CommitHooks hooks() {
    return CommitHooks{
        .forget_chats = [this](const std::vector<ChatId>& chats) {
          std::lock_guard lock(mu);
          forgotten.insert(forgotten.end(), chats.begin(), chats.end());
        },
        .before_done = [this](int shard, Pos from, Pos to) {
          EXPECT_EQ(shard, 0);
          std::lock_guard lock(mu);
          batches.emplace_back(from, to);
        }};
  }
};

class PostgresSharedStoreTest : public ::testing::Test {
 protected:
  test::TestDatabase db_{test::Backend::kPostgres};
};

TEST_F(PostgresSharedStoreTest, NodesForgetChatsAnotherNodeChanged) {
  auto a = db_.open(), b = db_.open();
  HookLog log_a, log_b;
  a->set_hooks(log_a.hooks());
  b->set_hooks(log_b.hooks());
  ChatId chat, untouched;
  ASSERT_TRUE(run_job(*a, [&](WriteTx& tx) {
                chat = tx.insert_chat(ChatRecord{.created_at = 1, .last_activity_at = 1}, std::nullopt);
                untouched = tx.insert_chat(ChatRecord{.created_at = 1, .last_activity_at = 1}, std::nullopt);
                tx.update_chat_last(chat, 0, 1, tx.next_pos());
                tx.update_chat_last(untouched, 0, 1, tx.next_pos());
                return ok_status();
              }).ok());
  // B's first batch finds positions it did not commit: every chat changed since its start.
  ASSERT_TRUE(run_job(*b, [&](WriteTx& tx) {
                tx.update_chat_last(chat, 0, 2, tx.next_pos());
                return ok_status();
              }).ok());
  EXPECT_EQ(log_b.forgotten, (std::vector<ChatId>{chat, untouched}));
  // A's next batch learns that B changed `chat`, and only that.
  ASSERT_TRUE(run_job(*a, [&](WriteTx& tx) {
                tx.next_pos();
                return ok_status();
              }).ok());
  EXPECT_EQ(log_a.forgotten, std::vector<ChatId>{chat});
  // A batch after one's own forgets nothing.
  ASSERT_TRUE(run_job(*a, [&](WriteTx& tx) {
                tx.next_pos();
                return ok_status();
              }).ok());
  EXPECT_EQ(log_a.forgotten, std::vector<ChatId>{chat});
  a->stop();
  b->stop();
  EXPECT_EQ(log_a.batches, (std::vector<std::pair<Pos, Pos>>{{0, 2}, {3, 4}, {4, 5}}));
  EXPECT_EQ(log_b.batches, (std::vector<std::pair<Pos, Pos>>{{2, 3}}));
}

TEST_F(PostgresSharedStoreTest, BatchesOfConcurrentNodesChainInCommitOrder) {
  constexpr int kNodes = 3, kJobsPerNode = 300;
  std::vector<std::unique_ptr<Store>> nodes;
  std::vector<std::unique_ptr<HookLog>> logs;
  for (int i = 0; i < kNodes; ++i) {
    nodes.push_back(db_.open());
    logs.push_back(std::make_unique<HookLog>());
    nodes.back()->set_hooks(logs.back()->hooks());
  }
  UserId user = [&] {
    UserId id;
    EXPECT_TRUE(run_job(*nodes[0], [&](WriteTx& tx) {
                  id = tx.insert_user(user_named("writer"), "h");
                  return ok_status();
                }).ok());
    return id;
  }();
  // Every job takes a position and records it where every node can see it (a friend edge
  // per job), so commit order and position order can be compared afterwards.
  std::vector<std::thread> writers;
  std::atomic<int> failed{0};
  for (int n = 0; n < kNodes; ++n)
    writers.emplace_back([&, n] {
      std::vector<std::promise<Status>> outcomes(kJobsPerNode);
      for (int j = 0; j < kJobsPerNode; ++j)
        nodes[n]->submit(WriteJob{[&, n, j](WriteTx& tx) {
                                    Pos pos = tx.next_pos();
                                    tx.add_friend(user, UserId(1000 + n * kJobsPerNode + j), pos, pos);
                                    return ok_status();
                                  },
                                  fulfil(outcomes[j])});
      for (auto& o : outcomes)
        if (!o.get_future().get().ok()) failed.fetch_add(1);
    });
  for (auto& w : writers) w.join();
  for (auto& node : nodes) node->stop();
  EXPECT_EQ(failed.load(), 0);

  std::vector<std::pair<Pos, Pos>> all;
  for (auto& log : logs)
    for (auto [from, to] : log->batches)
      if (from != to) all.emplace_back(from, to);
  std::sort(all.begin(), all.end());
  ASSERT_FALSE(all.empty());
  EXPECT_EQ(all.front().first, 0);
  for (std::size_t i = 1; i < all.size(); ++i)
    EXPECT_EQ(all[i].first, all[i - 1].second) << "batch " << i << " does not start where the previous ended";
  EXPECT_EQ(all.back().second, kNodes * kJobsPerNode);

  auto reopened = db_.open();
  EXPECT_EQ(reopened->reader().current_pos(), kNodes * kJobsPerNode);
  int edges = 0;
  for (int k = 0; k < kNodes * kJobsPerNode; ++k) edges += reopened->reader().is_friend(user, UserId(1000 + k));
  EXPECT_EQ(edges, kNodes * kJobsPerNode);
  EXPECT_TRUE(reopened->reader().check_integrity().empty());
}

TEST_F(PostgresSharedStoreTest, ALostConnectionFailsItsBatchThenTheStoreReconnects) {
  auto store = db_.open();
  HookLog log;
  store->set_hooks(log.hooks());
  EXPECT_TRUE(run_job(*store, [](WriteTx& tx) {
                tx.insert_user(user_named("before"), "h");
                tx.next_pos();
                return ok_status();
              }).ok());
  EXPECT_TRUE(store->reader().user_by_handle("before"));
  EXPECT_EQ(store->unavailable_reason(), "");

  // The server drops every connection of this database (as a restart or failover would).
  modu_testing::pg_run(db_.dsn(),
                       "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                       "WHERE datname = current_database() AND pid <> pg_backend_pid()");

  Status lost = run_job(*store, [](WriteTx& tx) {
    tx.insert_user(user_named("lost"), "h");
    return ok_status();
  });
  ASSERT_FALSE(lost.ok());
  EXPECT_EQ(lost.error().code, ErrorCode::kUnavailable);
  EXPECT_NE(store->unavailable_reason(), "");
  EXPECT_THROW(store->reader().user_by_handle("before"), StorageError);  // the read met the loss

  // The next batch reconnects; the next read too.
  Status again = run_job(*store, [](WriteTx& tx) {
    tx.insert_user(user_named("after"), "h");
    tx.next_pos();
    return ok_status();
  });
  EXPECT_TRUE(again.ok());
  EXPECT_EQ(store->unavailable_reason(), "");
  EXPECT_TRUE(store->reader().user_by_handle("after"));
  EXPECT_FALSE(store->reader().user_by_handle("lost"));
  store->stop();
  // The failed batch reported an empty range; the batches chain around it.
  ASSERT_EQ(log.batches.size(), 3u);
  EXPECT_EQ(log.batches[0], (std::pair<Pos, Pos>{0, 1}));
  EXPECT_EQ(log.batches[1], (std::pair<Pos, Pos>{1, 1}));
  EXPECT_EQ(log.batches[2], (std::pair<Pos, Pos>{1, 2}));
}

}  // namespace
}  // namespace modu
