// A VFS over SQLite's default one that gathers a connection's writes to its WAL file and
// passes them on in one call.
//
// SQLite writes each WAL frame with two calls, its 24-byte header and then the page, so a
// commit that changes a thousand pages makes two thousand system calls. Through this VFS the
// frames of a commit reach the file in one write per 31 frames (the most one write of the
// default VFS may carry), the last made when SQLite syncs the WAL at the commit.
//
// Safe only for a connection that syncs the WAL at every commit (`PRAGMA synchronous =
// FULL`). SQLite publishes a commit to other connections (the wal-index header) after that
// sync, so no other connection can look for a frame that is still gathered here. Any other
// call on the same file (a read, size query, truncate, file control, close) and any write
// that does not continue the gathered bytes first pass on what is gathered, so the writing
// connection always sees its own writes. Files other than WALs are the default VFS's own.
#pragma once

#include <cstdint>

namespace modu::sqlite {

// The VFS's name, for sqlite3_open_v2. Registers it (not as the default) on first use;
// thread-safe.
const char* wal_gather_vfs();

// Writes this VFS has passed on to WAL files since the process started (for tests).
std::uint64_t wal_gather_writes();

}  // namespace modu::sqlite
