#include "common/thread_name.h"

#include <pthread.h>

#include <algorithm>
#include <array>

namespace modu {

void name_this_thread(std::string_view name) {
  std::array<char, 16> buffer{};  // the kernel's limit, with the terminating zero
  auto n = std::min(name.size(), buffer.size() - 1);
  std::copy_n(name.data(), n, buffer.data());
  pthread_setname_np(pthread_self(), buffer.data());
}

}  // namespace modu
