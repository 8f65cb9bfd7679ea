// The TOML settings file of `modu serve` (src/app/config.h): known keys land in the
// config, unknown keys and wrong types are refused, and finish_config splits --listen.
#include "app/config.h"

#include <gtest/gtest.h>

#include "test_support.h"

namespace modu {
namespace {

using test::TempDir;

class ConfigTest : public ::testing::Test {
 protected:
  Status load(const std::string& toml) {
    return load_config_file(dir_.write("modu.toml", toml).string(), config_);
  }
  void expect_refused(const std::string& toml, std::string_view mentions) {
    ServeConfig fresh;
    config_ = fresh;
    Status s = load(toml);
    ASSERT_FALSE(s.ok()) << toml;
    EXPECT_EQ(s.error().code, ErrorCode::kBadRequest);
    EXPECT_NE(s.error().message.find(mentions), std::string::npos) << s.error().message;
  }

  TempDir dir_;
  ServeConfig config_;
};

TEST_F(ConfigTest, EveryKeyIsApplied) {
  Status s = load(R"(
listen = "0.0.0.0:9000"
data = "/var/lib/modu"
web = "web/dist"
threads = 4
tls_cert = "cert.pem"
tls_key = "key.pem"
allow_origin = ["https://app.example", "http://localhost:5173"]
max_frame_bytes = 131072
max_text_bytes = 8192
rate_limit = 25.5
rate_burst = 100.0
delete_window = 600
max_group_members = 300
handshake_timeout = 5
idle_timeout = 90
password_memory_kib = 65536
password_ops = 3
fsync = false
batch_sends = false
commit_interval = 250
committer = "loop"
recent_messages_mib = 64
log_level = "debug"
)");
  ASSERT_TRUE(s.ok()) << s.error().message;
  EXPECT_EQ(config_.listen, "0.0.0.0:9000");
  EXPECT_EQ(config_.data_dir, "/var/lib/modu");
  EXPECT_EQ(config_.net.web_root, "web/dist");
  EXPECT_EQ(config_.net.threads, 4u);
  EXPECT_EQ(config_.net.tls_cert, "cert.pem");
  EXPECT_EQ(config_.net.tls_key, "key.pem");
  EXPECT_EQ(config_.net.allowed_origins, (std::vector<std::string>{"https://app.example", "http://localhost:5173"}));
  EXPECT_EQ(config_.net.max_frame_bytes, 131072u);
  EXPECT_EQ(config_.services.max_text_bytes, 8192u);
  EXPECT_DOUBLE_EQ(config_.net.rate_limit, 25.5);
  EXPECT_DOUBLE_EQ(config_.net.rate_burst, 100.0);
  EXPECT_EQ(config_.services.delete_window_seconds, 600);
  EXPECT_EQ(config_.services.max_group_members, 300u);
  EXPECT_EQ(config_.net.handshake_timeout, std::chrono::seconds(5));
  EXPECT_EQ(config_.net.idle_timeout, std::chrono::seconds(90));
  EXPECT_EQ(config_.services.password_memory_kib, 65536u);
  EXPECT_EQ(config_.services.password_ops, 3u);
  EXPECT_FALSE(config_.fsync);
  EXPECT_FALSE(config_.net.batch_sends);
  EXPECT_EQ(config_.commit_interval, std::chrono::microseconds(250));
  EXPECT_EQ(config_.committer, "loop");
  EXPECT_EQ(config_.recent_messages_mib, 64u);
  EXPECT_EQ(config_.log_level, "debug");
}

TEST_F(ConfigTest, EmptyFileKeepsDefaults) {
  ASSERT_TRUE(load("# nothing\n").ok());
  ServeConfig defaults;
  EXPECT_EQ(config_.listen, defaults.listen);
  EXPECT_EQ(config_.net.max_frame_bytes, defaults.net.max_frame_bytes);
  EXPECT_TRUE(config_.fsync);
  EXPECT_TRUE(config_.net.batch_sends);
}

TEST_F(ConfigTest, UnknownKeysAreRefused) {
  expect_refused("listn = \"127.0.0.1:1\"\n", "unknown setting 'listn'");
  expect_refused("max-text-bytes = 10\n", "unknown setting");  // '-' is the flag spelling
  expect_refused("[net]\nthreads = 2\n", "unknown setting 'net'");
}

TEST_F(ConfigTest, WrongTypesAreRefused) {
  expect_refused("threads = \"four\"\n", "cannot read config");
  expect_refused("listen = 8080\n", "cannot read config");
  expect_refused("fsync = \"yes\"\n", "cannot read config");
  expect_refused("allow_origin = \"https://app.example\"\n", "cannot read config");
  expect_refused("allow_origin = [1, 2]\n", "cannot read config");
}

TEST_F(ConfigTest, SyntaxErrorsAndMissingFilesAreRefused) {
  expect_refused("listen = \n", "cannot read config");
  expect_refused("= 3\n", "cannot read config");
  ServeConfig c;
  Status s = load_config_file((dir_.path() / "missing.toml").string(), c);
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.error().message.find("missing.toml"), std::string::npos);
}

TEST(FinishConfigTest, SplitsListenIntoHostAndPort) {
  ServeConfig c;
  c.listen = "0.0.0.0:9000";
  ASSERT_TRUE(finish_config(c).ok());
  EXPECT_EQ(c.net.host, "0.0.0.0");
  EXPECT_EQ(c.net.port, 9000);

  c.listen = "[::1]:0";
  ASSERT_TRUE(finish_config(c).ok());
  EXPECT_EQ(c.net.host, "::1");
  EXPECT_EQ(c.net.port, 0);
}

TEST(FinishConfigTest, RefusesACommitIntervalOutOfRange) {
  for (int us : {-1, 100001}) {
    ServeConfig c;
    c.commit_interval = std::chrono::microseconds(us);
    Status s = finish_config(c);
    ASSERT_FALSE(s.ok()) << us;
    EXPECT_NE(s.error().message.find("--commit-interval"), std::string::npos) << s.error().message;
  }
  ServeConfig zero;
  zero.commit_interval = std::chrono::microseconds(0);
  EXPECT_TRUE(finish_config(zero).ok());
}

// Loads `toml` into `c` and finishes it, as start-up does.
Status load_and_finish(const std::string& toml, ServeConfig& c) {
  TempDir dir;
  Status loaded = load_config_file(dir.write("modu.toml", toml).string(), c);
  return loaded.ok() ? finish_config(c) : loaded;
}

TEST(ServeDefaultsTest, RecentMessagesTakeASixteenthOfTheMemoryWithinBounds) {
  constexpr std::uint64_t kGiB = std::uint64_t{1} << 30;
  EXPECT_EQ(default_recent_messages_mib(4 * kGiB), 256u);
  EXPECT_EQ(default_recent_messages_mib(2 * kGiB), 128u);
  EXPECT_EQ(default_recent_messages_mib(24 * kGiB), 1024u);  // at most 1 GiB
  EXPECT_EQ(default_recent_messages_mib(256 * kGiB), 1024u);
  EXPECT_EQ(default_recent_messages_mib(256u << 20), 32u);    // at least 32 MiB
  EXPECT_EQ(default_recent_messages_mib(0), SqliteOptions{}.recent_messages_bytes >> 20);  // unknown
  // This machine's memory, or its container's limit, is known and at least 64 MiB.
  EXPECT_GE(usable_memory_bytes(), std::uint64_t{64} << 20);
}

TEST(ServeDefaultsTest, ReadsAControlGroupsMemoryLimit) {
  EXPECT_EQ(parse_cgroup_memory_limit("536870912\n"), 536870912u);
  EXPECT_EQ(parse_cgroup_memory_limit("max\n"), 0u);                  // v2: no limit
  EXPECT_EQ(parse_cgroup_memory_limit("9223372036854771712\n"), 0u);  // v1: no limit
  EXPECT_EQ(parse_cgroup_memory_limit(""), 0u);                        // no such file
  EXPECT_EQ(parse_cgroup_memory_limit("12ab"), 0u);
  EXPECT_EQ(parse_cgroup_memory_limit("-1"), 0u);
}

TEST(FinishConfigTest, RefusesARecentMessagesBudgetOutOfRange) {
  ServeConfig c;
  EXPECT_EQ(c.recent_messages_mib, default_recent_messages_mib(usable_memory_bytes()));
  ASSERT_TRUE(load_and_finish("recent_messages_mib = 0\n", c).ok());
  EXPECT_EQ(c.recent_messages_mib, 0u);
  for (const char* toml : {"recent_messages_mib = -1\n", "recent_messages_mib = 2000000\n"}) {
    ServeConfig bad;
    Status s = load_and_finish(toml, bad);
    ASSERT_FALSE(s.ok()) << toml;
    EXPECT_NE(s.error().message.find("--recent-messages-mib"), std::string::npos) << s.error().message;
  }
}

TEST(FinishConfigTest, TheCommitterIsThreadOrLoop) {
  ServeConfig c;
  EXPECT_EQ(c.committer, "thread");
  for (std::string committer : {"thread", "loop"}) {
    c.committer = committer;
    EXPECT_TRUE(finish_config(c).ok()) << committer;
  }
  c.committer = "elsewhere";
  Status s = finish_config(c);
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.error().message.find("--committer"), std::string::npos) << s.error().message;
}

TEST(FinishConfigTest, RefusesBadListenAddresses) {
  for (std::string listen : {"127.0.0.1", "127.0.0.1:", "127.0.0.1:http", "127.0.0.1:65536",
                             "127.0.0.1:-1", "127.0.0.1:80x"}) {
    ServeConfig c;
    c.listen = listen;
    Status s = finish_config(c);
    EXPECT_FALSE(s.ok()) << listen;
  }
}

// The shard map: each --shard takes one URI (any argument may follow), in order;
// shards need a PostgreSQL --store and must be PostgreSQL themselves.
TEST(ServeFlagsTest, ShardsAreTakenOneUriEachInOrder) {
  CLI::App app;
  ServeConfig c;
  add_serve_options(app, c);
  std::string positional;
  app.add_option("positional", positional);
  std::vector<std::string> argv{"modu", "--store", "postgres://h/a", "--shard", "postgres://h/b",
                                "--shard", "postgres://h/c", "next"};
  std::vector<char*> raw;
  for (auto& a : argv) raw.push_back(a.data());
  ASSERT_NO_THROW(app.parse(static_cast<int>(raw.size()), raw.data()));
  EXPECT_EQ(c.shards, (std::vector<std::string>{"postgres://h/b", "postgres://h/c"}));
  EXPECT_EQ(positional, "next") << "the argument after the last shard was taken as a shard";
  EXPECT_TRUE(finish_config(c).ok());

  ServeConfig no_store;
  no_store.shards = {"postgres://h/b"};
  Status s = finish_config(no_store);
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.error().message.find("--shard needs --store"), std::string::npos) << s.error().message;

  ServeConfig not_pg;
  not_pg.store = "postgres://h/a";
  not_pg.shards = {"/var/lib/modu"};
  EXPECT_FALSE(finish_config(not_pg).ok());
}

}  // namespace
}  // namespace modu
