#include "harness/process.h"

#include "common/pg_database.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <condition_variable>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <stdexcept>

#ifndef MODU_BINARY_DEFAULT
#define MODU_BINARY_DEFAULT "modu"
#endif

namespace modu_it {
namespace {

using Clock = std::chrono::steady_clock;

struct Pipe {
  int read_end = -1;
  int write_end = -1;
  Pipe() {
    int fds[2];
    if (::pipe2(fds, O_CLOEXEC) != 0) throw std::runtime_error("pipe2 failed");
    read_end = fds[0];
    write_end = fds[1];
  }
};

int decode_status(int status) {
  if (WIFEXITED(status)) return WEXITSTATUS(status);
  if (WIFSIGNALED(status)) return 128 + WTERMSIG(status);
  return -1;
}

// Forks and execs `argv`; the child's stdout/stderr go to the given pipe ends. The child is
// killed if the test process dies, so a crashed test never leaves servers behind.
pid_t spawn(const std::vector<std::string>& argv, int out_fd, int err_fd) {
  std::vector<char*> cargv;
  for (const auto& a : argv) cargv.push_back(const_cast<char*>(a.c_str()));
  cargv.push_back(nullptr);
  pid_t parent = ::getpid();
  pid_t pid = ::fork();
  if (pid < 0) throw std::runtime_error("fork failed");
  if (pid == 0) {
    ::prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (::getppid() != parent) ::_exit(127);
    int devnull = ::open("/dev/null", O_RDONLY);
    if (devnull >= 0) ::dup2(devnull, 0);
    ::dup2(out_fd, 1);
    ::dup2(err_fd, 2);
    ::execv(cargv[0], cargv.data());
    const char msg[] = "exec of modu binary failed\n";
    (void)!::write(2, msg, sizeof msg - 1);
    ::_exit(127);
  }
  return pid;
}

}  // namespace

std::string modu_binary() {
  if (const char* env = std::getenv("MODU_BINARY"); env && *env) return env;
  return MODU_BINARY_DEFAULT;
}

TempDir::TempDir() {
  const char* base = std::getenv("TMPDIR");
  std::string templ = std::string(base && *base ? base : "/tmp") + "/modu-it-XXXXXX";
  if (!::mkdtemp(templ.data())) throw std::runtime_error("mkdtemp failed for " + templ);
  path_ = templ;
}

TempDir::~TempDir() {
  if (std::getenv("MODU_KEEP_TEST_DATA")) {
    std::fprintf(stderr, "[harness] keeping test data in %s\n", path_.c_str());
    return;
  }
  std::error_code ec;
  std::filesystem::remove_all(path_, ec);
}

CommandResult run_modu(const std::vector<std::string>& args, std::chrono::milliseconds timeout) {
  std::vector<std::string> argv{modu_binary()};
  argv.insert(argv.end(), args.begin(), args.end());
  Pipe out, err;
  pid_t pid = spawn(argv, out.write_end, err.write_end);
  ::close(out.write_end);
  ::close(err.write_end);

  CommandResult result;
  pollfd fds[2] = {{out.read_end, POLLIN, 0}, {err.read_end, POLLIN, 0}};
  std::string* sinks[2] = {&result.output, &result.errors};
  int open_fds = 2;
  auto deadline = Clock::now() + timeout;
  while (open_fds > 0) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
    if (left.count() <= 0) {
      result.timed_out = true;
      ::kill(pid, SIGKILL);
      break;
    }
    int n = ::poll(fds, 2, static_cast<int>(left.count()));
    if (n < 0 && errno == EINTR) continue;
    for (int i = 0; i < 2; ++i) {
      if (fds[i].fd < 0 || !(fds[i].revents & (POLLIN | POLLHUP | POLLERR))) continue;
      char buf[4096];
      ssize_t got = ::read(fds[i].fd, buf, sizeof buf);
      if (got > 0) {
        sinks[i]->append(buf, static_cast<std::size_t>(got));
      } else {
        ::close(fds[i].fd);
        fds[i].fd = -1;
        --open_fds;
      }
    }
  }
  for (auto& f : fds)
    if (f.fd >= 0) ::close(f.fd);
  int status = 0;
  ::waitpid(pid, &status, 0);
  result.exit_code = decode_status(status);
  return result;
}

bool test_store_is_postgres() {
  const char* store = std::getenv("MODU_TEST_STORE");
  if (store == nullptr || *store == '\0' || std::string_view(store) == "sqlite") return false;
  if (std::string_view(store) == "postgres" || std::string_view(store) == "sharded") return true;
  throw std::runtime_error(std::string("MODU_TEST_STORE must be sqlite, postgres or sharded, not ") + store);
}

bool test_store_is_sharded() {
  const char* store = std::getenv("MODU_TEST_STORE");
  return store != nullptr && std::string_view(store) == "sharded";
}

ServerProcess::ServerProcess(std::vector<std::string> extra_args)
    : extra_args_(std::move(extra_args)) {
  if (test_store_is_postgres()) database_ = std::make_unique<modu_testing::PgTestDatabase>("modu_it");
  if (test_store_is_sharded()) shard_ = std::make_unique<modu_testing::PgTestDatabase>("modu_it_shard");
}

std::vector<std::string> ServerProcess::store_args() const {
  if (shard_) return {"--store", database_->dsn(), "--shard", shard_->dsn()};
  if (database_) return {"--store", database_->dsn()};
  return {"--data", data_.path()};
}

ServerProcess::~ServerProcess() {
  if (pid_ > 0) {
    ::kill(pid_, SIGKILL);
    wait_exit(std::chrono::seconds(10));
  }
  join_reader();
}

std::string ServerProcess::output() const {
  std::lock_guard lock(output_mutex_);
  return output_;
}

void ServerProcess::start() {
  if (pid_ > 0) throw std::runtime_error("server already running");
  join_reader();
  std::vector<std::string> argv{modu_binary(), "serve", "--listen", "127.0.0.1:0", "--data",
                                data_.path()};
  if (database_) {
    auto store = store_args();
    argv.insert(argv.end(), store.begin(), store.end());
  }
  // Two event loops unless the suite asks otherwise, whatever this machine's cores: the
  // paths between loops stay tested where the default would run one.
  if (std::find(extra_args_.begin(), extra_args_.end(), "--threads") == extra_args_.end())
    argv.insert(argv.end(), {"--threads", "2"});
  argv.insert(argv.end(), extra_args_.begin(), extra_args_.end());
  Pipe out, err;
  pid_ = spawn(argv, out.write_end, err.write_end);
  ::close(out.write_end);
  ::close(err.write_end);
  port_ = 0;

  // The reader thread copies the server's output until both pipes close and reports the
  // port from the first stdout line containing "listening on 127.0.0.1:<port>".
  struct PortSignal {
    std::mutex m;
    std::condition_variable cv;
    int port = 0;
    bool eof = false;
  };
  auto signal = std::make_shared<PortSignal>();
  reader_ = std::thread([this, signal, out_fd = out.read_end, err_fd = err.read_end] {
    pollfd fds[2] = {{out_fd, POLLIN, 0}, {err_fd, POLLIN, 0}};
    std::string partial[2];
    int open_fds = 2;
    while (open_fds > 0) {
      if (::poll(fds, 2, -1) < 0) {
        if (errno == EINTR) continue;
        break;
      }
      for (int i = 0; i < 2; ++i) {
        if (fds[i].fd < 0 || !(fds[i].revents & (POLLIN | POLLHUP | POLLERR))) continue;
        char buf[4096];
        ssize_t got = ::read(fds[i].fd, buf, sizeof buf);
        if (got <= 0) {
          ::close(fds[i].fd);
          fds[i].fd = -1;
          --open_fds;
          got = 0;
        }
        partial[i].append(buf, static_cast<std::size_t>(got));
        std::size_t nl;
        while ((nl = partial[i].find('\n')) != std::string::npos || (got == 0 && !partial[i].empty())) {
          std::string line = partial[i].substr(0, nl);
          partial[i].erase(0, nl == std::string::npos ? std::string::npos : nl + 1);
          std::fprintf(stderr, "[modu%s] %s\n", i == 0 ? "" : ":err", line.c_str());
          {
            std::lock_guard lock(output_mutex_);
            output_ += line;
            output_ += '\n';
          }
          static constexpr std::string_view marker = "listening on 127.0.0.1:";
          if (auto at = line.find(marker); i == 0 && at != std::string::npos) {
            int port = std::atoi(line.c_str() + at + marker.size());
            std::lock_guard lock(signal->m);
            if (signal->port == 0) signal->port = port;
            signal->cv.notify_all();
          }
        }
      }
    }
    std::lock_guard lock(signal->m);
    signal->eof = true;
    signal->cv.notify_all();
  });

  std::unique_lock lock(signal->m);
  bool ready = signal->cv.wait_for(lock, std::chrono::seconds(20),
                                   [&] { return signal->port > 0 || signal->eof; });
  if (!ready || signal->port <= 0 || signal->port > 65535) {
    lock.unlock();
    if (pid_ > 0) {
      ::kill(pid_, SIGKILL);
      wait_exit(std::chrono::seconds(10));
    }
    join_reader();
    throw std::runtime_error(std::string("modu serve did not report 'listening on 127.0.0.1:<port>'") +
                             (ready ? " before exiting" : " within 20 s") + "; binary " +
                             modu_binary() + "; output:\n" + output());
  }
  port_ = static_cast<std::uint16_t>(signal->port);
}

int ServerProcess::wait_exit(std::chrono::milliseconds timeout) {
  auto deadline = Clock::now() + timeout;
  while (true) {
    int status = 0;
    pid_t r = ::waitpid(pid_, &status, WNOHANG);
    if (r == pid_) {
      pid_ = -1;
      return decode_status(status);
    }
    if (r < 0 && errno != EINTR) {
      pid_ = -1;
      return -1;
    }
    if (Clock::now() >= deadline) return -1;
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
}

void ServerProcess::join_reader() {
  if (reader_.joinable()) reader_.join();
}

int ServerProcess::stop(std::chrono::milliseconds timeout) {
  if (pid_ <= 0) throw std::runtime_error("server not running");
  ::kill(pid_, SIGTERM);
  int code = wait_exit(timeout);
  if (pid_ > 0) {
    ::kill(pid_, SIGKILL);
    wait_exit(std::chrono::seconds(10));
    join_reader();
    throw std::runtime_error("modu serve did not exit within " + std::to_string(timeout.count()) +
                             " ms of SIGTERM");
  }
  join_reader();
  return code;
}

void ServerProcess::kill9() {
  if (pid_ <= 0) throw std::runtime_error("server not running");
  ::kill(pid_, SIGKILL);
  wait_exit(std::chrono::seconds(10));
  join_reader();
}

void ServerProcess::restart() {
  stop();
  start();
}

}  // namespace modu_it
