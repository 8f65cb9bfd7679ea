#include <gtest/gtest.h>

#include <pthread.h>
#include <sched.h>

#include <thread>

#include "common/cores.h"
#include "net/options.h"
#include "net/server.h"

namespace modu {
namespace {

// The default leaves a core to the store's committer (docs/benchmarks.md, entry 28).
TEST(ServerTest, DefaultRunsOneEventLoopPerCoreButOne) {
  unsigned cores = usable_cores();
  std::size_t expected = cores > 1 ? cores - 1 : 1;
  Server server(NetOptions{});
  EXPECT_EQ(server.loops().size(), expected);
}

// Cores are the ones the process may run on (taskset, a cpuset), not the machine's.
TEST(ServerTest, UsableCoresFollowTheAffinityMask) {
  EXPECT_GE(usable_cores(), 1u);
  unsigned pinned = 0;
  std::size_t loops = 0;
  std::thread([&] {
    cpu_set_t one;
    CPU_ZERO(&one);
    CPU_SET(0, &one);
    ASSERT_EQ(pthread_setaffinity_np(pthread_self(), sizeof(one), &one), 0);
    pinned = usable_cores();
    loops = Server(NetOptions{}).loops().size();
  }).join();
  EXPECT_EQ(pinned, 1u);
  EXPECT_EQ(loops, 1u);
}

TEST(ServerTest, ThreadsSetsTheEventLoops) {
  for (std::size_t n : {1u, 3u}) {
    NetOptions options;
    options.threads = n;
    Server server(options);
    EXPECT_EQ(server.loops().size(), n);
  }
}

}  // namespace
}  // namespace modu
