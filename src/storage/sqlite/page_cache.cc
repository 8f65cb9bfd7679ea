#include "storage/sqlite/page_cache.h"

#include <spdlog/spdlog.h>
#include <sqlite3.h>

#include <atomic>
#include <mutex>

namespace modu::sqlite {
namespace {

// SQLite's default cache, which does the work.
sqlite3_pcache_methods2 g_default{};
bool g_installed = false;
std::atomic<std::uint64_t> g_parked{0};

// SQLite locks the byte at 2^30 (PENDING_BYTE in its source); the page holding it never
// holds data.
constexpr long long kPendingByte = 0x40000000;
// No page has number 0: SQLite numbers pages from 1.
constexpr unsigned kParkedNumber = 0;

struct Cache {
  sqlite3_pcache* inner;
  unsigned locking_page;
};

Cache* cache(sqlite3_pcache* p) { return reinterpret_cast<Cache*>(p); }

unsigned filed_as(const Cache* c, unsigned number) {
  return number == c->locking_page ? kParkedNumber : number;
}

int init(void*) { return g_default.xInit(g_default.pArg); }
void shutdown(void*) { g_default.xShutdown(g_default.pArg); }

sqlite3_pcache* create(int page_size, int extra_size, int purgeable) {
  auto* c = static_cast<Cache*>(sqlite3_malloc(sizeof(Cache)));
  if (c == nullptr) return nullptr;
  c->inner = g_default.xCreate(page_size, extra_size, purgeable);
  if (c->inner == nullptr) {
    sqlite3_free(c);
    return nullptr;
  }
  c->locking_page = static_cast<unsigned>(kPendingByte / page_size + 1);
  return reinterpret_cast<sqlite3_pcache*>(c);
}

void cachesize(sqlite3_pcache* p, int pages) { g_default.xCachesize(cache(p)->inner, pages); }

int pagecount(sqlite3_pcache* p) { return g_default.xPagecount(cache(p)->inner); }

sqlite3_pcache_page* fetch(sqlite3_pcache* p, unsigned number, int create_flag) {
  Cache* c = cache(p);
  return g_default.xFetch(c->inner, filed_as(c, number), create_flag);
}

void unpin(sqlite3_pcache* p, sqlite3_pcache_page* page, int discard) {
  g_default.xUnpin(cache(p)->inner, page, discard);
}

void rekey(sqlite3_pcache* p, sqlite3_pcache_page* page, unsigned from, unsigned to) {
  Cache* c = cache(p);
  if (to == c->locking_page) g_parked.fetch_add(1, std::memory_order_relaxed);
  g_default.xRekey(c->inner, page, filed_as(c, from), filed_as(c, to));
}

void truncate(sqlite3_pcache* p, unsigned limit) { g_default.xTruncate(cache(p)->inner, limit); }

void destroy(sqlite3_pcache* p) {
  Cache* c = cache(p);
  g_default.xDestroy(c->inner);
  sqlite3_free(c);
}

void shrink(sqlite3_pcache* p) { g_default.xShrink(cache(p)->inner); }

bool configure_once() {
  // SQLite's memory statistics take a global mutex on every allocation; nothing here reads
  // them.
  if (sqlite3_config(SQLITE_CONFIG_MEMSTATUS, 0) != SQLITE_OK) return false;
  if (sqlite3_config(SQLITE_CONFIG_GETPCACHE2, &g_default) != SQLITE_OK || g_default.iVersion < 1)
    return false;
  static const sqlite3_pcache_methods2 methods{
      1, nullptr, init, shutdown, create, cachesize, pagecount, fetch, unpin, rekey, truncate,
      destroy, shrink};
  g_installed = sqlite3_config(SQLITE_CONFIG_PCACHE2, &methods) == SQLITE_OK;
  return g_installed;
}

}  // namespace

bool configure_sqlite() {
  static std::once_flag once;
  static bool configured = false;
  std::call_once(once, [] {
    configured = configure_once();
    if (!configured)
      spdlog::warn("SQLite was initialised before Modu configured it: its default page cache "
                   "and memory statistics stay on");
  });
  return configured;
}

bool page_cache_installed() { return g_installed; }

std::uint64_t pages_parked() { return g_parked.load(std::memory_order_relaxed); }

}  // namespace modu::sqlite
