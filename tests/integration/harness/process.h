// Starting the real `modu` binary: as a server (ServerProcess) or as a one-shot command
// (run_modu, for `modu admin ...`).
//
// The binary is found through the MODU_BINARY environment variable, falling back to the
// path CMake compiled in (MODU_BINARY_DEFAULT). Every wait is bounded; a server that does
// not print `listening on 127.0.0.1:<port>` within 20 s fails the test with its output.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace modu_testing {
class PgTestDatabase;
}

namespace modu_it {

// Path of the modu binary under test.
std::string modu_binary();

// Whether servers keep their data in PostgreSQL: MODU_TEST_STORE=postgres (the ctest label
// `integration-pg` sets it) or `sharded` (label `integration-shards`: two databases as the
// shards of one store), with the instance in MODU_TEST_PG_DSN. Otherwise (unset or
// `sqlite`) they use the embedded store in their data directory.
bool test_store_is_postgres();
bool test_store_is_sharded();

// A fresh empty directory under $TMPDIR (or /tmp), removed with its contents on destruction
// unless MODU_KEEP_TEST_DATA is set in the environment.
class TempDir {
 public:
  TempDir();
  ~TempDir();
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

struct CommandResult {
  int exit_code = -1;   // exit status, or 128+signal when killed by a signal
  bool timed_out = false;
  std::string output;   // stdout
  std::string errors;   // stderr
};

// Runs `modu <args...>` to completion (killed after `timeout`), capturing stdout and stderr.
CommandResult run_modu(const std::vector<std::string>& args,
                       std::chrono::milliseconds timeout = std::chrono::seconds(30));

// A `modu serve` process on 127.0.0.1 with a private data directory (and, when
// test_store_is_postgres(), a private PostgreSQL database, created here and dropped by the
// destructor; it lives as long as this object, across restarts).
//
//   ServerProcess server({"--rate-limit", "5"});
//   server.start();                 // waits for "listening on 127.0.0.1:<port>"
//   Client c(server.port());
//   server.kill9(); server.start(); // same data dir, new port
//
// The destructor kills a still-running server with SIGKILL. The server's stdout and stderr
// are copied to this process's stderr, prefixed with "[modu] " (stderr lines with
// "[modu:err] "), so ctest shows them when a test fails. The server is also killed if the
// test process dies (PR_SET_PDEATHSIG), which is tied to the thread that called start():
// call start() from the test's own thread, not from a short-lived helper thread.
class ServerProcess {
 public:
  explicit ServerProcess(std::vector<std::string> extra_args = {});
  ~ServerProcess();
  ServerProcess(const ServerProcess&) = delete;
  ServerProcess& operator=(const ServerProcess&) = delete;

  // Starts `modu serve --listen 127.0.0.1:0 --data <dir> <extra args>` (with `--threads 2`
  // unless the extra args set it) and waits until it reports its port. Throws
  // std::runtime_error (with the server's output) on failure.
  void start();
  // Graceful stop: SIGTERM, then waits up to `timeout`. Returns the exit code; when the
  // server does not exit in time it is killed and std::runtime_error is thrown.
  int stop(std::chrono::milliseconds timeout = std::chrono::seconds(15));
  // Hard crash: SIGKILL, then waits for the process to disappear.
  void kill9();
  // stop() + start(): same data directory, new port.
  void restart();

  bool running() const { return pid_ > 0; }
  std::uint16_t port() const { return port_; }
  pid_t pid() const { return pid_; }
  const std::string& data_dir() const { return data_.path(); }
  // The flags that point `modu serve` or `modu admin` at this server's data:
  // {"--data", dir} or {"--store", uri}.
  std::vector<std::string> store_args() const;
  const std::vector<std::string>& extra_args() const { return extra_args_; }
  // Everything the server printed so far (stdout and stderr), across restarts.
  std::string output() const;

 private:
  int wait_exit(std::chrono::milliseconds timeout);  // -1 when still running
  void join_reader();

  TempDir data_;
  std::unique_ptr<modu_testing::PgTestDatabase> database_;  // PostgreSQL runs only
  std::unique_ptr<modu_testing::PgTestDatabase> shard_;     // sharded runs: shard 1
  std::vector<std::string> extra_args_;
  pid_t pid_ = -1;
  std::uint16_t port_ = 0;
  std::thread reader_;
  mutable std::mutex output_mutex_;
  std::string output_;
};

}  // namespace modu_it
