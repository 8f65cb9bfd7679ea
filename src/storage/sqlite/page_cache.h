// A page cache over SQLite's own that never files a page under the locking page's number.
//
// When SQLite splits a B-tree page it puts the new pages in page-number order, swapping two
// of them through a temporary number: the locking page's (the page holding byte 2^30 of the
// file, which never holds data). SQLite's default cache then remembers that number as the
// highest it holds, and at the end of every write transaction it drops the pages numbered
// past the database's end. In a database smaller than 1 GiB the locking page lies past the
// end by more than the cache's hash table has buckets, and the cache scans every bucket and
// every page it holds: tens of microseconds at each commit that split a page, which is most
// commits of a busy writer (a tenth of the committer's time in direct's profile).
//
// This cache passes every call on to SQLite's default one and files the page under number
// 0 instead for as long as it carries the locking page's number. No other page ever has
// number 0 or the locking page's number, so the mapping is one to one; the default cache's
// highest number stays at the database's end, and its trim at each commit looks at a few
// buckets. Nothing else changes: the same pages, limits and recycling.
#pragma once

#include <cstdint>

namespace modu::sqlite {

// Installs the cache, and sets SQLite's other process-wide options, once per process
// before SQLite initialises itself (Db's constructor and the write-gathering VFS's
// registration call it). Thread-safe. Returns false, and logs a warning, if other code
// initialised SQLite first, which leaves SQLite's defaults.
bool configure_sqlite();

// For tests: whether this process's connections cache their pages here, and how many
// times a page took the locking page's number.
bool page_cache_installed();
std::uint64_t pages_parked();

}  // namespace modu::sqlite
