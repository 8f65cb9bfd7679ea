#include <gtest/gtest.h>

#include <thread>

#include "net/options.h"
#include "net/server.h"

namespace modu {
namespace {

// The default leaves a core to the store's committer (docs/benchmarks.md, entry 28).
TEST(ServerTest, DefaultRunsOneEventLoopPerCoreButOne) {
  unsigned cores = std::thread::hardware_concurrency();
  std::size_t expected = cores > 1 ? cores - 1 : 1;
  Server server(NetOptions{});
  EXPECT_EQ(server.loops().size(), expected);
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
