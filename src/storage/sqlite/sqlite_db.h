// Thin RAII over the SQLite C API: a connection with a cache of prepared statements, and a
// statement cursor with typed binds and columns. Every failure throws StorageError with
// SQLite's message. Not thread-safe: one connection per thread.
#pragma once

#include <sqlite3.h>

#include <cstdint>
#include <string>
#include <string_view>
#include <unordered_map>

#include "modu/store.h"

namespace modu::sqlite {

class Db;

// A prepared statement borrowed from the connection's cache. Resets itself (and clears
// its bindings) when it goes out of scope, so the cached statement is ready for reuse.
class Stmt {
 public:
  Stmt(Db& db, sqlite3_stmt* stmt) : db_(&db), stmt_(stmt) {}
  Stmt(const Stmt&) = delete;
  Stmt& operator=(const Stmt&) = delete;
  ~Stmt();

  // Binds are 1-based, as in SQLite. Each returns *this for chaining.
  Stmt& bind(int index, std::int64_t value);
  Stmt& bind(int index, int value) { return bind(index, static_cast<std::int64_t>(value)); }
  Stmt& bind(int index, std::string_view text);
  // Binds text without copying it: `text` must stay valid and unchanged for as long as
  // this Stmt lives (its destructor clears the bindings). For the hot path's big values.
  Stmt& bind_borrowed(int index, std::string_view text);
  Stmt& bind_blob(int index, std::string_view bytes);
  Stmt& bind_null(int index);

  // Advances to the next row: true if there is one, false when done.
  bool step();
  // Runs a statement that returns no rows.
  void run();

  std::int64_t int64(int column) const { return sqlite3_column_int64(stmt_, column); }
  std::string text(int column) const;
  // The column's text without a copy: valid until the next step() or the end of the row.
  std::string_view text_view(int column) const;
  bool is_null(int column) const { return sqlite3_column_type(stmt_, column) == SQLITE_NULL; }

 private:
  Db* db_;
  sqlite3_stmt* stmt_;
};

class Db {
 public:
  // Opens (creating if needed) the database file through the named VFS (nullptr: the
  // default one). Throws StorageError.
  Db(const std::string& path, bool read_only, const char* vfs = nullptr);
  Db(const Db&) = delete;
  Db& operator=(const Db&) = delete;
  ~Db();

  // Executes one or more statements without results.
  void exec(std::string_view sql);
  // Returns the cached prepared statement for `sql`. `sql` must be a string literal
  // (its address keys the cache).
  Stmt prepare(const char* sql);

  std::int64_t last_insert_rowid() const { return sqlite3_last_insert_rowid(db_); }
  int changes() const { return sqlite3_changes(db_); }
  [[noreturn]] void fail(std::string_view what) const;
  sqlite3* raw() const { return db_; }

 private:
  sqlite3* db_ = nullptr;
  std::unordered_map<const char*, sqlite3_stmt*> cache_;
};

}  // namespace modu::sqlite
