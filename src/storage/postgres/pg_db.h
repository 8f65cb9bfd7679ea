// Thin RAII over libpq: a connection with a cache of prepared statements, typed
// parameters, typed result columns, and an optional pipeline mode. Every failure throws
// StorageError with the server's message. Not thread-safe: one connection per thread.
//
// Values travel in binary: integers as int8, strings as text or bytea, string lists as
// text[]. Integer columns may be smallint, integer or bigint; `Rows::int64` reads all three.
//
// Pipeline mode (the committer's connection): `exec` only queues a statement, whose
// result nobody waits for; `query` queues its statement, asks the server to flush and reads
// every result up to its own, so a batch of writes costs one round trip per read instead of
// one per statement. An error of a queued statement surfaces (as StorageError) at the next
// `query` or `sync`; after that the pipeline must be cleared with `recover()`. Outside
// pipeline mode both run at once.
#pragma once

#include <libpq-fe.h>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "modu/store.h"

namespace modu::pg {

// The parameters of one statement, in order ($1, $2, …).
class Params {
 public:
  Params& add(std::int64_t value);
  Params& add(int value) { return add(static_cast<std::int64_t>(value)); }
  // UTF-8 text. PostgreSQL text cannot hold NUL bytes: such a value throws StorageError.
  Params& add(std::string_view text);
  Params& add(const char* text) { return add(std::string_view(text)); }
  Params& add(const std::string& text) { return add(std::string_view(text)); }
  Params& add_bytes(std::string_view bytes);  // bytea
  Params& add_text_array(const std::vector<std::string>& items);  // text[]
  Params& add_int_array(const std::vector<std::int64_t>& items);  // bigint[]
  Params& add_null();
  template <class T>
  Params& add_optional(const std::optional<T>& value) {
    return value ? add(*value) : add_null();
  }

  int size() const { return static_cast<int>(oids_.size()); }
  const Oid* oids() const { return oids_.data(); }
  const char* const* values() const;
  const int* lengths() const { return lengths_.data(); }
  const int* formats() const { return formats_.data(); }

 private:
  Params& push(Oid oid, std::string bytes, bool null);

  std::vector<Oid> oids_;
  std::vector<std::string> buffers_;
  mutable std::vector<const char*> pointers_;  // rebuilt by values(): buffers may move
  std::vector<int> lengths_;
  std::vector<int> formats_;
};

// The rows of one result, walked with `next()` like a cursor.
class Rows {
 public:
  explicit Rows(PGresult* result) : result_(result) {}
  Rows(Rows&& other) noexcept : result_(other.result_), row_(other.row_) { other.result_ = nullptr; }
  Rows(const Rows&) = delete;
  Rows& operator=(const Rows&) = delete;
  ~Rows() { PQclear(result_); }

  // Advances to the next row: true if there is one.
  bool next() { return ++row_ < PQntuples(result_); }
  int count() const { return PQntuples(result_); }
  // Rows changed by an INSERT/UPDATE/DELETE.
  std::int64_t affected() const;

  std::int64_t int64(int column) const;
  bool boolean(int column) const { return int64(column) != 0; }
  std::string text(int column) const;  // text and bytea alike, as raw bytes
  bool is_null(int column) const { return PQgetisnull(result_, row_, column) != 0; }

 private:
  PGresult* result_;
  int row_ = -1;
};

class Conn {
 public:
  // Connects with a libpq connection string or URI. Throws StorageError.
  explicit Conn(std::string dsn);
  Conn(const Conn&) = delete;
  Conn& operator=(const Conn&) = delete;
  ~Conn();

  // Runs a statement whose rows nobody needs (queued in pipeline mode). `sql` must be a
  // string literal: its address keys the prepared statement cache.
  void exec(const char* sql, const Params& params = Params());
  // Runs a statement and returns its rows (waits for every queued statement before it).
  Rows query(const char* sql, const Params& params = Params());
  // How many statements `exec` and `query` have sent that may change rows: all but those
  // that start with SELECT.
  std::uint64_t writes_sent() const { return writes_sent_; }
  // Runs one or more statements without parameters over the simple protocol (DDL,
  // session settings). Not in pipeline mode.
  void script(std::string_view sql);

  void enter_pipeline();
  bool in_pipeline() const { return pipeline_; }
  // Pipeline mode: a sync point; waits until every queued statement ran and throws the
  // first error among them.
  void sync();
  // Pipeline mode: after an error, discards what is queued and ends the transaction.
  // Never throws; a connection that cannot recover is left `broken()`.
  void recover();

  // Whether the connection to the server is lost.
  bool broken() const;
  // Replaces a lost connection with a new one (statements are prepared again on first
  // use; pipeline mode and `setup` statements are restored). Throws StorageError.
  void reconnect();
  // Statements to run again after every reconnect (session settings).
  void set_setup(std::string sql) { setup_ = std::move(sql); }

  PGconn* raw() const { return conn_; }

 private:
  struct Prepared {
    std::string name;
  };
  void connect();
  const std::string& prepared_name(const char* sql, const Params& params);
  void send(const char* sql, const Params& params);
  // Reads the results of every queued statement; returns the first error (empty: none).
  std::string drain_pending();
  // Reads one statement's result and its terminating null; the caller owns the result.
  PGresult* take_result();
  [[noreturn]] void fail(std::string_view what, const PGresult* result = nullptr) const;

  std::string dsn_;
  std::string setup_;
  PGconn* conn_ = nullptr;
  bool pipeline_ = false;
  int pending_ = 0;  // queued statements (and prepares) whose results are unread
  std::uint64_t writes_sent_ = 0;
  std::unordered_map<const char*, Prepared> prepared_;
};

}  // namespace modu::pg
