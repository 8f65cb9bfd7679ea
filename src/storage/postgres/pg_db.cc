#include "storage/postgres/pg_db.h"

#include <endian.h>
#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <cstring>

namespace modu::pg {
namespace {

// Type oids (pg_type.h is a server header; these values are fixed by the catalog).
constexpr Oid kInt8Oid = 20;
constexpr Oid kTextOid = 25;
constexpr Oid kByteaOid = 17;
constexpr Oid kTextArrayOid = 1009;
constexpr Oid kInt8ArrayOid = 1016;

// Results of statements queued in pipeline mode are read back after at most this many,
// so neither side's socket buffer can fill up while the other waits.
constexpr int kMaxPending = 512;

void put_int32(std::string& out, std::int32_t value) {
  std::uint32_t be = htobe32(static_cast<std::uint32_t>(value));
  out.append(reinterpret_cast<const char*>(&be), 4);
}

std::string trimmed(const char* message) {
  std::string s = message ? message : "";
  while (!s.empty() && (s.back() == '\n' || s.back() == ' ')) s.pop_back();
  return s;
}

}  // namespace

// --- Params ------------------------------------------------------------------------------

Params& Params::push(Oid oid, std::string bytes, bool null) {
  oids_.push_back(oid);
  lengths_.push_back(null ? 0 : static_cast<int>(bytes.size()));
  formats_.push_back(1);
  buffers_.push_back(std::move(bytes));
  pointers_.push_back(nullptr);
  return *this;
}

const char* const* Params::values() const {
  for (std::size_t i = 0; i < buffers_.size(); ++i)
    pointers_[i] = oids_[i] == 0 ? nullptr : buffers_[i].data();
  return pointers_.data();
}

Params& Params::add(std::int64_t value) {
  std::uint64_t be = htobe64(static_cast<std::uint64_t>(value));
  return push(kInt8Oid, std::string(reinterpret_cast<const char*>(&be), 8), false);
}

Params& Params::add(std::string_view text) {
  if (text.find('\0') != std::string_view::npos)
    throw StorageError("a text value holds a NUL byte, which PostgreSQL cannot store");
  return push(kTextOid, std::string(text), false);
}

Params& Params::add_bytes(std::string_view bytes) { return push(kByteaOid, std::string(bytes), false); }

Params& Params::add_text_array(const std::vector<std::string>& items) {
  std::string out;
  put_int32(out, items.empty() ? 0 : 1);  // dimensions
  put_int32(out, 0);                      // no nulls
  put_int32(out, static_cast<std::int32_t>(kTextOid));
  if (!items.empty()) {
    put_int32(out, static_cast<std::int32_t>(items.size()));
    put_int32(out, 1);  // lower bound
  }
  for (const auto& item : items) {
    if (item.find('\0') != std::string::npos)
      throw StorageError("a text value holds a NUL byte, which PostgreSQL cannot store");
    put_int32(out, static_cast<std::int32_t>(item.size()));
    out += item;
  }
  return push(kTextArrayOid, std::move(out), false);
}

Params& Params::add_int_array(const std::vector<std::int64_t>& items) {
  std::string out;
  put_int32(out, items.empty() ? 0 : 1);  // dimensions
  put_int32(out, 0);                      // no nulls
  put_int32(out, static_cast<std::int32_t>(kInt8Oid));
  if (!items.empty()) {
    put_int32(out, static_cast<std::int32_t>(items.size()));
    put_int32(out, 1);  // lower bound
  }
  for (std::int64_t item : items) {
    put_int32(out, 8);
    std::uint64_t be = htobe64(static_cast<std::uint64_t>(item));
    out.append(reinterpret_cast<const char*>(&be), 8);
  }
  return push(kInt8ArrayOid, std::move(out), false);
}

// A null's type is left to the server (oid 0), which infers it from the statement.
Params& Params::add_null() { return push(0, std::string(), true); }

// --- Rows --------------------------------------------------------------------------------

std::int64_t Rows::affected() const {
  const char* n = PQcmdTuples(result_);
  return (n && *n) ? std::strtoll(n, nullptr, 10) : 0;
}

std::int64_t Rows::int64(int column) const {
  if (PQgetisnull(result_, row_, column)) return 0;
  const char* p = PQgetvalue(result_, row_, column);
  switch (PQgetlength(result_, row_, column)) {
    case 8: {
      std::uint64_t v;
      std::memcpy(&v, p, 8);
      return static_cast<std::int64_t>(be64toh(v));
    }
    case 4: {
      std::uint32_t v;
      std::memcpy(&v, p, 4);
      return static_cast<std::int32_t>(be32toh(v));
    }
    case 2: {
      std::uint16_t v;
      std::memcpy(&v, p, 2);
      return static_cast<std::int16_t>(be16toh(v));
    }
    case 1:  // boolean
      return *p != 0;
    default:
      throw StorageError(fmt::format("column {} is not an integer", PQfname(result_, column)));
  }
}

std::string Rows::text(int column) const {
  if (PQgetisnull(result_, row_, column)) return {};
  return std::string(PQgetvalue(result_, row_, column),
                     static_cast<std::size_t>(PQgetlength(result_, row_, column)));
}

// --- Conn --------------------------------------------------------------------------------

Conn::Conn(std::string dsn) : dsn_(std::move(dsn)) { connect(); }

Conn::~Conn() { PQfinish(conn_); }

void Conn::connect() {
  conn_ = PQconnectdb(dsn_.c_str());
  if (PQstatus(conn_) != CONNECTION_OK) {
    std::string message = trimmed(PQerrorMessage(conn_));
    PQfinish(conn_);
    conn_ = nullptr;
    throw StorageError(fmt::format("postgres: cannot connect: {}", message));
  }
  // Server notices ("relation already exists, skipping") are chatter, not errors.
  PQsetNoticeProcessor(
      conn_, [](void*, const char* message) { spdlog::debug("postgres: {}", trimmed(message)); }, nullptr);
  if (!setup_.empty()) script(setup_);
}

void Conn::reconnect() {
  PQfinish(conn_);
  conn_ = nullptr;
  prepared_.clear();
  pending_ = 0;
  bool was_pipeline = pipeline_;
  pipeline_ = false;
  connect();
  if (was_pipeline) enter_pipeline();
}

bool Conn::broken() const { return conn_ == nullptr || PQstatus(conn_) == CONNECTION_BAD; }

void Conn::fail(std::string_view what, const PGresult* result) const {
  std::string message = trimmed(result ? PQresultErrorMessage(result) : nullptr);
  if (message.empty()) message = trimmed(conn_ ? PQerrorMessage(conn_) : "not connected");
  if (broken()) message += " (connection lost)";
  throw StorageError(fmt::format("postgres {}: {}", what, message));
}

void Conn::script(std::string_view sql) {
  if (pipeline_) throw StorageError("postgres: script() in pipeline mode");
  std::string copy(sql);
  PGresult* r = PQexec(conn_, copy.c_str());
  ExecStatusType status = PQresultStatus(r);
  if (status != PGRES_COMMAND_OK && status != PGRES_TUPLES_OK) {
    std::string message = trimmed(PQresultErrorMessage(r));
    if (message.empty()) message = trimmed(PQerrorMessage(conn_));
    PQclear(r);
    throw StorageError(fmt::format("postgres: {} (in: {:.80})", message, copy));
  }
  PQclear(r);
}

void Conn::enter_pipeline() {
  if (pipeline_) return;
  if (PQenterPipelineMode(conn_) != 1) fail("pipeline");
  pipeline_ = true;
}

const std::string& Conn::prepared_name(const char* sql, const Params& params) {
  auto it = prepared_.find(sql);
  if (it != prepared_.end()) return it->second.name;
  std::string name = fmt::format("s{}", prepared_.size() + 1);
  if (pipeline_) {
    if (PQsendPrepare(conn_, name.c_str(), sql, params.size(), params.oids()) != 1)
      fail(fmt::format("prepare ({:.120})", sql));
    ++pending_;
  } else {
    PGresult* r = PQprepare(conn_, name.c_str(), sql, params.size(), params.oids());
    if (PQresultStatus(r) != PGRES_COMMAND_OK) {
      std::string message = trimmed(PQresultErrorMessage(r));
      PQclear(r);
      throw StorageError(fmt::format("postgres prepare: {} (in: {:.120})", message, sql));
    }
    PQclear(r);
  }
  return prepared_.emplace(sql, Prepared{std::move(name)}).first->second.name;
}

namespace {
bool is_select(std::string_view sql) {
  std::size_t start = sql.find_first_not_of(" \t\n");
  if (start == std::string_view::npos || sql.size() - start < 6) return false;
  for (std::size_t i = 0; i < 6; ++i)
    if ((sql[start + i] & ~0x20) != "SELECT"[i]) return false;
  return true;
}
}  // namespace

void Conn::send(const char* sql, const Params& params) {
  if (conn_ == nullptr) throw StorageError("postgres: not connected");
  if (!is_select(sql)) ++writes_sent_;
  const std::string& name = prepared_name(sql, params);
  if (PQsendQueryPrepared(conn_, name.c_str(), params.size(), params.values(), params.lengths(),
                          params.formats(), /*resultFormat=*/1) != 1)
    fail(fmt::format("send ({:.120})", sql));
}

PGresult* Conn::take_result() {
  PGresult* r = PQgetResult(conn_);
  if (r == nullptr) return nullptr;
  // One statement, one result: the null that ends it follows.
  while (PGresult* extra = PQgetResult(conn_)) PQclear(extra);
  return r;
}

std::string Conn::drain_pending() {
  std::string first_error;
  while (pending_ > 0) {
    PGresult* r = take_result();
    if (r == nullptr) {
      pending_ = 0;
      return first_error.empty() ? "connection lost: " + trimmed(PQerrorMessage(conn_)) : first_error;
    }
    --pending_;
    ExecStatusType status = PQresultStatus(r);
    if (status == PGRES_FATAL_ERROR && first_error.empty()) first_error = trimmed(PQresultErrorMessage(r));
    PQclear(r);
  }
  return first_error;
}

void Conn::exec(const char* sql, const Params& params) {
  send(sql, params);
  if (pipeline_) {
    ++pending_;
    if (pending_ >= kMaxPending) {
      if (PQsendFlushRequest(conn_) != 1 || PQflush(conn_) != 0) fail("flush");
      if (std::string error = drain_pending(); !error.empty())
        throw StorageError(fmt::format("postgres: {}", error));
    }
    return;
  }
  PGresult* r = take_result();
  if (r == nullptr) fail(fmt::format("exec ({:.120})", sql));
  ExecStatusType status = PQresultStatus(r);
  if (status != PGRES_COMMAND_OK && status != PGRES_TUPLES_OK) {
    std::string message = trimmed(PQresultErrorMessage(r));
    PQclear(r);
    throw StorageError(fmt::format("postgres: {} (in: {:.120})", message, sql));
  }
  PQclear(r);
}

Rows Conn::query(const char* sql, const Params& params) {
  send(sql, params);
  std::string earlier_error;
  if (pipeline_) {
    if (PQsendFlushRequest(conn_) != 1 || PQflush(conn_) != 0) fail("flush");
    earlier_error = drain_pending();
  }
  PGresult* r = take_result();
  if (r == nullptr) fail(fmt::format("query ({:.120})", sql));
  if (!earlier_error.empty()) {
    PQclear(r);
    throw StorageError(fmt::format("postgres: {}", earlier_error));
  }
  ExecStatusType status = PQresultStatus(r);
  if (status != PGRES_TUPLES_OK && status != PGRES_COMMAND_OK) {
    std::string message = trimmed(PQresultErrorMessage(r));
    PQclear(r);
    throw StorageError(fmt::format("postgres: {} (in: {:.120})", message, sql));
  }
  return Rows(r);
}

void Conn::sync() {
  if (!pipeline_) return;
  if (PQpipelineSync(conn_) != 1) fail("sync");
  std::string error = drain_pending();
  PGresult* r = PQgetResult(conn_);
  if (r == nullptr) fail("sync");
  bool synced = PQresultStatus(r) == PGRES_PIPELINE_SYNC;
  PQclear(r);
  if (!error.empty()) throw StorageError(fmt::format("postgres: {}", error));
  if (!synced) throw StorageError("postgres: pipeline out of step");
}

void Conn::recover() {
  if (broken()) return;
  try {
    if (pipeline_) {
      // Queued statements after an error are skipped until the sync point; the sync then
      // leaves the aborted transaction waiting for ROLLBACK.
      try {
        sync();
      } catch (const StorageError&) {
      }
      exec("ROLLBACK");
      sync();
    } else {
      exec("ROLLBACK");
    }
  } catch (const StorageError&) {
    // Left for the caller to notice through broken() (or the next statement's error).
  }
}

}  // namespace modu::pg
