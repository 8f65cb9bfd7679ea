#include "app/config.h"

#include "modu/ids.h"

#include <fmt/format.h>
#include <toml.hpp>

#include <simdjson.h>

#include <algorithm>
#include <charconv>
#include <fstream>
#include <iterator>
#include <sstream>
#include <cstdlib>

namespace modu {
namespace {

// The longest --commit-interval: a write may wait this long for its commit.
constexpr int kMaxCommitIntervalUs = 100000;
// 1 TiB: beyond any machine this runs on; a typo (a byte count) should not pass.
constexpr std::size_t kMaxRecentMessagesMib = std::size_t{1} << 20;

}  // namespace

std::size_t default_recent_messages_mib(std::uint64_t usable_memory_bytes) {
  if (usable_memory_bytes == 0) return SqliteOptions{}.recent_messages_bytes >> 20;
  return std::clamp<std::size_t>(static_cast<std::size_t>(usable_memory_bytes >> 24), 32, 1024);
}

void add_serve_options(CLI::App& app, ServeConfig& c) {
  auto env = [](const char* name) { return std::string("MODU_") + name; };
  app.add_option("--config", c.config_file, "TOML file with settings (keys as the flags, '_' for '-')")
      ->envname(env("CONFIG"));
  app.add_option("--listen", c.listen, "Address and port for HTTP and WebSocket (port 0 = any free port)")
      ->envname(env("LISTEN"))->capture_default_str();
  app.add_option("--data", c.data_dir, "Data directory of the embedded store (created if missing)")
      ->envname(env("DATA"))->capture_default_str();
  app.add_option("--store", c.store,
                 "PostgreSQL URI (postgres://user@host:port/db) to keep the data in instead of --data")
      ->envname(env("STORE"));
  app.add_option("--shard", c.shards,
                 "Another PostgreSQL URI as the next shard of the --store (repeat in order: shard 1, 2, ...)")
      ->envname(env("SHARDS"))->delimiter(' ')->allow_extra_args(false);
  app.add_option("--web", c.net.web_root, "Directory of the built web client to serve at /")
      ->envname(env("WEB"));
  app.add_option("--threads", c.net.threads, "Event-loop threads (0 = one per core but one, left to the store's committer; at least one)")
      ->envname(env("THREADS"))->capture_default_str();
  app.add_option("--tls-cert", c.net.tls_cert, "PEM certificate chain; with --tls-key turns on TLS")
      ->envname(env("TLS_CERT"));
  app.add_option("--tls-key", c.net.tls_key, "PEM private key")->envname(env("TLS_KEY"));
  app.add_option("--allow-origin", c.net.allowed_origins,
                 "Extra browser Origin allowed to open WebSockets (repeatable; the server's own host is always allowed)")
      ->envname(env("ALLOW_ORIGIN"));
  app.add_option("--max-frame-bytes", c.net.max_frame_bytes, "Largest WebSocket message accepted")
      ->envname(env("MAX_FRAME_BYTES"))->capture_default_str()->check(CLI::Range(1024, 16 << 20));
  app.add_option("--max-text-bytes", c.services.max_text_bytes, "Longest message text, in UTF-8 bytes")
      ->envname(env("MAX_TEXT_BYTES"))->capture_default_str()->check(CLI::Range(1, 1 << 20));
  app.add_option("--rate-limit", c.net.rate_limit, "Requests per second per connection")
      ->envname(env("RATE_LIMIT"))->capture_default_str()->check(CLI::PositiveNumber);
  app.add_option("--rate-burst", c.net.rate_burst, "Requests a connection may send at once")
      ->envname(env("RATE_BURST"))->capture_default_str()->check(CLI::PositiveNumber);
  app.add_option("--max-queued-writes", c.net.max_queued_writes,
                 "Writes waiting to be stored above which the server stops reading requests until it catches up")
      ->envname(env("MAX_QUEUED_WRITES"))->capture_default_str()->check(CLI::Range(1, 10000000));
  app.add_option("--batch-sends", c.net.batch_sends,
                 "Hand many connections' sends to the kernel in one system call (io_uring, where the kernel allows it)")
      ->envname(env("BATCH_SENDS"))->capture_default_str();
  app.add_option("--delete-window", c.services.delete_window_seconds,
                 "Seconds during which a sender may delete a message for everyone")
      ->envname(env("DELETE_WINDOW"))->capture_default_str()->check(CLI::NonNegativeNumber);
  app.add_option("--max-group-members", c.services.max_group_members, "Largest group chat")
      ->envname(env("MAX_GROUP_MEMBERS"))->capture_default_str()->check(CLI::Range(2, 100000));
  app.add_option("--bus", c.bus_url,
                 "NATS URL (nats://host:4222) linking the nodes of a cluster that share one PostgreSQL store")
      ->envname(env("BUS"));
  app.add_option("--max-open-capacity", c.services.max_open_capacity,
                 "Largest open chat (the most an owner may set as its capacity)")
      ->envname(env("MAX_OPEN_CAPACITY"))->capture_default_str()->check(CLI::Range(2, 1000000));
  app.add_option("--max-communities", c.services.max_communities,
                 "Communities (approval open chats) one user may belong to, unless a room overrides it")
      ->envname(env("MAX_COMMUNITIES"))->capture_default_str()->check(CLI::Range(1, 1000));
  app.add_option_function<int>("--handshake-timeout",
                               [&c](int s) { c.net.handshake_timeout = std::chrono::seconds(s); },
                               "Seconds allowed for the HTTP request / TLS / WebSocket handshake (default 10)")
      ->envname(env("HANDSHAKE_TIMEOUT"))->check(CLI::Range(1, 3600));
  app.add_option_function<int>("--idle-timeout",
                               [&c](int s) { c.net.idle_timeout = std::chrono::seconds(s); },
                               "Seconds a WebSocket may stay silent: it is pinged after half of it and closed within one and a half times it (default 60)")
      ->envname(env("IDLE_TIMEOUT"))->check(CLI::Range(1, 86400));
  app.add_option("--password-memory-kib", c.services.password_memory_kib,
                 "argon2id memory per password hash (lower only for load tests)")
      ->envname(env("PASSWORD_MEMORY_KIB"))->capture_default_str()->check(CLI::Range(8, 4 << 20));
  app.add_option("--password-ops", c.services.password_ops, "argon2id passes per password hash")
      ->envname(env("PASSWORD_OPS"))->capture_default_str()->check(CLI::Range(1, 16));
  app.add_option("--fsync", c.fsync,
                 "Sync every commit to disk (true). false risks losing acknowledged messages on power loss")
      ->envname(env("FSYNC"))->capture_default_str();
  app.add_option_function<int>("--commit-interval",
                               [&c](int us) { c.commit_interval = std::chrono::microseconds(us); },
                               fmt::format("Embedded store: microseconds from one commit's start to the next "
                                           "(default {}). Writes that come meanwhile share a commit and its sync; "
                                           "0 commits each batch at once",
                                           c.commit_interval.count()))
      ->envname(env("COMMIT_INTERVAL"))->check(CLI::Range(0, kMaxCommitIntervalUs));
  app.add_option("--committer", c.committer,
                 "Embedded store: where commits run: 'thread' (a thread of their own) or 'loop' (the first "
                 "event loop, between its reads: less CPU and more writes a second at the limit, a higher "
                 "p99 below it)")
      ->envname(env("COMMITTER"))->capture_default_str()->check(CLI::IsMember({"thread", "loop"}));
  app.add_option("--recent-messages-mib", c.recent_messages_mib,
                 "Embedded store: MiB of memory for the newest messages of recently written chats, from which "
                 "reconnecting devices catch up, and chats open, without reading the database (0 keeps none). "
                 "The default is a sixteenth of the machine's memory or the container's limit, 32 to 1,024")
      ->envname(env("RECENT_MESSAGES_MIB"))->capture_default_str()->check(CLI::Range(std::size_t{0}, kMaxRecentMessagesMib));
  app.add_option("--log-level", c.log_level, "trace, debug, info, warn, error or off")
      ->envname(env("LOG_LEVEL"))->capture_default_str()
      ->check(CLI::IsMember({"trace", "debug", "info", "warn", "error", "off"}));
}

std::string find_config_path(int argc, char** argv) {
  for (int i = 1; i < argc; ++i) {
    std::string_view a = argv[i];
    if (a == "--config" && i + 1 < argc) return argv[i + 1];
    if (a.rfind("--config=", 0) == 0) return std::string(a.substr(9));
  }
  const char* env = std::getenv("MODU_CONFIG");
  return env ? env : "";
}

Status load_config_file(const std::string& path, ServeConfig& c) {
  try {
    // toml11 3.7 reads out of bounds on invalid UTF-8 inside strings (found by fuzzing;
    // fixed upstream later), so the file must be valid UTF-8 before it is parsed.
    std::ifstream in(path, std::ios::binary);
    if (!in) return make_error(ErrorCode::kBadRequest, fmt::format("cannot open config {}", path));
    std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    if (!simdjson::validate_utf8(text.data(), text.size()))
      return make_error(ErrorCode::kBadRequest, fmt::format("config {} is not valid UTF-8", path));
    std::istringstream stream(text);
    auto data = toml::parse(stream, path);
    for (const auto& entry : data.as_table()) {
      const std::string& key = entry.first;
      const toml::value& value = entry.second;
      auto integer = [&value] { return value.as_integer(); };
      if (key == "listen") c.listen = value.as_string();
      else if (key == "data") c.data_dir = value.as_string();
      else if (key == "store") c.store = value.as_string();
      else if (key == "shards") c.shards = toml::get<std::vector<std::string>>(value);
      else if (key == "web") c.net.web_root = value.as_string();
      else if (key == "threads") c.net.threads = static_cast<std::size_t>(integer());
      else if (key == "tls_cert") c.net.tls_cert = value.as_string();
      else if (key == "tls_key") c.net.tls_key = value.as_string();
      else if (key == "allow_origin") c.net.allowed_origins = toml::get<std::vector<std::string>>(value);
      else if (key == "max_frame_bytes") c.net.max_frame_bytes = static_cast<std::size_t>(integer());
      else if (key == "max_text_bytes") c.services.max_text_bytes = static_cast<std::size_t>(integer());
      else if (key == "rate_limit") c.net.rate_limit = toml::get<double>(value);
      else if (key == "rate_burst") c.net.rate_burst = toml::get<double>(value);
      else if (key == "max_queued_writes") c.net.max_queued_writes = static_cast<std::size_t>(integer());
      else if (key == "batch_sends") c.net.batch_sends = value.as_boolean();
      else if (key == "delete_window") c.services.delete_window_seconds = integer();
      else if (key == "max_group_members") c.services.max_group_members = static_cast<std::size_t>(integer());
      else if (key == "bus") c.bus_url = value.as_string();
      else if (key == "max_open_capacity") c.services.max_open_capacity = integer();
      else if (key == "max_communities") c.services.max_communities = integer();
      else if (key == "handshake_timeout") c.net.handshake_timeout = std::chrono::seconds(integer());
      else if (key == "idle_timeout") c.net.idle_timeout = std::chrono::seconds(integer());
      else if (key == "password_memory_kib") c.services.password_memory_kib = static_cast<std::size_t>(integer());
      else if (key == "password_ops") c.services.password_ops = static_cast<std::uint64_t>(integer());
      else if (key == "fsync") c.fsync = value.as_boolean();
      else if (key == "commit_interval") c.commit_interval = std::chrono::microseconds(integer());
      else if (key == "committer") c.committer = value.as_string();
      else if (key == "recent_messages_mib") c.recent_messages_mib = static_cast<std::size_t>(integer());
      else if (key == "log_level") c.log_level = value.as_string();
      else return make_error(ErrorCode::kBadRequest, fmt::format("{}: unknown setting '{}'", path, key));
    }
  } catch (const std::exception& e) {
    return make_error(ErrorCode::kBadRequest, fmt::format("cannot read config {}: {}", path, e.what()));
  }
  return ok_status();
}

Status finish_config(ServeConfig& c) {
  auto colon = c.listen.rfind(':');
  if (colon == std::string::npos)
    return make_error(ErrorCode::kBadRequest, "--listen must be HOST:PORT, e.g. 127.0.0.1:8080");
  std::string host = c.listen.substr(0, colon);
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']') host = host.substr(1, host.size() - 2);
  unsigned port = 0;
  auto port_str = std::string_view(c.listen).substr(colon + 1);
  auto r = std::from_chars(port_str.data(), port_str.data() + port_str.size(), port);
  if (r.ec != std::errc() || r.ptr != port_str.data() + port_str.size() || port > 65535)
    return make_error(ErrorCode::kBadRequest, "--listen has an invalid port: " + c.listen);
  c.net.host = host;
  c.net.port = static_cast<std::uint16_t>(port);
  if (c.commit_interval.count() < 0 || c.commit_interval.count() > kMaxCommitIntervalUs)
    return make_error(ErrorCode::kBadRequest,
                      fmt::format("--commit-interval must be 0 to {} microseconds", kMaxCommitIntervalUs));
  if (c.committer != "thread" && c.committer != "loop")
    return make_error(ErrorCode::kBadRequest, "--committer must be thread or loop");
  if (c.recent_messages_mib > kMaxRecentMessagesMib)
    return make_error(ErrorCode::kBadRequest,
                      fmt::format("--recent-messages-mib must be 0 to {}", kMaxRecentMessagesMib));
  if (c.services.password_memory_kib < 8) return make_error(ErrorCode::kBadRequest, "--password-memory-kib is too small");
  if (!c.store.empty() && c.store.rfind("postgres://", 0) != 0 && c.store.rfind("postgresql://", 0) != 0)
    return make_error(ErrorCode::kBadRequest, "--store must be a postgres:// URI (omit it for the embedded store in --data)");
  if (!c.shards.empty() && c.store.empty())
    return make_error(ErrorCode::kBadRequest, "--shard needs --store: shards split a PostgreSQL store");
  for (const auto& shard : c.shards)
    if (shard.rfind("postgres://", 0) != 0 && shard.rfind("postgresql://", 0) != 0)
      return make_error(ErrorCode::kBadRequest, "--shard must be a postgres:// URI: " + shard);
  if (c.shards.size() + 1 > static_cast<std::size_t>(kMaxShards))
    return make_error(ErrorCode::kBadRequest, fmt::format("at most {} shards", kMaxShards));
  return ok_status();
}

}  // namespace modu
