#include "common/cores.h"

#include <sched.h>

#include <thread>

namespace modu {

unsigned usable_cores() {
  cpu_set_t set;
  CPU_ZERO(&set);
  if (sched_getaffinity(0, sizeof(set), &set) == 0) {
    int n = CPU_COUNT(&set);
    if (n > 0) return static_cast<unsigned>(n);
  }
  unsigned online = std::thread::hardware_concurrency();
  return online > 0 ? online : 1;
}

}  // namespace modu
