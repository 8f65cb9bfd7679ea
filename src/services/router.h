// Operation registry and the per-request context handed to handlers.
//
// Each feature registers its operations (`"messages.send"` -> handler) at start-up; the
// network layer parses a frame and calls `Router::dispatch`. A handler runs on the
// connection's event loop, may read through `Store::reader()` there, and answers through
// its `Reply` exactly once, either at once or later from any thread (for example after a
// write commits). A handler that throws StorageError answers `unavailable`.
#pragma once

#include <boost/asio/thread_pool.hpp>

#include <chrono>
#include <functional>
#include <memory>
#include <string>
#include <unordered_map>

#include "metrics/metrics.h"
#include "modu/store.h"
#include "protocol/frames.h"
#include "protocol/json_writer.h"
#include "realtime/connection.h"
#include "realtime/hub.h"

namespace modu {

// Everything handlers may depend on. Built by the server's wiring, outlives all requests.
struct ServiceOptions {
  std::size_t max_text_bytes = 16 * 1024;
  std::int64_t delete_window_seconds = 300;
  std::size_t max_group_members = 1500;
  std::int64_t max_open_capacity = 1500;  // members of one open chat
  std::int64_t max_communities = 10;      // approval rooms one user may belong to
  std::uint64_t password_ops = 2;            // argon2id passes
  std::size_t password_memory_kib = 19456;   // argon2id memory (19 MiB)
};

struct Services {
  Store& store;
  Hub& hub;
  Metrics& metrics;
  boost::asio::thread_pool& blocking;  // for password hashing and other slow CPU work
  ServiceOptions options;
};

TimeMs now_ms();

// The one answer to one request. Copyable; thread-safe; answering twice is a bug.
// With `latency`, answering records the time since the Reply was made there.
class Reply {
 public:
  Reply(std::shared_ptr<Connection> conn, std::string id_json, Hub* hub, Metrics* metrics,
        LatencyHistogram* latency = nullptr)
      : conn_(std::move(conn)),
        id_json_(std::move(id_json)),
        hub_(hub),
        metrics_(metrics),
        latency_(latency),
        started_(latency ? std::chrono::steady_clock::now() : std::chrono::steady_clock::time_point{}) {}

  void ok(std::string_view result_json) const;
  void ok(const JsonWriter& result) const { ok(result.view()); }
  void ok_empty() const { ok("{}"); }
  void fail(const Error& error) const;
  void fail(ErrorCode code, std::string message) const { fail(Error{code, std::move(message)}); }

  Connection& conn() const { return *conn_; }
  const std::shared_ptr<Connection>& conn_ptr() const { return conn_; }

 private:
  std::shared_ptr<Connection> conn_;
  std::string id_json_;
  void record_latency() const;

  Hub* hub_;  // answers go through the hub so the committer can batch them
  Metrics* metrics_;
  LatencyHistogram* latency_;
  std::chrono::steady_clock::time_point started_;
};

struct Call {
  Args& args;
  Reply reply;
  Connection& conn;  // == reply.conn(); the signed-in user is conn.user
};

using Handler = std::function<void(Call&)>;

class Router {
 public:
  enum class Access { kPublic, kSignedIn };

  // Registers an operation; a name may be registered once.
  void add(std::string op, Access access, Handler handler);

  // Runs the operation named by `request` for `conn` (on conn's loop).
  void dispatch(const std::shared_ptr<Connection>& conn, Request& request, Hub& hub,
                Metrics& metrics) const;

  // Appends `modu_request_seconds{op=...}` to a /metrics page: for every operation asked for
  // at least once, the time from its dispatch to its answer (a send's includes its commit).
  // Names of unknown operations are not recorded, so clients cannot add series.
  void render_metrics(std::string& out) const;

 private:
  struct Entry {
    Access access;
    Handler handler;
    std::unique_ptr<LatencyHistogram> seconds;  // its own allocation: atomics do not move
  };
  struct Hash {
    using is_transparent = void;
    std::size_t operator()(std::string_view s) const noexcept { return std::hash<std::string_view>{}(s); }
  };
  std::unordered_map<std::string, Entry, Hash, std::equal_to<>> ops_;
};

// Returns the caller's error if the args failed validation (and answers it).
inline bool args_failed(Call& call) {
  if (!call.args.error()) return false;
  call.reply.fail(*call.args.error());
  return true;
}

}  // namespace modu
