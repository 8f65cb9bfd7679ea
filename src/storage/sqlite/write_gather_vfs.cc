#include "storage/sqlite/write_gather_vfs.h"

#include "storage/sqlite/page_cache.h"

#include <sqlite3.h>

#include <atomic>
#include <mutex>
#include <new>
#include <string>

namespace modu::sqlite {
namespace {

// The most one write may pass on: the default (unix) VFS takes at most 0x1ffff bytes per
// write (its seekAndWriteFd masks the length with it). That is 31 frames of 4 KiB pages.
constexpr std::size_t kGatherLimit = 0x1ffff;

std::atomic<std::uint64_t> g_writes{0};

// The file SQLite allocates (the VFS's szOsFile): this header, then the default VFS's own
// file for the same path.
struct GatherFile {
  sqlite3_file base;
  sqlite3_file* inner;
  std::string* gathered;      // bytes not yet passed on
  sqlite3_int64 gathered_at;  // their offset in the file
};
static_assert(sizeof(GatherFile) % 8 == 0, "the default VFS's file follows, 8-byte aligned");

GatherFile* gather(sqlite3_file* f) { return reinterpret_cast<GatherFile*>(f); }
sqlite3_file* inner(sqlite3_file* f) { return gather(f)->inner; }
const sqlite3_io_methods& inner_io(sqlite3_file* f) { return *inner(f)->pMethods; }

int pass_on(sqlite3_file* f) {
  GatherFile* g = gather(f);
  if (g->gathered->empty()) return SQLITE_OK;
  int rc = inner_io(f).xWrite(g->inner, g->gathered->data(), static_cast<int>(g->gathered->size()),
                              g->gathered_at);
  g->gathered->clear();  // keeps its capacity for the next commit
  g_writes.fetch_add(1, std::memory_order_relaxed);
  return rc;
}

int gather_write(sqlite3_file* f, const void* data, int amount, sqlite3_int64 offset) {
  GatherFile* g = gather(f);
  auto n = static_cast<std::size_t>(amount);
  std::string& gathered = *g->gathered;
  if (!gathered.empty() && offset == g->gathered_at + static_cast<sqlite3_int64>(gathered.size()) &&
      gathered.size() + n <= kGatherLimit) {
    gathered.append(static_cast<const char*>(data), n);
    return SQLITE_OK;
  }
  if (int rc = pass_on(f); rc != SQLITE_OK) return rc;
  if (n > kGatherLimit) {
    g_writes.fetch_add(1, std::memory_order_relaxed);
    return inner_io(f).xWrite(g->inner, data, amount, offset);
  }
  gathered.assign(static_cast<const char*>(data), n);
  g->gathered_at = offset;
  return SQLITE_OK;
}

int gather_close(sqlite3_file* f) {
  GatherFile* g = gather(f);
  int rc = pass_on(f);
  int closed = inner_io(f).xClose(g->inner);
  delete g->gathered;
  g->gathered = nullptr;
  return rc != SQLITE_OK ? rc : closed;
}

int gather_read(sqlite3_file* f, void* out, int amount, sqlite3_int64 offset) {
  if (int rc = pass_on(f); rc != SQLITE_OK) return rc;
  return inner_io(f).xRead(inner(f), out, amount, offset);
}
int gather_truncate(sqlite3_file* f, sqlite3_int64 size) {
  if (int rc = pass_on(f); rc != SQLITE_OK) return rc;
  return inner_io(f).xTruncate(inner(f), size);
}
int gather_sync(sqlite3_file* f, int flags) {
  if (int rc = pass_on(f); rc != SQLITE_OK) return rc;
  return inner_io(f).xSync(inner(f), flags);
}
int gather_file_size(sqlite3_file* f, sqlite3_int64* size) {
  if (int rc = pass_on(f); rc != SQLITE_OK) return rc;
  return inner_io(f).xFileSize(inner(f), size);
}
int gather_lock(sqlite3_file* f, int level) { return inner_io(f).xLock(inner(f), level); }
int gather_unlock(sqlite3_file* f, int level) {
  if (int rc = pass_on(f); rc != SQLITE_OK) return rc;
  return inner_io(f).xUnlock(inner(f), level);
}
int gather_check_reserved_lock(sqlite3_file* f, int* out) {
  return inner_io(f).xCheckReservedLock(inner(f), out);
}
int gather_file_control(sqlite3_file* f, int op, void* arg) {
  if (int rc = pass_on(f); rc != SQLITE_OK) return rc;
  return inner_io(f).xFileControl(inner(f), op, arg);
}
int gather_sector_size(sqlite3_file* f) { return inner_io(f).xSectorSize(inner(f)); }
int gather_device_characteristics(sqlite3_file* f) {
  return inner_io(f).xDeviceCharacteristics(inner(f));
}
int gather_shm_map(sqlite3_file* f, int region, int size, int extend, void volatile** out) {
  return inner_io(f).xShmMap(inner(f), region, size, extend, out);
}
int gather_shm_lock(sqlite3_file* f, int offset, int n, int flags) {
  return inner_io(f).xShmLock(inner(f), offset, n, flags);
}
void gather_shm_barrier(sqlite3_file* f) { inner_io(f).xShmBarrier(inner(f)); }
int gather_shm_unmap(sqlite3_file* f, int delete_flag) {
  return inner_io(f).xShmUnmap(inner(f), delete_flag);
}
int gather_fetch(sqlite3_file* f, sqlite3_int64 offset, int amount, void** out) {
  if (int rc = pass_on(f); rc != SQLITE_OK) return rc;
  return inner_io(f).xFetch(inner(f), offset, amount, out);
}
int gather_unfetch(sqlite3_file* f, sqlite3_int64 offset, void* page) {
  return inner_io(f).xUnfetch(inner(f), offset, page);
}

const sqlite3_io_methods kGatherMethods = {
    3,
    gather_close,
    gather_read,
    gather_write,
    gather_truncate,
    gather_sync,
    gather_file_size,
    gather_lock,
    gather_unlock,
    gather_check_reserved_lock,
    gather_file_control,
    gather_sector_size,
    gather_device_characteristics,
    gather_shm_map,
    gather_shm_lock,
    gather_shm_barrier,
    gather_shm_unmap,
    gather_fetch,
    gather_unfetch,
};

sqlite3_vfs* base(sqlite3_vfs* vfs) { return static_cast<sqlite3_vfs*>(vfs->pAppData); }

int gather_open(sqlite3_vfs* vfs, sqlite3_filename name, sqlite3_file* file, int flags,
                int* out_flags) {
  sqlite3_vfs* b = base(vfs);
  if ((flags & (SQLITE_OPEN_WAL | SQLITE_OPEN_MAIN_DB)) == 0)
    return b->xOpen(b, name, file, flags, out_flags);
  GatherFile* g = gather(file);
  g->base.pMethods = nullptr;
  g->inner = reinterpret_cast<sqlite3_file*>(g + 1);
  g->gathered = new (std::nothrow) std::string();
  g->gathered_at = 0;
  if (g->gathered == nullptr) return SQLITE_NOMEM;
  int rc = b->xOpen(b, name, g->inner, flags, out_flags);
  if (rc != SQLITE_OK) {
    if (g->inner->pMethods != nullptr) g->inner->pMethods->xClose(g->inner);
    delete g->gathered;
    g->gathered = nullptr;
    return rc;
  }
  g->base.pMethods = &kGatherMethods;
  return SQLITE_OK;
}

sqlite3_vfs make_vfs(sqlite3_vfs* b) {
  sqlite3_vfs v{};
  v.iVersion = 3;
  v.szOsFile = static_cast<int>(sizeof(GatherFile)) + b->szOsFile;
  v.mxPathname = b->mxPathname;
  v.zName = "modu-write-gather";
  v.pAppData = b;
  v.xOpen = gather_open;
  v.xDelete = [](sqlite3_vfs* s, const char* n, int sync) { return base(s)->xDelete(base(s), n, sync); };
  v.xAccess = [](sqlite3_vfs* s, const char* n, int flags, int* out) {
    return base(s)->xAccess(base(s), n, flags, out);
  };
  v.xFullPathname = [](sqlite3_vfs* s, const char* n, int size, char* out) {
    return base(s)->xFullPathname(base(s), n, size, out);
  };
  v.xDlOpen = [](sqlite3_vfs* s, const char* n) { return base(s)->xDlOpen(base(s), n); };
  v.xDlError = [](sqlite3_vfs* s, int size, char* out) { base(s)->xDlError(base(s), size, out); };
  v.xDlSym = [](sqlite3_vfs* s, void* h, const char* sym) { return base(s)->xDlSym(base(s), h, sym); };
  v.xDlClose = [](sqlite3_vfs* s, void* h) { base(s)->xDlClose(base(s), h); };
  v.xRandomness = [](sqlite3_vfs* s, int size, char* out) { return base(s)->xRandomness(base(s), size, out); };
  v.xSleep = [](sqlite3_vfs* s, int us) { return base(s)->xSleep(base(s), us); };
  v.xCurrentTime = [](sqlite3_vfs* s, double* out) { return base(s)->xCurrentTime(base(s), out); };
  v.xGetLastError = [](sqlite3_vfs* s, int size, char* out) {
    return base(s)->xGetLastError(base(s), size, out);
  };
  v.xCurrentTimeInt64 = [](sqlite3_vfs* s, sqlite3_int64* out) {
    return base(s)->xCurrentTimeInt64(base(s), out);
  };
  v.xSetSystemCall = [](sqlite3_vfs* s, const char* n, sqlite3_syscall_ptr p) {
    return base(s)->xSetSystemCall(base(s), n, p);
  };
  v.xGetSystemCall = [](sqlite3_vfs* s, const char* n) { return base(s)->xGetSystemCall(base(s), n); };
  v.xNextSystemCall = [](sqlite3_vfs* s, const char* n) { return base(s)->xNextSystemCall(base(s), n); };
  return v;
}

}  // namespace

const char* write_gather_vfs() {
  static sqlite3_vfs vfs;
  static std::once_flag once;
  std::call_once(once, [] {
    configure_sqlite();  // before sqlite3_vfs_find initialises SQLite
    sqlite3_vfs* b = sqlite3_vfs_find(nullptr);
    vfs = make_vfs(b);
    sqlite3_vfs_register(&vfs, 0);
  });
  return vfs.zName;
}

std::uint64_t gathered_writes_passed_on() { return g_writes.load(std::memory_order_relaxed); }

}  // namespace modu::sqlite
