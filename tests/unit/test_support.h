// Helpers shared by the unit tests: a scratch directory, a fresh database of either store
// backend, and running write jobs on a store synchronously.
#pragma once

#include <gtest/gtest.h>
#include <stdlib.h>

#include <cstdint>
#include <filesystem>
#include <fstream>
#include <functional>
#include <future>
#include <memory>
#include <stdexcept>
#include <string>
#include <system_error>
#include <thread>

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>

#include "common/pg_database.h"
#include "modu/store.h"
#include "net/loop_scheduler.h"
#include "storage/sqlite/sqlite_db.h"

namespace modu::test {

// The first column of the first row `sql` returns on `db` (a count, say), as a number.
inline std::int64_t first_number(sqlite::Db& db, const char* sql) {
  auto s = db.prepare(sql);
  EXPECT_TRUE(s.step()) << sql;
  return s.int64(0);
}

// A fresh directory under $TMPDIR, removed with everything in it on destruction.
class TempDir {
 public:
  TempDir() {
    std::string tmpl = (std::filesystem::temp_directory_path() / "modu-unit-XXXXXX").string();
    if (mkdtemp(tmpl.data()) == nullptr) throw std::runtime_error("mkdtemp failed");
    path_ = tmpl;
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }

  const std::filesystem::path& path() const { return path_; }
  std::string str() const { return path_.string(); }

  // Writes `content` to `relative` (parent directories are created).
  std::filesystem::path write(const std::string& relative, const std::string& content) const {
    auto file = path_ / relative;
    std::filesystem::create_directories(file.parent_path());
    std::ofstream(file, std::ios::binary) << content;
    return file;
  }

 private:
  std::filesystem::path path_;
};

// Opens the embedded store in `dir`; fails the test (by throwing) if it cannot.
inline std::unique_ptr<Store> open_store(const SqliteOptions& options) {
  auto store = open_sqlite_store(options);
  if (!store.ok()) throw std::runtime_error("open_sqlite_store: " + store.error().message);
  return std::move(store).value();
}

inline std::unique_ptr<Store> open_store(const std::filesystem::path& dir) {
  return open_store(SqliteOptions{.directory = dir.string()});
}

// The store implementations the conformance tests run against. kSqliteOnLoop: the embedded
// store committing on an event loop (SqliteOptions::commit_scheduler) instead of its thread.
enum class Backend { kSqlite, kSqliteOnLoop, kPostgres };

inline std::string backend_name(Backend backend) {
  switch (backend) {
    case Backend::kSqlite: return "sqlite";
    case Backend::kSqliteOnLoop: return "sqlite_on_loop";
    case Backend::kPostgres: return "postgres";
  }
  return "?";
}

// An event loop on a thread of its own, for as long as this lives.
class TestLoop {
 public:
  TestLoop() : thread_([this] { io_.run(); }) {}
  TestLoop(const TestLoop&) = delete;
  TestLoop& operator=(const TestLoop&) = delete;
  ~TestLoop() {
    work_.reset();
    io_.stop();
    thread_.join();
  }
  boost::asio::io_context& io() { return io_; }

 private:
  boost::asio::io_context io_{1};
  boost::asio::executor_work_guard<boost::asio::io_context::executor_type> work_ =
      boost::asio::make_work_guard(io_);
  std::thread thread_;
};

// For INSTANTIATE_TEST_SUITE_P: test names end in /sqlite, /sqlite_on_loop or /postgres
// (ctest labels the last `unit-pg`, see CMakeLists.txt).
struct BackendName {
  std::string operator()(const ::testing::TestParamInfo<Backend>& info) const {
    return backend_name(info.param);
  }
};

// A fresh empty database of one backend for one test: a data directory, or a PostgreSQL
// database created on the instance in MODU_TEST_PG_DSN (the constructor throws, failing the
// test, when that is unset). Removed on destruction.
class TestDatabase {
 public:
  explicit TestDatabase(Backend backend) : backend_(backend) {
    if (backend_ == Backend::kPostgres) pg_ = std::make_unique<modu_testing::PgTestDatabase>("modu_unit");
    if (backend_ == Backend::kSqliteOnLoop) loop_ = std::make_unique<TestLoop>();
  }

  Backend backend() const { return backend_; }
  const TempDir& dir() const { return dir_; }
  // The PostgreSQL database's URI (PostgreSQL only).
  const std::string& dsn() const { return pg_->dsn(); }

  // Opens (and migrates) a store on this database; throws if it cannot.
  std::unique_ptr<Store> open() const {
    if (backend_ == Backend::kSqlite) return open_store(dir_.path());
    if (backend_ == Backend::kSqliteOnLoop)
      return open_store(SqliteOptions{.directory = dir_.str(), .commit_scheduler = schedule_on_loop(loop_->io())});
    auto store = open_postgres_store(PostgresOptions{.dsn = pg_->dsn()});
    if (!store.ok()) throw std::runtime_error("open_postgres_store: " + store.error().message);
    return std::move(store).value();
  }

 private:
  Backend backend_;
  TempDir dir_;
  std::unique_ptr<modu_testing::PgTestDatabase> pg_;
  std::unique_ptr<TestLoop> loop_;  // kSqliteOnLoop: where the stores opened here commit
};

// Submits one write job and waits for its outcome (delivered by the job's `done`, i.e.
// after the batch committed or failed).
inline Status run_job(Store& store, std::function<Status(WriteTx&)> apply) {
  std::promise<Status> outcome;
  auto future = outcome.get_future();
  store.submit(WriteJob{std::move(apply), [&outcome](const Status& s) { outcome.set_value(s); }});
  return future.get();
}

// A job's `done` callback that fulfils `promise`; for submitting many jobs before waiting.
inline std::function<void(const Status&)> fulfil(std::promise<Status>& promise) {
  return [&promise](const Status& s) { promise.set_value(s); };
}

// A job that blocks the committer until released, so that the jobs submitted meanwhile all
// land in the next batch. `placement`: the shard the job is on (WriteJob::placement).
class Gate {
 public:
  WriteJob job(std::int64_t placement = 0) {
    return WriteJob{[this](WriteTx&) {
                      entered_.set_value();
                      release_.get_future().wait();
                      return ok_status();
                    },
                    [](const Status&) {}, placement};
  }
  void wait_entered() { entered_.get_future().wait(); }
  void release() { release_.set_value(); }

 private:
  std::promise<void> entered_;
  std::promise<void> release_;
};

}  // namespace modu::test
