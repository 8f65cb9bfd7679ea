#include "app/admin.h"

#include <fmt/format.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <future>
#include <memory>

#include "modu/store.h"
#include "services/accounts/accounts.h"
#include "services/accounts/credentials.h"
#include "services/chat/chat_engine.h"

namespace modu {
namespace {

struct AdminOptions {
  std::string data_dir = "modu-data";
  std::string store;  // a PostgreSQL URI instead of data_dir
  std::vector<std::string> shards;  // its shards 1, 2, …
  std::string handle;
  std::string password;
  std::string display_name;
  std::int64_t limit = 1000;
};

// Whether a command may run beside a server on the same data directory.
enum class Access { kReads, kWrites };

// The store the options name: --store (PostgreSQL) or else --data. A command that writes
// takes the data directory's lock, so it fails while a server runs there.
std::unique_ptr<Store> open_or_report(const AdminOptions& o, Access access) {
  auto store = o.store.empty() ? open_sqlite_store(SqliteOptions{.directory = o.data_dir,
                                                                 .lock_directory = access == Access::kWrites,
                                                                 .create_if_missing = access == Access::kWrites})
                               : open_postgres_store(PostgresOptions{.dsn = o.store, .more_shards = o.shards});
  if (!store.ok()) {
    if (o.store.empty() && store.error().code == ErrorCode::kInvalidState)  // no database there
      fmt::print(stderr, "error: {} (is --data right? `modu serve --data DIR` starts a new one)\n",
                 store.error().message);
    else if (o.store.empty())
      fmt::print(stderr, "error: cannot open data directory '{}': {}\n", o.data_dir, store.error().message);
    else
      fmt::print(stderr, "error: cannot open the PostgreSQL store: {}\n", store.error().message);
    return nullptr;
  }
  return std::move(store).value();
}

int create_user(const AdminOptions& o) {
  if (!init_crypto()) return 1;
  auto handle = normalize_handle(o.handle);
  if (!handle) {
    fmt::print(stderr, "error: handles are 3-32 characters: a-z, 0-9, '_' and '.'\n");
    return 2;
  }
  if (o.password.size() < kMinPasswordBytes || o.password.size() > kMaxPasswordBytes) {
    fmt::print(stderr, "error: passwords are {}-{} bytes\n", kMinPasswordBytes, kMaxPasswordBytes);
    return 2;
  }
  auto hash = hash_password(o.password, PasswordCost{});
  if (!hash) return 1;
  auto store = open_or_report(o, Access::kWrites);
  if (!store) return 1;
  ChatEngine engine;
  store->set_hooks(CommitHooks{.before_commit = [&engine](WriteTx& tx) { engine.flush(tx); },
                               .after_abort = [&engine] { engine.forget_all(); }});
  std::promise<Result<UserRecord>> result;
  std::string name = o.display_name.empty() ? *handle : o.display_name;
  auto user = std::make_shared<std::optional<Result<UserRecord>>>();
  store->submit(WriteJob{
      .apply = [&, user](WriteTx& tx) -> Status {
        auto r = create_account(tx, engine, *handle, *hash, name, [] {
          return std::chrono::duration_cast<std::chrono::milliseconds>(
                     std::chrono::system_clock::now().time_since_epoch()).count();
        }());
        if (!r.ok()) return r.error();
        user->emplace(std::move(r));
        return ok_status();
      },
      .done = [&result, user](const Status& s) {
        if (!s.ok()) result.set_value(s.error()); else result.set_value(std::move(**user));
      },
      .placement = store->new_user_placement(*handle),
  });
  auto r = result.get_future().get();
  store->stop();
  if (!r.ok()) {
    fmt::print(stderr, "error: {}\n", r.error().message);
    return 1;
  }
  fmt::print("created user {} (id {})\n", r->handle, r->id.value);
  return 0;
}

int list_users(const AdminOptions& o) {
  auto store = open_or_report(o, Access::kReads);
  if (!store) return 1;
  auto users = store->reader().list_users(o.limit, UserId());
  // Ids of a store split into shards are large (ids.h): the column is as wide as the widest.
  std::size_t width = 2;
  for (const auto& u : users) width = std::max(width, std::to_string(u.id.value).size());
  fmt::print("{:>{}}  {:<32}  {}\n", "ID", width, "HANDLE", "DISPLAY NAME");
  for (const auto& u : users) fmt::print("{:>{}}  {:<32}  {}\n", u.id.value, width, u.handle, u.display_name);
  fmt::print("{} user(s)\n", users.size());
  return 0;
}

int stats(const AdminOptions& o) {
  auto store = open_or_report(o, Access::kReads);
  if (!store) return 1;
  auto s = store->reader().stats();
  fmt::print("users:     {}\ndevices:   {}\nchats:     {}\nmessages:  {}\ndisk:      {:.1f} MiB\n", s.users,
             s.devices, s.chats, s.messages, static_cast<double>(s.bytes_on_disk) / (1 << 20));
  return 0;
}

int check(const AdminOptions& o) {
  auto store = open_or_report(o, Access::kReads);
  if (!store) return 1;
  fmt::print("checking {} ...\n", o.store.empty() ? o.data_dir : std::string("the PostgreSQL store"));
  std::vector<std::string> problems;
  try {
    problems = store->reader().check_integrity();
  } catch (const std::exception& e) {
    fmt::print(stderr, "error: the check could not run: {}\n", e.what());
    return 1;
  }
  for (const auto& p : problems) fmt::print("problem: {}\n", p);
  if (problems.empty()) {
    fmt::print("ok: no problems found\n");
    return 0;
  }
  fmt::print("{} problem(s) found\n", problems.size());
  return 1;
}

std::string mib(std::int64_t bytes) { return fmt::format("{:.1f} MiB", static_cast<double>(bytes) / (1 << 20)); }

int compact(const AdminOptions& o) {
  if (!o.store.empty()) {
    fmt::print(stderr, "error: compact is for the embedded store (--data); PostgreSQL gives space back "
                       "itself (autovacuum), or by hand with VACUUM FULL\n");
    return 2;
  }
  auto started = std::chrono::steady_clock::now();
  CompactProgress progress;
  progress.starting = [&o](const CompactReport& before) {
    fmt::print("compacting {}: {}, of which {} are free pages; writing a copy without them ...\n",
               o.data_dir, mib(before.bytes_before), mib(before.free_bytes_before));
    std::fflush(stdout);
  };
  int tenths_told = 0;  // a line each tenth of the copy
  progress.copied = [&tenths_told](std::int64_t written, std::int64_t expected) {
    int tenths = expected > 0 ? static_cast<int>(std::min<std::int64_t>(9, written * 10 / expected)) : 0;
    if (tenths <= tenths_told) return;
    tenths_told = tenths;
    fmt::print("  {:3d} %  {} of about {}\n", tenths * 10, mib(written), mib(expected));
    std::fflush(stdout);
  };
  auto r = compact_sqlite_store(o.data_dir, progress);
  if (!r.ok()) {
    fmt::print(stderr, "error: cannot compact '{}': {}\n", o.data_dir, r.error().message);
    return 1;
  }
  if (r->free_bytes_before == 0) {
    fmt::print("nothing to give back: {} ({}) has no free pages\n", o.data_dir, mib(r->bytes_before));
    return 0;
  }
  double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  fmt::print("done in {:.1f} s: {} now, {} given back\n", seconds, mib(r->bytes_after),
             mib(r->bytes_before - r->bytes_after));
  return 0;
}

}  // namespace

void add_admin_commands(CLI::App& admin, int& exit_code) {
  auto o = std::make_shared<AdminOptions>();
  admin.add_option("--data", o->data_dir, "Data directory")->envname("MODU_DATA")->capture_default_str();
  admin.add_option("--store", o->store, "PostgreSQL URI (postgres://user@host:port/db) instead of --data")
      ->envname("MODU_STORE");
  admin.add_option("--shard", o->shards, "Another PostgreSQL URI: the next shard of --store (repeat in order)")
      ->envname("MODU_SHARDS")->delimiter(' ')->allow_extra_args(false);
  admin.require_subcommand(1);
  // `modu admin stats --data DIR` as well as `modu admin --data DIR stats`: the subcommands
  // created below inherit this, so the store's options may follow them.
  admin.fallthrough();

  auto* users = admin.add_subcommand("users", "Manage user accounts");
  users->require_subcommand(1);
  auto* create = users->add_subcommand("create", "Create a user (with their memo chat)");
  create->add_option("handle", o->handle, "Handle: 3-32 of a-z, 0-9, '_' and '.'")->required();
  create->add_option("--password", o->password, "Password (8-256 bytes)")->required()->envname("MODU_ADMIN_PASSWORD");
  create->add_option("--name", o->display_name, "Display name (default: the handle)");
  create->callback([o, &exit_code] { exit_code = create_user(*o); });
  auto* list = users->add_subcommand("list", "List users");
  list->add_option("--limit", o->limit, "At most this many")->capture_default_str();
  list->callback([o, &exit_code] { exit_code = list_users(*o); });

  admin.add_subcommand("stats", "Count users, devices, chats, messages and size on disk")
      ->callback([o, &exit_code] { exit_code = stats(*o); });
  admin.add_subcommand("check", "Check the store's integrity (SQLite and Modu's own invariants)")
      ->callback([o, &exit_code] { exit_code = check(*o); });
  admin.add_subcommand("compact", "Give back the embedded store's free pages to the disk (a copy without "
                                  "them replaces the file; stop the server first)")
      ->callback([o, &exit_code] { exit_code = compact(*o); });
}

}  // namespace modu
