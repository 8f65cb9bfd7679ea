// A VFS over SQLite's default one that gathers a connection's writes to its WAL and
// database files, and passes each run of contiguous bytes on in one call.
//
// SQLite writes each WAL frame with two calls, its 24-byte header and then the page, so a
// commit that changes a thousand pages makes two thousand system calls. A checkpoint copies
// pages into the database file one call per page, in page order, and about half of them
// follow the page before. Through this VFS the frames of a commit reach the file in one
// write per 31 frames (the most one write of the default VFS may carry), the last made when
// SQLite syncs the WAL at the commit, and a checkpoint's adjacent pages go in one write per
// run of up to 31 pages.
//
// Safe only for a connection that syncs at every commit and checkpoint (`PRAGMA synchronous
// = FULL`):
//  * SQLite publishes a commit to other connections (the wal-index header) after it syncs
//    the WAL, so no other connection can look for a frame that is still gathered here;
//  * a checkpoint calls a file control on the database file (SQLITE_FCNTL_CKPT_DONE), which
//    passes on what is gathered, before it marks the copied frames as backfilled; until
//    then every reader takes those pages from the WAL, never from the database file. (A
//    checkpoint that stops short of the WAL's end does not sync the database file; the
//    store's checkpointer syncs it after each one.) In rollback-journal mode, other
//    connections read only after this one unlocks.
// Any other call on the same file (a read, size query, truncate, sync, unlock, file
// control, close) and any write that does not continue the gathered bytes first pass on
// what is gathered, so the connection always sees its own writes. Journals and temporary
// files are the default VFS's own.
#pragma once

#include <cstdint>

namespace modu::sqlite {

// The VFS's name, for sqlite3_open_v2. Registers it (not as the default) on first use;
// thread-safe.
const char* write_gather_vfs();

// Writes this VFS has passed on to WAL and database files since the process started (for
// tests).
std::uint64_t gathered_writes_passed_on();

}  // namespace modu::sqlite
