#include "procstat.hpp"

#include <dirent.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <optional>
#include <set>
#include <sstream>

namespace bench {

int64_t now_ns() {
  timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return int64_t(ts.tv_sec) * 1000000000 + ts.tv_nsec;
}

// utime + stime in seconds from a /proc/.../stat file; nullopt if it cannot be read (the
// process or thread is gone).
static std::optional<double> stat_cpu_seconds(const std::string& path) {
  std::ifstream stat(path);
  std::string line;
  if (!std::getline(stat, line)) return std::nullopt;
  // Field 2 (comm) may hold spaces; fields after the last ')' are fixed.
  size_t rp = line.rfind(')');
  if (rp == std::string::npos) return std::nullopt;
  std::istringstream rest(line.substr(rp + 2));
  std::string f;
  unsigned long long utime = 0, stime = 0;
  for (int field = 3; rest >> f; ++field) {
    if (field == 14) utime = std::stoull(f);
    if (field == 15) { stime = std::stoull(f); break; }
  }
  return double(utime + stime) / double(sysconf(_SC_CLK_TCK));
}

ProcSample sample_process(int pid) {
  ProcSample s;
  if (pid <= 0) return s;
  auto cpu = stat_cpu_seconds("/proc/" + std::to_string(pid) + "/stat");
  if (!cpu) return s;
  s.cpu_s = *cpu;
  std::string line;
  std::ifstream status("/proc/" + std::to_string(pid) + "/status");
  while (std::getline(status, line)) {
    if (line.rfind("VmRSS:", 0) == 0) s.rss_kb = std::atoll(line.c_str() + 6);
  }
  s.threads = sample_threads(pid);
  for (const ThreadFigures& t : s.threads) s.wait_s += t.wait_s;
  s.ok = true;
  return s;
}

std::vector<ThreadFigures> sample_threads(int pid) {
  std::vector<ThreadFigures> out;
  std::string dir = pid > 0 ? "/proc/" + std::to_string(pid) + "/task" : "/proc/self/task";
  DIR* tasks = opendir(dir.c_str());
  if (!tasks) return out;
  while (dirent* t = readdir(tasks)) {
    if (t->d_name[0] == '.') continue;
    std::string task = dir + "/" + t->d_name;
    std::string name;
    std::ifstream comm(task + "/comm");
    if (!std::getline(comm, name)) continue;  // exited meanwhile
    ThreadFigures f{name};
    f.cpu_s = stat_cpu_seconds(task + "/stat").value_or(0);
    std::ifstream sched(task + "/schedstat");
    unsigned long long ran = 0, waited = 0;
    if (sched >> ran >> waited) f.wait_s = double(waited) / 1e9;
    add_threads(out, {f});
  }
  closedir(tasks);
  return out;
}

void add_threads(std::vector<ThreadFigures>& into, const std::vector<ThreadFigures>& more) {
  for (const ThreadFigures& m : more) {
    auto at = std::lower_bound(into.begin(), into.end(), m.name,
                               [](const ThreadFigures& t, const std::string& name) { return t.name < name; });
    if (at == into.end() || at->name != m.name) at = into.insert(at, ThreadFigures{m.name});
    at->cpu_s += m.cpu_s;
    at->wait_s += m.wait_s;
  }
}

std::vector<ThreadFigures> threads_between(const std::vector<ThreadFigures>& from,
                                           const std::vector<ThreadFigures>& to) {
  std::vector<ThreadFigures> out;
  for (const ThreadFigures& t : to) {
    ThreadFigures d = t;
    auto at = std::lower_bound(from.begin(), from.end(), t.name,
                               [](const ThreadFigures& f, const std::string& name) { return f.name < name; });
    if (at != from.end() && at->name == t.name) {  // some of them may have exited since
      d.cpu_s = std::max(0.0, d.cpu_s - at->cpu_s);
      d.wait_s = std::max(0.0, d.wait_s - at->wait_s);
    }
    out.push_back(d);
  }
  return out;
}

double cpu_wait_seconds(int pid) {
  double waited = 0;
  for (const ThreadFigures& t : sample_threads(pid)) waited += t.wait_s;
  return waited;
}

int64_t tcp_kernel_mem_kb() {
  std::ifstream in("/proc/net/sockstat");
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind("TCP:", 0) != 0) continue;
    size_t at = line.find(" mem ");
    if (at == std::string::npos) return 0;
    return std::atoll(line.c_str() + at + 5) * (sysconf(_SC_PAGESIZE) / 1024);
  }
  return 0;
}

double self_cpu_seconds() {
  rusage ru{};
  getrusage(RUSAGE_SELF, &ru);
  return double(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) + double(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6;
}

int find_listening_pid(uint16_t port) {
  std::set<std::string> inodes;
  for (const char* file : {"/proc/net/tcp", "/proc/net/tcp6"}) {
    std::ifstream in(file);
    std::string line;
    std::getline(in, line);  // header
    while (std::getline(in, line)) {
      std::istringstream ls(line);
      std::string sl, local, remote, st, txrx, tr, retr, uid, timeout, inode;
      ls >> sl >> local >> remote >> st >> txrx >> tr >> retr >> uid >> timeout >> inode;
      if (st != "0A") continue;  // LISTEN
      size_t colon = local.rfind(':');
      if (colon == std::string::npos) continue;
      if (std::stoul(local.substr(colon + 1), nullptr, 16) != port) continue;
      inodes.insert("socket:[" + inode + "]");
    }
  }
  if (inodes.empty()) return 0;
  DIR* proc = opendir("/proc");
  if (!proc) return 0;
  int found = 0;
  while (dirent* d = readdir(proc)) {
    int pid = std::atoi(d->d_name);
    if (pid <= 0) continue;
    std::string fddir = "/proc/" + std::to_string(pid) + "/fd";
    DIR* fds = opendir(fddir.c_str());
    if (!fds) continue;
    while (dirent* fd = readdir(fds)) {
      char target[256];
      std::string p = fddir + "/" + fd->d_name;
      ssize_t n = readlink(p.c_str(), target, sizeof target - 1);
      if (n <= 0) continue;
      target[n] = 0;
      if (inodes.count(target)) { found = pid; break; }
    }
    closedir(fds);
    if (found) break;
  }
  closedir(proc);
  return found;
}

}  // namespace bench
