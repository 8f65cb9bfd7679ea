// The lock that keeps a second process from writing a data directory.
//
// The embedded store keeps state in memory that only holds while it is the directory's
// one writer: the next position, every chat's last seq, the cache of recent messages. A
// second server on the same directory would hand out the same positions and seqs. So the
// store holds an exclusive `flock` on `<directory>/modu.lock` for as long as it is open,
// and the file names the holder's process id for the error another process gets. The
// kernel drops the lock when the holder exits, however it exits, so a crash never leaves
// a stale lock behind.
#pragma once

#include <string>

#include "modu/error.h"

namespace modu::sqlite {

class DirectoryLock {
 public:
  // Takes the lock on `directory` (which must exist), or fails with kUnavailable naming
  // the process that holds it.
  static Result<DirectoryLock> take(const std::string& directory);

  DirectoryLock(DirectoryLock&& other) noexcept : fd_(other.fd_) { other.fd_ = -1; }
  DirectoryLock& operator=(DirectoryLock&& other) noexcept;
  DirectoryLock(const DirectoryLock&) = delete;
  DirectoryLock& operator=(const DirectoryLock&) = delete;
  ~DirectoryLock();  // releases the lock

 private:
  explicit DirectoryLock(int fd) : fd_(fd) {}
  int fd_;
};

}  // namespace modu::sqlite
