#include "coordinator.hpp"

#include <signal.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <thread>

#include "phase.hpp"

namespace bench {

namespace asio = boost::asio;

// ---- hard deadline ---------------------------------------------------------------------

static volatile sig_atomic_t g_pids[1024];
static volatile sig_atomic_t g_npids = 0;
static volatile sig_atomic_t g_server_pid = 0;
static char g_server_dir[256];

static void on_deadline(int sig) {
  const char* msg = sig == SIGALRM ? "modu-bench: FAIL: hard deadline reached, killing the run\n"
                                   : "modu-bench: interrupted, killing the run\n";
  ssize_t ignored = write(2, msg, strlen(msg));
  (void)ignored;
  for (int i = 0; i < g_npids; ++i)
    if (g_pids[i] > 0) kill(pid_t(g_pids[i]), SIGKILL);
  if (g_server_pid > 0) kill(pid_t(g_server_pid), SIGKILL);
  _exit(sig == SIGALRM ? 3 : 130);
}

void install_deadline(const Config& cfg, const ServerHandle* server) {
  if (server && server->spawned) {
    g_server_pid = server->pid;
    std::snprintf(g_server_dir, sizeof g_server_dir, "%s", server->dir.c_str());
  }
  signal(SIGALRM, on_deadline);
  signal(SIGINT, on_deadline);
  signal(SIGTERM, on_deadline);
  alarm(unsigned(std::ceil(cfg.deadline)));
}

// ---- worker process ----------------------------------------------------------------------

static std::vector<asio::ip::address> source_addresses(const Config& cfg) {
  std::vector<asio::ip::address> v;
  for (int i = 0; i < cfg.sources; ++i) {
    uint32_t a = (127u << 24) + 2u + uint32_t(i);  // 127.0.0.2, 127.0.0.3, ...
    v.push_back(asio::ip::address_v4(a));
  }
  return v;
}

[[noreturn]] static void worker_main(const Config& cfg, const ScenarioDef& sc, const std::vector<Endpoint>& targets, int proc, int fd_out,
                                     int fd_in) {
  prctl(PR_SET_PDEATHSIG, SIGKILL);
  signal(SIGALRM, SIG_DFL);
  signal(SIGINT, SIG_DFL);
  signal(SIGTERM, SIG_DFL);
  signal(SIGPIPE, SIG_IGN);
  alarm(unsigned(std::ceil(cfg.deadline)) + 10);
  auto driver = make_driver(cfg.driver);
  int T = cfg.threads;
  PhaseCtl ctl(T, fd_out, fd_in);
  std::vector<Result> results(static_cast<size_t>(T));
  auto sources = source_addresses(cfg);
  std::vector<std::thread> threads;
  for (int t = 0; t < T; ++t) {
    threads.emplace_back([&, t] {
      asio::io_context ioc(1);
      ShardCtx ctx{cfg, ioc, *driver, targets, proc, t, proc * T + t, cfg.procs * T, results[size_t(t)], ctl, sources, false, {}, 0, 0};
      asio::co_spawn(
          ioc,
          [&]() -> awaitable<void> {
            bool failed = false;
            try {
              co_await sc.run(ctx);
            } catch (const BenchAbort&) {
              ctx.res.aborted = true;
            } catch (...) {
              try {
                ctx.record_exception("scenario", std::current_exception());
              } catch (...) {
              }
              failed = true;
              ctx.res.aborted = true;
            }
            ctx.close_all();
            ctl.shard_done(failed);
            ioc.stop();
          },
          asio::detached);
      ioc.run();
    });
  }
  ctl.serve();
  for (auto& th : threads) th.join();
  Result merged;
  for (auto& r : results) merged.merge(r);
  std::string blob = merged.serialize();
  write_all(fd_out, "R " + std::to_string(blob.size()) + "\n" + blob);
  std::fflush(nullptr);
  _exit(0);
}

// ---- coordinator ---------------------------------------------------------------------------

// The server figures of a snapshot: with several nodes (--target A,B,...) their sum; `ok`
// only when every node could be read.
static ProcSample sample_servers(const ServerHandle& server) {
  if (server.pids.size() <= 1) return sample_process(server.pid);
  ProcSample sum;
  sum.ok = true;
  for (int pid : server.pids) {
    ProcSample one = sample_process(pid);
    sum.ok &= one.ok;
    sum.cpu_s += one.cpu_s;
    sum.wait_s += one.wait_s;
    sum.rss_kb += one.rss_kb;
    add_threads(sum.threads, one.threads);
  }
  return sum;
}

// messages.send's buckets from every node's /metrics, summed; empty unless all answered.
static Buckets sample_send_seconds(const ServerHandle& server) {
  Buckets sum;
  for (const Endpoint& node : server.endpoints) {
    auto page = fetch_server_metrics(node);
    Buckets b = page ? request_seconds(*page, "messages.send") : Buckets{};
    if (b.empty()) return {};
    if (sum.empty()) sum = b;
    else if (sum.size() != b.size()) return {};
    else
      for (size_t i = 0; i < b.size(); ++i) sum[i].second += b[i].second;
  }
  return sum;
}

namespace {
struct Child {
  pid_t pid = 0;
  int up = -1;    // child -> parent
  int down = -1;  // parent -> child
  bool finished = false;
  Result result;
};
}  // namespace

RunOutcome coordinate(const Config& cfg, const ScenarioDef& sc, const ServerHandle& server) {
  RunOutcome out;
  signal(SIGPIPE, SIG_IGN);
  std::vector<Child> kids(static_cast<size_t>(cfg.procs));
  std::fflush(nullptr);
  for (int p = 0; p < cfg.procs; ++p) {
    int up[2], down[2];
    if (pipe(up) || pipe(down)) {
      out.problems.push_back("pipe failed");
      out.aborted = true;
      return out;
    }
    pid_t pid = fork();
    if (pid == 0) {
      close(up[0]);
      close(down[1]);
      for (int q = 0; q < p; ++q) {
        close(kids[size_t(q)].up);
        close(kids[size_t(q)].down);
      }
      worker_main(cfg, sc, server.endpoints, p, up[1], down[0]);
    }
    close(up[1]);
    close(down[0]);
    kids[size_t(p)].pid = pid;
    kids[size_t(p)].up = up[0];
    kids[size_t(p)].down = down[1];
    if (g_npids < 1024) {
      g_pids[g_npids] = pid;
      g_npids = g_npids + 1;
    }
  }

  auto snapshot = [&](const std::string& name) {
    Snapshot s;
    s.name = name;
    s.t_ns = now_ns();
    s.server = sample_servers(server);
    s.loadgen_cpu_s = self_cpu_seconds();
    s.loadgen_wait_s = cpu_wait_seconds(0);
    s.tcp_mem_kb = tcp_kernel_mem_kb();
    if (cfg.driver == "modu" && (cfg.scenario == "direct" || cfg.scenario == "group"))
      s.server_send_seconds = sample_send_seconds(server);
    for (auto& k : kids) {
      if (k.finished) continue;
      ProcSample worker = sample_process(k.pid);
      s.loadgen_cpu_s += worker.cpu_s;
      s.loadgen_wait_s += worker.wait_s;
    }
    out.snaps.push_back(s);
  };
  snapshot("start");

  for (int round = 0; round < 1000; ++round) {
    std::vector<Child*> waiting;
    std::string name;
    bool abort = out.aborted;
    for (auto& k : kids) {
      if (k.finished) continue;
      std::string line;
      if (!read_line(k.up, line)) {
        k.finished = true;
        abort = true;
        out.problems.push_back("worker " + std::to_string(k.pid) + " died without a result");
        continue;
      }
      if (line.rfind("B ", 0) == 0) {
        size_t sp = line.rfind(' ');
        std::string n = line.substr(2, sp - 2);
        if (!name.empty() && n != name) out.problems.push_back("workers disagree on the barrier: " + name + " / " + n);
        name = n;
        abort |= line.substr(sp + 1) == "1";
        waiting.push_back(&k);
      } else if (line.rfind("R ", 0) == 0) {
        std::string blob;
        read_exact(k.up, blob, std::stoull(line.substr(2)));
        k.result = Result::parse(blob);
        k.finished = true;
        abort |= k.result.aborted;
      } else {
        out.problems.push_back("unexpected worker line: " + line);
      }
    }
    if (abort) out.aborted = true;
    if (waiting.empty()) break;
    snapshot(name);
    if (!cfg.quiet) {
      const Snapshot& s = out.snaps.back();
      std::fprintf(stderr, "[%7.2fs] %-14s server rss %lld KiB cpu %.2fs\n", double(s.t_ns - out.snaps[0].t_ns) / 1e9, name.c_str(),
                   (long long)s.server.rss_kb, s.server.cpu_s);
    }
    for (Child* k : waiting) write_all(k->down, out.aborted ? "A\n" : "G\n");
  }
  for (auto& k : kids) {
    int status = 0;
    waitpid(k.pid, &status, 0);
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
      out.problems.push_back("worker " + std::to_string(k.pid) + " exited abnormally (status " + std::to_string(status) + ")");
    close(k.up);
    close(k.down);
    out.merged.merge(k.result);
  }
  g_npids = 0;
  snapshot("end");
  rusage ru{}, self{};
  getrusage(RUSAGE_CHILDREN, &ru);
  getrusage(RUSAGE_SELF, &self);
  auto secs = [](const rusage& r) {
    return double(r.ru_utime.tv_sec + r.ru_stime.tv_sec) + double(r.ru_utime.tv_usec + r.ru_stime.tv_usec) / 1e6;
  };
  // RUSAGE_CHILDREN includes a spawned server only once it has been waited for (it has not).
  out.loadgen_cpu_total_s = secs(ru) + secs(self);
  return out;
}

}  // namespace bench
