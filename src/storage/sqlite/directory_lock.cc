#include "storage/sqlite/directory_lock.h"

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <fmt/format.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <string_view>

namespace modu::sqlite {

Result<DirectoryLock> DirectoryLock::take(const std::string& directory) {
  std::string path = (std::filesystem::path(directory) / "modu.lock").string();
  int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
  if (fd < 0)
    return make_error(ErrorCode::kUnavailable, fmt::format("cannot open {}: {}", path, std::strerror(errno)));
  if (::flock(fd, LOCK_EX | LOCK_NB) != 0) {
    int err = errno;
    char holder[32] = {};
    ssize_t n = ::pread(fd, holder, sizeof holder - 1, 0);
    ::close(fd);
    if (err != EWOULDBLOCK)
      return make_error(ErrorCode::kUnavailable, fmt::format("cannot lock {}: {}", path, std::strerror(err)));
    std::string_view pid(holder, n > 0 ? static_cast<std::size_t>(n) : 0);
    while (!pid.empty() && (pid.back() == '\n' || pid.back() == ' ')) pid.remove_suffix(1);
    return make_error(ErrorCode::kUnavailable,
                      fmt::format("another Modu process{} is using it; stop that one first, or choose "
                                  "another data directory",
                                  pid.empty() ? "" : fmt::format(" (pid {})", pid)));
  }
  // The pid only names the holder in another process's error; the lock holds without it.
  std::string pid = fmt::format("{}\n", ::getpid());
  [[maybe_unused]] bool noted =
      ::ftruncate(fd, 0) == 0 && ::pwrite(fd, pid.data(), pid.size(), 0) == static_cast<ssize_t>(pid.size());
  return DirectoryLock(fd);
}

DirectoryLock& DirectoryLock::operator=(DirectoryLock&& other) noexcept {
  if (this != &other) {
    if (fd_ >= 0) ::close(fd_);
    fd_ = other.fd_;
    other.fd_ = -1;
  }
  return *this;
}

DirectoryLock::~DirectoryLock() {
  if (fd_ >= 0) ::close(fd_);
}

}  // namespace modu::sqlite
