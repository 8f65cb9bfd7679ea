#include "server.hpp"

#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>
#include <fcntl.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>

#include "procstat.hpp"

namespace bench {

Endpoint parse_loopback_target(const std::string& t) {
  size_t colon = t.rfind(':');
  if (colon == std::string::npos) {
    std::fprintf(stderr, "modu-bench: --target must be HOST:PORT\n");
    std::exit(2);
  }
  std::string host = t.substr(0, colon);
  if (host == "localhost") host = "127.0.0.1";
  boost::system::error_code ec;
  auto addr = boost::asio::ip::make_address_v4(host, ec);
  int port = std::atoi(t.c_str() + colon + 1);
  if (ec || port <= 0 || port > 65535) {
    std::fprintf(stderr, "modu-bench: bad --target '%s' (want 127.x.y.z:PORT)\n", t.c_str());
    std::exit(2);
  }
  if ((addr.to_uint() >> 24) != 127) {
    std::fprintf(stderr, "modu-bench: refusing target %s: only loopback (127.0.0.0/8) may be loaded\n", host.c_str());
    std::exit(2);
  }
  return Endpoint{addr, uint16_t(port)};
}

static std::string read_file(const std::string& path) {
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

std::string server_log_tail(const ServerHandle& s, size_t bytes) {
  if (s.log.empty()) return {};
  std::string all = read_file(s.log);
  return all.size() > bytes ? all.substr(all.size() - bytes) : all;
}

bool start_server(const Config& cfg, ServerHandle& out, std::string& err) {
  if (!cfg.target.empty()) {
    // "127.0.0.1:8001,127.0.0.1:8002,...": several nodes of one cluster.
    for (size_t at = 0; at <= cfg.target.size();) {
      size_t comma = std::min(cfg.target.find(',', at), cfg.target.size());
      Endpoint e = parse_loopback_target(cfg.target.substr(at, comma - at));
      out.endpoints.push_back(e);
      out.pids.push_back(cfg.server_pid && out.endpoints.size() == 1 ? cfg.server_pid : find_listening_pid(e.port));
      at = comma + 1;
    }
    out.endpoint = out.endpoints[0];
    out.pid = out.pids[0];
    return true;
  }
  char tmpl[] = "/tmp/modu-bench-XXXXXX";
  if (!mkdtemp(tmpl)) {
    err = "mkdtemp failed";
    return false;
  }
  out.dir = tmpl;
  out.log = out.dir + "/server.log";
  std::vector<std::string> args{cfg.spawn};
  if (cfg.driver == "modu") {
    std::filesystem::create_directories(out.dir + "/data");
    args.insert(args.end(), {"serve", "--listen", "127.0.0.1:0", "--data", out.dir + "/data"});
    if (cfg.cheap_passwords) args.insert(args.end(), {"--password-memory-kib", "8", "--password-ops", "1"});
  } else {
    args.insert(args.end(), {"--listen", "127.0.0.1:0"});
  }
  for (auto& a : cfg.server_args) args.push_back(a);

  pid_t pid = fork();
  if (pid < 0) {
    err = "fork failed";
    return false;
  }
  if (pid == 0) {
    prctl(PR_SET_PDEATHSIG, SIGKILL);  // never outlive the benchmark
    int fd = open(out.log.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (fd >= 0) {
      dup2(fd, 1);
      dup2(fd, 2);
      close(fd);
    }
    int devnull = open("/dev/null", O_RDONLY);
    if (devnull >= 0) dup2(devnull, 0);
    std::vector<char*> argv;
    for (auto& a : args) argv.push_back(const_cast<char*>(a.c_str()));
    argv.push_back(nullptr);
    execv(argv[0], argv.data());
    std::perror("exec");
    _exit(127);
  }
  out.pid = pid;
  out.spawned = true;
  // Wait for "listening on 127.0.0.1:<port>".
  const std::string needle = "listening on 127.0.0.1:";
  for (int i = 0; i < 600; ++i) {  // 30 s at most
    std::string log = read_file(out.log);
    size_t at = log.find(needle);
    if (at != std::string::npos) {
      size_t p = at + needle.size();
      size_t e = p;
      while (e < log.size() && std::isdigit(static_cast<unsigned char>(log[e]))) ++e;
      if (e > p && e < log.size()) {  // the number is complete once something follows it
        out.endpoint = Endpoint{boost::asio::ip::make_address("127.0.0.1"), uint16_t(std::atoi(log.c_str() + p))};
        out.endpoints = {out.endpoint};
        out.pids = {out.pid};
        return true;
      }
    }
    int status;
    if (waitpid(pid, &status, WNOHANG) == pid) {
      out.pid = 0;
      std::string how = WIFEXITED(status) ? "with status " + std::to_string(WEXITSTATUS(status))
                                          : WIFSIGNALED(status) ? "on signal " + std::to_string(WTERMSIG(status)) : "";
      err = "server " + cfg.spawn + " exited " + how + " before listening; log:\n" + server_log_tail(out);
      return false;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  err = "server did not print '" + needle + "<port>' within 30 s; log:\n" + server_log_tail(out);
  return false;
}

void stop_server(ServerHandle& s, bool keep) {
  if (s.spawned && s.pid > 0) {
    kill(s.pid, SIGTERM);
    bool gone = false;
    for (int i = 0; i < 100 && !gone; ++i) {
      int status;
      if (waitpid(s.pid, &status, WNOHANG) == s.pid) gone = true;
      else std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    if (!gone) {
      kill(s.pid, SIGKILL);
      waitpid(s.pid, nullptr, 0);
    }
    s.pid = 0;
  }
  if (s.spawned && !keep && !s.dir.empty()) {
    std::error_code ec;
    std::filesystem::remove_all(s.dir, ec);
  }
}

}  // namespace bench
