#include "storage/sqlite/sqlite_db.h"

#include "storage/sqlite/page_cache.h"

#include <fmt/format.h>

namespace modu::sqlite {

Stmt::~Stmt() {
  sqlite3_reset(stmt_);
  sqlite3_clear_bindings(stmt_);
}

Stmt& Stmt::bind(int index, std::int64_t value) {
  if (sqlite3_bind_int64(stmt_, index, value) != SQLITE_OK) db_->fail("bind");
  return *this;
}

Stmt& Stmt::bind(int index, std::string_view text) {
  if (sqlite3_bind_text(stmt_, index, text.data(), static_cast<int>(text.size()),
                        SQLITE_TRANSIENT) != SQLITE_OK)
    db_->fail("bind");
  return *this;
}

Stmt& Stmt::bind_borrowed(int index, std::string_view text) {
  if (sqlite3_bind_text(stmt_, index, text.data(), static_cast<int>(text.size()),
                        SQLITE_STATIC) != SQLITE_OK)
    db_->fail("bind");
  return *this;
}

Stmt& Stmt::bind_blob(int index, std::string_view bytes) {
  if (sqlite3_bind_blob(stmt_, index, bytes.data(), static_cast<int>(bytes.size()),
                        SQLITE_TRANSIENT) != SQLITE_OK)
    db_->fail("bind");
  return *this;
}

Stmt& Stmt::bind_null(int index) {
  if (sqlite3_bind_null(stmt_, index) != SQLITE_OK) db_->fail("bind");
  return *this;
}

bool Stmt::step() {
  int rc = sqlite3_step(stmt_);
  if (rc == SQLITE_ROW) return true;
  if (rc == SQLITE_DONE) return false;
  db_->fail("step");
}

void Stmt::run() {
  while (step()) {
  }
}

std::string Stmt::text(int column) const { return std::string(text_view(column)); }

std::string_view Stmt::text_view(int column) const {
  const auto* p = reinterpret_cast<const char*>(sqlite3_column_text(stmt_, column));
  if (p == nullptr) return {};
  return {p, static_cast<std::size_t>(sqlite3_column_bytes(stmt_, column))};
}

Db::Db(const std::string& path, bool read_only, const char* vfs) {
  configure_sqlite();
  int flags = read_only ? SQLITE_OPEN_READONLY : (SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE);
  flags |= SQLITE_OPEN_NOMUTEX;
  if (sqlite3_open_v2(path.c_str(), &db_, flags, vfs) != SQLITE_OK) {
    std::string msg = db_ ? sqlite3_errmsg(db_) : "out of memory";
    sqlite3_close(db_);
    db_ = nullptr;
    throw StorageError(fmt::format("cannot open {}: {}", path, msg));
  }
  sqlite3_extended_result_codes(db_, 1);
  sqlite3_busy_timeout(db_, 10000);
}

Db::~Db() {
  for (auto& [sql, stmt] : cache_) sqlite3_finalize(stmt);
  sqlite3_close(db_);
}

void Db::exec(std::string_view sql) {
  std::string copy(sql);
  char* err = nullptr;
  if (sqlite3_exec(db_, copy.c_str(), nullptr, nullptr, &err) != SQLITE_OK) {
    std::string msg = err ? err : sqlite3_errmsg(db_);
    sqlite3_free(err);
    throw StorageError(fmt::format("sqlite: {} (in: {:.80})", msg, copy));
  }
}

Stmt Db::prepare(const char* sql) {
  auto it = cache_.find(sql);
  if (it == cache_.end()) {
    sqlite3_stmt* stmt = nullptr;
    if (sqlite3_prepare_v3(db_, sql, -1, SQLITE_PREPARE_PERSISTENT, &stmt, nullptr) != SQLITE_OK)
      throw StorageError(fmt::format("sqlite prepare: {} (in: {:.120})", sqlite3_errmsg(db_), sql));
    it = cache_.emplace(sql, stmt).first;
  }
  return Stmt(*this, it->second);
}

void Db::fail(std::string_view what) const {
  throw StorageError(fmt::format("sqlite {}: {} (code {})", what, sqlite3_errmsg(db_),
                                 sqlite3_extended_errcode(db_)));
}

}  // namespace modu::sqlite
