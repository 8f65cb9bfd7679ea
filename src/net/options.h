// Network-facing settings of one `modu serve` process.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>
#include <vector>

namespace modu {

struct NetOptions {
  std::string host = "127.0.0.1";
  std::uint16_t port = 8080;          // 0 picks a free port
  std::size_t threads = 0;            // event loops; 0 = one per core but one (at least one)
  std::size_t max_frame_bytes = 64 * 1024;
  double rate_limit = 50;             // requests per second per connection
  double rate_burst = 200;
  std::chrono::seconds handshake_timeout{10};
  std::chrono::seconds idle_timeout{60};
  std::size_t max_queued_bytes = 8 * 1024 * 1024;  // per connection, before it is cut off
  // Writes waiting for the committer (Store::queued) above which connections are not read
  // until it catches up: an overloaded server keeps requests in the kernel's socket buffers
  // (and closes its clients' TCP windows) instead of in its own memory.
  std::size_t max_queued_writes = 10000;
  // Each loop hands many connections' sends to the kernel in one system call (io_uring),
  // where the kernel allows it (net/send_batch.h).
  bool batch_sends = true;
  std::vector<std::string> allowed_origins;
  std::string web_root;               // built web client; empty = none
  std::string tls_cert;               // PEM files; both set = TLS on
  std::string tls_key;
};

}  // namespace modu
