// A fresh PostgreSQL database per test, on the instance the test runner started
// (scripts/pg-instance start), found through MODU_TEST_PG_DSN (a URI such as
// postgres://postgres@127.0.0.1:5432/postgres, whose role may create databases).
//
// A test that needs PostgreSQL and finds MODU_TEST_PG_DSN unset fails (the constructor
// throws): it never skips, so a run that was meant to cover PostgreSQL cannot pass without it.
#pragma once

#include <libpq-fe.h>
#include <unistd.h>

#include <atomic>
#include <cstdlib>
#include <stdexcept>
#include <string>

namespace modu_testing {

// The URI of the test instance's maintenance database. Throws when it is not configured.
inline std::string pg_admin_dsn() {
  const char* dsn = std::getenv("MODU_TEST_PG_DSN");
  if (dsn == nullptr || *dsn == '\0')
    throw std::runtime_error(
        "MODU_TEST_PG_DSN is not set: this test needs PostgreSQL. Start an instance with "
        "`export MODU_TEST_PG_DSN=$(scripts/pg-instance start --fast)` (scripts/test does this)");
  return dsn;
}

// Runs one statement on the database at `dsn`; throws with the server's message.
inline void pg_run(const std::string& dsn, const std::string& sql) {
  PGconn* conn = PQconnectdb(dsn.c_str());
  if (PQstatus(conn) != CONNECTION_OK) {
    std::string message = PQerrorMessage(conn);
    PQfinish(conn);
    throw std::runtime_error("cannot connect to " + dsn + ": " + message);
  }
  PQsetNoticeProcessor(conn, [](void*, const char*) {}, nullptr);  // "does not exist, skipping"
  PGresult* r = PQexec(conn, sql.c_str());
  ExecStatusType status = PQresultStatus(r);
  std::string message = PQresultErrorMessage(r);
  PQclear(r);
  PQfinish(conn);
  if (status != PGRES_COMMAND_OK && status != PGRES_TUPLES_OK)
    throw std::runtime_error(sql + ": " + message);
}

// `dsn` (a URI) with its database name replaced by `database`.
inline std::string pg_with_database(const std::string& dsn, const std::string& database) {
  auto scheme = dsn.find("://");
  if (scheme == std::string::npos) throw std::runtime_error("MODU_TEST_PG_DSN must be a postgres:// URI");
  auto query = dsn.find('?');
  std::string base = dsn.substr(0, query);
  std::string rest = query == std::string::npos ? "" : dsn.substr(query);
  auto slash = base.find('/', scheme + 3);
  if (slash != std::string::npos) base.resize(slash);
  return base + "/" + database + rest;
}

// Creates an empty database on construction and drops it (closing its connections) on
// destruction, unless MODU_KEEP_TEST_DATA is set.
class PgTestDatabase {
 public:
  explicit PgTestDatabase(const std::string& prefix) : admin_(pg_admin_dsn()) {
    static std::atomic<int> counter{0};
    name_ = prefix + "_" + std::to_string(::getpid()) + "_" + std::to_string(counter.fetch_add(1));
    pg_run(admin_, "DROP DATABASE IF EXISTS " + name_ + " WITH (FORCE)");
    pg_run(admin_, "CREATE DATABASE " + name_ + " TEMPLATE template0");
    dsn_ = pg_with_database(admin_, name_);
  }
  ~PgTestDatabase() {
    if (std::getenv("MODU_KEEP_TEST_DATA")) return;
    try {
      pg_run(admin_, "DROP DATABASE IF EXISTS " + name_ + " WITH (FORCE)");
    } catch (const std::exception&) {
    }
  }
  PgTestDatabase(const PgTestDatabase&) = delete;
  PgTestDatabase& operator=(const PgTestDatabase&) = delete;

  const std::string& dsn() const { return dsn_; }
  const std::string& name() const { return name_; }

 private:
  std::string admin_;
  std::string name_;
  std::string dsn_;
};

}  // namespace modu_testing
