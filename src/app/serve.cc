// The wiring of one server process. Parts are built here and handed their dependencies;
// nothing is global. Construction order is the dependency order; shutdown runs in reverse:
// stop accepting and close connections, finish queued writes, then tear down.
#include "app/serve.h"

#include <boost/asio/signal_set.hpp>
#include <boost/asio/thread_pool.hpp>
#include <spdlog/spdlog.h>

#include <cstdio>
#include <filesystem>
#include <optional>
#include <thread>
#include <chrono>

#include "cluster/nats_bus.h"
#include "net/loop_scheduler.h"
#include "net/server.h"
#include "realtime/hub.h"
#include "services/accounts/accounts_ops.h"
#include "services/accounts/credentials.h"
#include "services/chat/chat_engine.h"
#include "services/chat/chat_ops.h"
#include "services/openchat/open_chat_ops.h"
#include "services/social/social_ops.h"

namespace modu {

int run_serve(ServeConfig config) {
  if (!init_crypto()) {
    spdlog::critical("libsodium failed to initialise");
    return 1;
  }
  const bool postgres = !config.store.empty();
  if (!config.net.web_root.empty() && !std::filesystem::is_directory(config.net.web_root)) {
    spdlog::warn("web client directory '{}' does not exist; serving the API only", config.net.web_root);
    config.net.web_root.clear();
  }
  // Declared in this order so that they are torn down in reverse: the server's loops (which
  // may run the store's commits) stop before the engine and the store go.
  std::unique_ptr<Store> store;
  Metrics metrics;
  ChatEngine engine;
  std::optional<Hub> hub;  // declared before the server: it must outlive the connections
  Server server(config.net);
  hub.emplace(server.loops());
  // --committer loop: the first loop commits, between its reads (docs/benchmarks.md, entry 34).
  const bool commits_on_loop = !postgres && config.committer == "loop";
  if (postgres && config.committer == "loop")
    spdlog::warn("--committer loop applies to the embedded store only; PostgreSQL commits on a thread of its own");
  auto opened = postgres ? open_postgres_store(PostgresOptions{.dsn = config.store, .more_shards = config.shards})
                         : open_sqlite_store(SqliteOptions{
                               .directory = config.data_dir,
                               .synchronous_full = config.fsync,
                               .commit_interval = config.commit_interval,
                               .commit_scheduler = commits_on_loop ? schedule_on_loop(server.loops().front()->io())
                                                                   : CommitScheduler(),
                               .recent_messages_bytes = config.recent_messages_mib << 20});
  if (!opened.ok()) {
    if (postgres) spdlog::critical("cannot open the PostgreSQL store: {}", opened.error().message);
    else spdlog::critical("cannot open the data directory '{}': {}", config.data_dir, opened.error().message);
    return 1;
  }
  store = std::move(opened).value();
  // The committer's batches: flush the chat engine's aggregates before COMMIT, and hand
  // every answer and event of a batch to each event loop in one go.
  store->set_hooks(CommitHooks{
      .before_commit = [&engine](WriteTx& tx) { engine.flush(tx); },
      .after_abort = [&engine] { engine.forget_all(); },
      .forget_chats = [&engine](const std::vector<ChatId>& chats) { engine.forget(chats); },
      .before_done = [&hub](int shard, Pos from, Pos to) { hub->begin_batch(shard, from, to); },
      .after_done = [&hub] { hub->end_batch(); },
      .after_commit =
          [&metrics](std::size_t jobs, double seconds) {
            metrics.batch_size.observe(static_cast<double>(jobs));
            metrics.commit_seconds.observe(seconds);
          },
  });
  // Several nodes: batches travel between them over NATS and are delivered in order.
  std::unique_ptr<cluster::NatsBus> bus;
  if (!config.bus_url.empty()) {
    std::vector<Pos> committed;
    for (int k = 0; k < store->reader().shard_count(); ++k) committed.push_back(store->reader().current_pos(k));
    auto started = cluster::NatsBus::start(cluster::BusOptions{.url = config.bus_url}, committed, *hub, metrics);
    if (!started.ok()) {
      spdlog::critical("cannot use the event bus: {}", started.error().message);
      return 1;
    }
    bus = std::move(started).value();
    hub->set_batch_sink([&bus](int shard, Pos from, Pos to, std::vector<Hub::Event> events) {
      bus->publish(shard, from, to, std::move(events));
    });
  }
  boost::asio::thread_pool blocking(2);
  Services services{.store = *store, .hub = *hub, .metrics = metrics, .blocking = blocking,
                    .options = config.services};
  Router router;
  register_account_ops(router, services, engine);
  register_social_ops(router, services);
  register_chat_ops(router, services, engine);
  register_open_chat_ops(router, services, engine);

  NetContext context{.options = config.net, .router = router, .services = services,
                     .readiness = [&store, &bus]() -> std::string {
                       if (store->queued() > 100'000) return "storage backlog";
                       if (auto reason = store->unavailable_reason(); !reason.empty()) return reason;
                       if (bus) return bus->unavailable_reason();
                       return "";
                     }};
  auto port = server.start(context);
  if (!port.ok()) {
    spdlog::critical("{}", port.error().message);
    return 1;
  }
  std::string scheme = config.net.tls_cert.empty() ? "http" : "https";
  std::printf("listening on %s:%u\n", config.net.host.c_str(), static_cast<unsigned>(*port));
  std::fflush(stdout);
  std::size_t loops = server.loops().size();
  spdlog::info("modu {} serving {}://{}:{} (data: {}, {} event loop{}{}{})", MODU_VERSION, scheme,
               config.net.host, *port,
               postgres ? std::string("PostgreSQL") : std::filesystem::absolute(config.data_dir).string(),
               loops, loops == 1 ? "" : "s", commits_on_loop ? ", commits on the first" : "",
               config.net.web_root.empty() ? ", no web client" : "");

  boost::asio::io_context signals_io;
  boost::asio::signal_set signals(signals_io, SIGINT, SIGTERM);
  signals.async_wait([](const boost::system::error_code&, int sig) {
    spdlog::info("signal {}: shutting down", sig);
  });
  signals_io.run();

  // Drain: no new connections; finish password work and every queued write (their answers
  // go out); then tell clients we are going away and give their sockets a moment to flush.
  context.draining = true;
  server.stop_accepting();
  blocking.join();
  store->stop();
  hub->close_all();
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(2);
  while (metrics.connections.load() > 0 && std::chrono::steady_clock::now() < deadline)
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  server.stop();
  spdlog::info("stopped");
  return 0;
}

}  // namespace modu
