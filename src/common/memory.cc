#include "common/memory.h"

#include <unistd.h>

#include <algorithm>
#include <charconv>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

namespace modu {
namespace {

std::string read_small_file(const std::string& path) {
  std::ifstream in(path);
  if (!in) return {};
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

// The memory limit files that may apply to this process: those of its groups in
// /proc/self/cgroup ("0::/path" for v2, "N:memory:/path" for v1) and of every group above
// them up to the hierarchy's root, where a container whose namespace starts at its own
// group finds its limit. A parent's limit binds its children too.
std::vector<std::string> memory_limit_files() {
  std::vector<std::string> files;
  auto add_up_to_root = [&files](const std::string& mount, std::string group, const char* file) {
    for (;;) {
      files.push_back(mount + group + (group.back() == '/' ? "" : "/") + file);
      if (group == "/") break;
      group.erase(group.find_last_of('/'));
      if (group.empty()) group = "/";
    }
  };
  std::istringstream lines(read_small_file("/proc/self/cgroup"));
  for (std::string line; std::getline(lines, line);) {
    std::size_t first = line.find(':'), second = line.find(':', first + 1);
    if (first == std::string::npos || second == std::string::npos) continue;
    std::string controllers = line.substr(first + 1, second - first - 1);
    std::string group = line.substr(second + 1);
    if (group.empty() || group.front() != '/' || group.find("..") != std::string::npos) continue;
    while (group.size() > 1 && group.back() == '/') group.pop_back();
    if (line.rfind("0::", 0) == 0) {
      add_up_to_root("/sys/fs/cgroup", group, "memory.max");
      add_up_to_root("/sys/fs/cgroup/unified", group, "memory.max");
    } else if (("," + controllers + ",").find(",memory,") != std::string::npos) {
      add_up_to_root("/sys/fs/cgroup/memory", group, "memory.limit_in_bytes");
    }
  }
  if (files.empty()) files = {"/sys/fs/cgroup/memory.max", "/sys/fs/cgroup/memory/memory.limit_in_bytes"};
  return files;
}

// The lowest limit among those files; 0 when none sets one.
std::uint64_t cgroup_memory_limit() {
  std::uint64_t limit = 0;
  for (const std::string& file : memory_limit_files()) {
    std::uint64_t found = parse_cgroup_memory_limit(read_small_file(file));
    if (found != 0) limit = limit == 0 ? found : std::min(limit, found);
  }
  return limit;
}

}  // namespace

std::uint64_t parse_cgroup_memory_limit(std::string_view text) {
  while (!text.empty() && (text.back() == '\n' || text.back() == ' ')) text.remove_suffix(1);
  std::uint64_t bytes = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), bytes);
  if (text.empty() || ec != std::errc() || end != text.data() + text.size()) return 0;
  // cgroup v1 writes "no limit" as the largest page-aligned 64-bit number.
  return bytes >= (std::uint64_t{1} << 62) ? 0 : bytes;
}

std::uint64_t usable_memory_bytes() {
  long pages = sysconf(_SC_PHYS_PAGES);
  long page_size = sysconf(_SC_PAGESIZE);
  std::uint64_t physical =
      pages > 0 && page_size > 0 ? static_cast<std::uint64_t>(pages) * static_cast<std::uint64_t>(page_size) : 0;
  std::uint64_t limit = cgroup_memory_limit();
  if (physical == 0) return limit;
  return limit == 0 ? physical : std::min(physical, limit);
}

}  // namespace modu
