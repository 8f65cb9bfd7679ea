#include "storage/sqlite/schema.h"

#include <fmt/format.h>

#include <array>

namespace modu::sqlite {
namespace {

// Each entry moves the schema from version i to i+1. Never edit a released entry; append.
//
// Layout notes:
//  * Every chat-scoped table leads with chat_id, so one chat's rows cluster together here
//    and the same keys work as a distribution column on a sharded PostgreSQL.
//  * members.pos is the last change of the chat a member can see; the (user_id, pos) index
//    answers "which of my chats changed since position P" without touching other chats.
//  * messages.(sender_id, client_id) is unique: idempotent sends are decided by the same
//    transaction that stores the message.
constexpr std::array kMigrations = {
    R"sql(
CREATE TABLE meta (
  key   TEXT PRIMARY KEY,
  value INTEGER NOT NULL
) WITHOUT ROWID;
INSERT INTO meta(key, value) VALUES ('pos', 0);

CREATE TABLE users (
  id             INTEGER PRIMARY KEY,
  handle         TEXT NOT NULL UNIQUE,
  password_hash  TEXT NOT NULL,
  display_name   TEXT NOT NULL,
  status_message TEXT NOT NULL DEFAULT '',
  avatar         TEXT NOT NULL DEFAULT '',
  created_at     INTEGER NOT NULL,
  profile_pos    INTEGER NOT NULL DEFAULT 0
);

CREATE TABLE devices (
  id           INTEGER PRIMARY KEY,
  user_id      INTEGER NOT NULL,
  kind         TEXT NOT NULL,
  name         TEXT NOT NULL,
  token_hash   BLOB NOT NULL UNIQUE,
  created_at   INTEGER NOT NULL,
  last_seen_at INTEGER NOT NULL,
  revoked      INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX devices_by_user ON devices(user_id);

CREATE TABLE friends (
  owner_id   INTEGER NOT NULL,
  friend_id  INTEGER NOT NULL,
  active     INTEGER NOT NULL,
  created_at INTEGER NOT NULL,
  pos        INTEGER NOT NULL,
  PRIMARY KEY (owner_id, friend_id)
) WITHOUT ROWID;
CREATE INDEX friends_by_owner_pos ON friends(owner_id, pos);
CREATE INDEX friends_by_friend ON friends(friend_id);

CREATE TABLE chats (
  id               INTEGER PRIMARY KEY,
  kind             TEXT NOT NULL,
  title            TEXT NOT NULL DEFAULT '',
  created_by       INTEGER NOT NULL,
  created_at       INTEGER NOT NULL,
  last_seq         INTEGER NOT NULL DEFAULT 0,
  last_activity_at INTEGER NOT NULL,
  direct_key       TEXT UNIQUE,
  settings         TEXT NOT NULL DEFAULT '{}'
);

CREATE TABLE members (
  chat_id    INTEGER NOT NULL,
  user_id    INTEGER NOT NULL,
  role       TEXT NOT NULL,
  joined_seq INTEGER NOT NULL,
  read_seq   INTEGER NOT NULL,
  active     INTEGER NOT NULL,
  pos        INTEGER NOT NULL,
  PRIMARY KEY (chat_id, user_id)
) WITHOUT ROWID;
CREATE INDEX members_by_user_pos ON members(user_id, pos);
CREATE INDEX members_by_user_active ON members(user_id, active);

CREATE TABLE messages (
  chat_id    INTEGER NOT NULL,
  seq        INTEGER NOT NULL,
  sender_id  INTEGER NOT NULL,
  client_id  TEXT NOT NULL,
  kind       TEXT NOT NULL,
  text       TEXT NOT NULL,
  reply_to   INTEGER NOT NULL DEFAULT 0,
  created_at INTEGER NOT NULL,
  deleted    INTEGER NOT NULL DEFAULT 0,
  deleted_pos INTEGER NOT NULL DEFAULT 0,
  PRIMARY KEY (chat_id, seq)
) WITHOUT ROWID;
CREATE UNIQUE INDEX messages_by_client_id ON messages(sender_id, client_id);
CREATE INDEX messages_deleted ON messages(chat_id, deleted_pos) WHERE deleted = 1;
)sql",
};

}  // namespace

int latest_schema_version() { return static_cast<int>(kMigrations.size()); }

void migrate(Db& db) {
  int version = 0;
  {
    auto stmt = db.prepare("PRAGMA user_version");
    if (stmt.step()) version = static_cast<int>(stmt.int64(0));
  }
  if (version > latest_schema_version())
    throw StorageError(fmt::format(
        "the data directory has schema version {}, newer than this build's {}; upgrade modu",
        version, latest_schema_version()));
  for (int v = version; v < latest_schema_version(); ++v) {
    db.exec("BEGIN IMMEDIATE");
    try {
      db.exec(kMigrations[static_cast<std::size_t>(v)]);
      db.exec(fmt::format("PRAGMA user_version = {}", v + 1));
      db.exec("COMMIT");
    } catch (...) {
      sqlite3_exec(db.raw(), "ROLLBACK", nullptr, nullptr, nullptr);
      throw;
    }
  }
}

}  // namespace modu::sqlite
