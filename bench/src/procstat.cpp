#include "procstat.hpp"

#include <dirent.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include <cstdio>
#include <cstring>
#include <fstream>
#include <set>
#include <sstream>

namespace bench {

int64_t now_ns() {
  timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return int64_t(ts.tv_sec) * 1000000000 + ts.tv_nsec;
}

ProcSample sample_process(int pid) {
  ProcSample s;
  if (pid <= 0) return s;
  std::ifstream stat("/proc/" + std::to_string(pid) + "/stat");
  std::string line;
  if (!std::getline(stat, line)) return s;
  // Field 2 (comm) may hold spaces; fields after the last ')' are fixed.
  size_t rp = line.rfind(')');
  if (rp == std::string::npos) return s;
  std::istringstream rest(line.substr(rp + 2));
  std::string f;
  unsigned long long utime = 0, stime = 0;
  for (int field = 3; rest >> f; ++field) {
    if (field == 14) utime = std::stoull(f);
    if (field == 15) { stime = std::stoull(f); break; }
  }
  double hz = double(sysconf(_SC_CLK_TCK));
  s.cpu_s = double(utime + stime) / hz;
  std::ifstream status("/proc/" + std::to_string(pid) + "/status");
  while (std::getline(status, line)) {
    if (line.rfind("VmRSS:", 0) == 0) s.rss_kb = std::atoll(line.c_str() + 6);
  }
  s.wait_s = cpu_wait_seconds(pid);
  s.ok = true;
  return s;
}

double cpu_wait_seconds(int pid) {
  std::string dir = pid > 0 ? "/proc/" + std::to_string(pid) + "/task" : "/proc/self/task";
  DIR* tasks = opendir(dir.c_str());
  if (!tasks) return 0;
  unsigned long long waited_ns = 0;
  while (dirent* t = readdir(tasks)) {
    if (t->d_name[0] == '.') continue;
    std::ifstream in(dir + "/" + t->d_name + "/schedstat");
    unsigned long long ran = 0, waited = 0;
    if (in >> ran >> waited) waited_ns += waited;
  }
  closedir(tasks);
  return double(waited_ns) / 1e9;
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
