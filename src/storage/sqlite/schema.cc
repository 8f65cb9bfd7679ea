#include "storage/sqlite/schema.h"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <array>
#include <cstdint>

namespace modu::sqlite {
namespace {

// Each entry moves the schema from version i to i+1. Never edit a released entry; append.
//
// Layout notes:
//  * Every chat-scoped table leads with chat_id, so one chat's rows cluster together here
//    and the same keys work as a distribution column on a sharded PostgreSQL. Messages are
//    the exception since v8: they are stored in arrival order, and their (chat_id, seq)
//    index clusters instead; a send appends rather than inserting into its chat's rows.
//  * members.pos is the last change of the chat a member can see; the (user_id, pos) index
//    answers "which of my chats changed since position P" without touching other chats.
//    Members of a wide chat (v5) see the later of that and chats.pos instead.
//  * messages.(client_id, sender_id) is unique: idempotent sends are decided by the same
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
    // v2: open chats and communities.
    //  * A membership may carry a room identity: public_id (the member id other members see),
    //    a nickname and avatar (the room profile), admin permissions, and when it began.
    //  * messages.hidden withholds a reported message; deleted_pos now records the position
    //    of any visibility change (delete, hide, restore), so sync reports all three.
    //  * open_rooms_search holds each room's words as n-grams (services/openchat/search.h) in
    //    an FTS5 table keyed by chat id: Korean words with attached particles match by
    //    substring, and a word of any length is one indexed lookup per n-gram.
    R"sql(
ALTER TABLE members ADD COLUMN public_id INTEGER NOT NULL DEFAULT 0;
ALTER TABLE members ADD COLUMN nickname TEXT;
ALTER TABLE members ADD COLUMN room_avatar TEXT NOT NULL DEFAULT '';
ALTER TABLE members ADD COLUMN permissions INTEGER NOT NULL DEFAULT 0;
ALTER TABLE members ADD COLUMN joined_at INTEGER NOT NULL DEFAULT 0;
CREATE INDEX members_by_public_id ON members(chat_id, public_id) WHERE public_id != 0;

ALTER TABLE messages ADD COLUMN hidden INTEGER NOT NULL DEFAULT 0;
DROP INDEX messages_deleted;
CREATE INDEX messages_moderated ON messages(chat_id, deleted_pos) WHERE deleted_pos != 0;

CREATE TABLE open_rooms (
  chat_id                 INTEGER PRIMARY KEY,
  code                    TEXT NOT NULL UNIQUE,
  description             TEXT NOT NULL,
  tags                    TEXT NOT NULL,   -- newline-separated
  cover                   TEXT NOT NULL,
  capacity                INTEGER NOT NULL,
  listed                  INTEGER NOT NULL,
  join_policy             TEXT NOT NULL,
  passcode_hash           TEXT NOT NULL,
  history_all             INTEGER NOT NULL,
  form                    TEXT NOT NULL,   -- one field per line: key, type, required, label (tab-separated)
  friend_of_staff         INTEGER NOT NULL,
  min_account_age_days    INTEGER NOT NULL,
  community_cap           INTEGER,
  slow_mode_seconds       INTEGER NOT NULL,
  report_threshold        INTEGER NOT NULL,
  application_ttl_seconds INTEGER NOT NULL,
  notice_text             TEXT NOT NULL,
  notice_by               INTEGER NOT NULL,
  notice_at               INTEGER NOT NULL,
  member_count            INTEGER NOT NULL,
  last_public_id          INTEGER NOT NULL,
  created_at              INTEGER NOT NULL
);
CREATE INDEX open_rooms_popular ON open_rooms(listed, member_count DESC, chat_id DESC);
CREATE VIRTUAL TABLE open_rooms_search USING fts5(terms, tokenize='ascii');

CREATE TABLE open_applications (
  id         INTEGER PRIMARY KEY,
  chat_id    INTEGER NOT NULL,
  user_id    INTEGER NOT NULL,
  state      TEXT NOT NULL,
  nickname   TEXT,
  avatar     TEXT NOT NULL,
  answers    TEXT NOT NULL,
  reason     TEXT NOT NULL,
  created_at INTEGER NOT NULL,
  expires_at INTEGER NOT NULL,
  decided_at INTEGER NOT NULL,
  decided_by INTEGER NOT NULL
);
CREATE INDEX open_applications_by_chat ON open_applications(chat_id, state, id);
CREATE INDEX open_applications_by_user ON open_applications(user_id, id);

CREATE TABLE open_bans (
  id      INTEGER PRIMARY KEY,
  chat_id INTEGER NOT NULL,
  user_id INTEGER NOT NULL,
  by_id   INTEGER NOT NULL,
  reason  TEXT NOT NULL,
  at      INTEGER NOT NULL,
  UNIQUE (chat_id, user_id)
);

CREATE TABLE open_reports (
  id          INTEGER PRIMARY KEY,
  chat_id     INTEGER NOT NULL,
  reporter_id INTEGER NOT NULL,
  target_id   INTEGER NOT NULL,
  seq         INTEGER NOT NULL,
  reason      TEXT NOT NULL,
  open        INTEGER NOT NULL,
  created_at  INTEGER NOT NULL,
  UNIQUE (chat_id, target_id, seq, reporter_id)
);
CREATE INDEX open_reports_by_chat ON open_reports(chat_id, open, id);
CREATE INDEX open_reports_by_target ON open_reports(target_id);

CREATE TABLE open_audit (
  id        INTEGER PRIMARY KEY,
  chat_id   INTEGER NOT NULL,
  at        INTEGER NOT NULL,
  actor_id  INTEGER NOT NULL,
  target_id INTEGER NOT NULL,
  action    TEXT NOT NULL,
  detail    TEXT NOT NULL
);
CREATE INDEX open_audit_by_chat ON open_audit(chat_id, id);

CREATE TABLE open_nicknames (
  user_id  INTEGER PRIMARY KEY,
  nickname TEXT NOT NULL,
  avatar   TEXT NOT NULL
);
)sql",
    // v3: chats.pos, the position of a chat's last change, so writers sharing a database
    // can tell which chats another one changed (store.h, CommitHooks::forget_chats); and
    // each member's last send in rooms with slow mode, which must hold across restarts.
    R"sql(
ALTER TABLE chats ADD COLUMN pos INTEGER NOT NULL DEFAULT 0;
CREATE INDEX chats_by_pos ON chats(pos);
CREATE TABLE open_last_sends (
  chat_id INTEGER NOT NULL,
  user_id INTEGER NOT NULL,
  at      INTEGER NOT NULL,
  PRIMARY KEY (chat_id, user_id)
) WITHOUT ROWID;
)sql",
    // v4: messages.pos, the position of the change that stored a message, so a sync can
    // carry the messages a device missed (ReadView::messages_since). Older messages keep 0.
    R"sql(
ALTER TABLE messages ADD COLUMN pos INTEGER NOT NULL DEFAULT 0;
)sql",
    // v5: wide chats. A big chat records its changes on its own row (chats.pos) and its
    // active members follow it (members.via_chat), so a send rewrites one row instead of one
    // per member; a sync reads the user's wide chats through the partial index. Chats that
    // already have 64 active members or more (the engine's threshold at the time) start wide.
    R"sql(
ALTER TABLE chats ADD COLUMN wide INTEGER NOT NULL DEFAULT 0;
ALTER TABLE members ADD COLUMN via_chat INTEGER NOT NULL DEFAULT 0;
UPDATE chats SET wide = 1
  WHERE (SELECT count(*) FROM members WHERE chat_id = chats.id AND active = 1) >= 64;
UPDATE members SET via_chat = 1
  WHERE active = 1 AND chat_id IN (SELECT id FROM chats WHERE wide = 1);
CREATE INDEX members_via_chat ON members(user_id) WHERE via_chat = 1;
)sql",
    // v6: the idempotency index leads with client_id. Clients make ids that start with the
    // send time (the web client does), so a batch of sends from many people inserts near
    // one end of this index, not into every sender's own leaf: under load that cut a third
    // of the bytes written (docs/benchmarks.md, entry 23). Same uniqueness, same lookups.
    R"sql(
DROP INDEX messages_by_client_id;
CREATE UNIQUE INDEX messages_by_client_id ON messages(client_id, sender_id);
)sql",
    // v7: no index on chats.pos. It finds the chats that another writer changed, and only
    // PostgreSQL has other writers: here it was rewritten twice (one entry out, one in) by
    // every message and never read (docs/benchmarks.md, entry 44). chats.pos stays.
    R"sql(
DROP INDEX IF EXISTS chats_by_pos;
)sql",
    // v8: messages in a rowid table, in the order they were stored, with a unique index by
    // (chat_id, seq). Keyed by chat, every message went into the middle of the table among its
    // chat's rows, so a batch of sends to many chats rewrote a full page of rows per message
    // and split them often. Now a batch appends its rows to the table's last pages and puts
    // one short entry per message into the index: about a tenth less CPU per send, and a
    // third less for checkpoints (docs/benchmarks.md, entry 44). The existing messages are
    // copied in (chat_id, seq) order, so each chat's history before the upgrade stays together.
    R"sql(
CREATE TABLE messages_v8 (
  chat_id     INTEGER NOT NULL,
  seq         INTEGER NOT NULL,
  sender_id   INTEGER NOT NULL,
  client_id   TEXT NOT NULL,
  kind        TEXT NOT NULL,
  text        TEXT NOT NULL,
  reply_to    INTEGER NOT NULL DEFAULT 0,
  created_at  INTEGER NOT NULL,
  deleted     INTEGER NOT NULL DEFAULT 0,
  deleted_pos INTEGER NOT NULL DEFAULT 0,
  hidden      INTEGER NOT NULL DEFAULT 0,
  pos         INTEGER NOT NULL DEFAULT 0
);
INSERT INTO messages_v8(chat_id, seq, sender_id, client_id, kind, text, reply_to, created_at,
                        deleted, deleted_pos, hidden, pos)
  SELECT chat_id, seq, sender_id, client_id, kind, text, reply_to, created_at, deleted,
         deleted_pos, hidden, pos
  FROM messages ORDER BY chat_id, seq;
DROP TABLE messages;
ALTER TABLE messages_v8 RENAME TO messages;
CREATE UNIQUE INDEX messages_by_chat ON messages(chat_id, seq);
CREATE UNIQUE INDEX messages_by_client_id ON messages(client_id, sender_id);
CREATE INDEX messages_moderated ON messages(chat_id, deleted_pos) WHERE deleted_pos != 0;
)sql",
    // v9: a chat's messages are found by seq through two tables of (chat_id, seq) -> rowid
    // instead of an index on messages. `timeline_tail` takes each new message, and the
    // committer files its entries into `timeline` a slice at a time, in key order, so that
    // each chat's leaf there is rewritten once for the several messages it gained since the
    // last sweep, not once per batch. The index's leaves were 84 % of the WAL's frames under
    // 1:1 load (docs/benchmarks.md, entry 46). Both tables are read together. The keys are
    // built from the messages table whatever an earlier run of this step left.
    R"sql(
DROP TABLE IF EXISTS timeline;
DROP TABLE IF EXISTS timeline_tail;
CREATE TABLE timeline (
  chat_id INTEGER NOT NULL,
  seq     INTEGER NOT NULL,
  msg     INTEGER NOT NULL,
  PRIMARY KEY (chat_id, seq)
) WITHOUT ROWID;
CREATE TABLE timeline_tail (
  chat_id INTEGER NOT NULL,
  seq     INTEGER NOT NULL,
  msg     INTEGER NOT NULL,
  PRIMARY KEY (chat_id, seq)
) WITHOUT ROWID;
INSERT INTO timeline(chat_id, seq, msg) SELECT chat_id, seq, rowid FROM messages ORDER BY chat_id, seq;
DROP INDEX IF EXISTS messages_by_chat;
)sql",
};

// The messages stored, as `sql` counts them.
std::int64_t count_messages(Db& db, const char* sql) {
  auto count = db.prepare(sql);
  return count.step() ? count.int64(0) : 0;
}

// Seconds for `messages` at `per_million` seconds a million, at least one.
std::int64_t estimate_seconds(std::int64_t messages, std::int64_t per_million) {
  return std::max<std::int64_t>(1, messages * per_million / 1'000'000);
}

// Before a step that takes long on a big database, says how long, on an existing database
// only (`version` > 0): a fresh one runs every step on empty tables.
void announce_step(Db& db, int version) {
  if (version == 7) {
    std::int64_t messages = count_messages(db, "SELECT count(*) FROM messages");
    if (messages >= 100'000)
      spdlog::info("schema version 8 copies all {} messages into a new table: about {} s here "
                   "(3 s per million on two cores), with about as much free disk as they take",
                   messages, estimate_seconds(messages, 3));
  } else if (version == 8) {
    // Rows are only ever appended since v8: the last rowid is the count, without a scan.
    std::int64_t messages = count_messages(db, "SELECT coalesce(max(rowid), 0) FROM messages");
    if (messages >= 1'000'000)
      spdlog::info("schema version 9 copies the (chat, seq) keys of all {} messages into a new "
                   "table: about {} s here (1 s per million on two cores)",
                   messages, estimate_seconds(messages, 1));
  }
}

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
  // A fresh database is created silently; an existing one says what is happening, since
  // a step may rebuild an index over every message.
  if (version > 0 && version < latest_schema_version())
    spdlog::info("upgrading the data directory from schema version {} to {}", version,
                 latest_schema_version());
  for (int v = version; v < latest_schema_version(); ++v) {
    db.exec("BEGIN IMMEDIATE");
    try {
      if (version > 0) announce_step(db, v);
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
