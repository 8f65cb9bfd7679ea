// Settings of `modu serve`, from defaults, a TOML file, MODU_* environment variables and
// flags, in rising order of precedence. All are checked at start-up.
#pragma once

#include <CLI/CLI.hpp>

#include <chrono>
#include <cstdint>
#include <string>
#include <vector>

#include "common/memory.h"
#include "modu/error.h"
#include "modu/store.h"
#include "net/options.h"
#include "services/router.h"

namespace modu {

// The default of --recent-messages-mib: a sixteenth of the memory the server may use
// (`usable_memory_bytes`, common/memory.h), from 32 to 1,024 MiB; 256 when that is unknown
// (0). The cache only holds what was written, so a large budget costs nothing until used.
std::size_t default_recent_messages_mib(std::uint64_t usable_memory_bytes);

struct ServeConfig {
  NetOptions net;
  ServiceOptions services;
  std::string data_dir = "modu-data";
  // Where the data lives: empty for the embedded store in `data_dir`, or a PostgreSQL URI
  // (postgres://user@host:port/db) that several nodes may share.
  std::string store;
  // More PostgreSQL databases: shards 1, 2, … of the shard map (`store` is shard 0). Only
  // ever append; every node of a cluster lists the same shards in the same order.
  std::vector<std::string> shards;
  std::string listen = "127.0.0.1:8080";
  std::string config_file;
  std::string log_level = "info";
  bool fsync = true;
  std::chrono::microseconds commit_interval = SqliteOptions{}.commit_interval;  // embedded store
  // Embedded store: where commits run. "thread": the store's own committer thread.
  // "loop": the first event loop, between its reads (docs/deploy.md says when).
  std::string committer = "thread";
  // Embedded store: memory for the newest messages of recently written chats, which answer
  // catching-up devices without reading the database (0 keeps none).
  std::size_t recent_messages_mib = default_recent_messages_mib(usable_memory_bytes());
  std::string bus_url;  // NATS, when several nodes share one database
};

// Adds the serve flags (each with a MODU_* environment variable) bound to `config`.
void add_serve_options(CLI::App& app, ServeConfig& config);

// Reads a TOML file into `config`. Keys are the flag names with '_' for '-'
// (e.g. max_text_bytes = 8192). Unknown keys and wrong types are errors.
Status load_config_file(const std::string& path, ServeConfig& config);

// Finds --config / MODU_CONFIG before the flags are parsed, so the file can supply
// defaults that flags and the environment then override.
std::string find_config_path(int argc, char** argv);

// Validates and derives (splits --listen into host and port).
Status finish_config(ServeConfig& config);

}  // namespace modu
