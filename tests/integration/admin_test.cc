// `modu admin`: users create / list, stats and check, run as subprocesses against a data
// directory, and their interplay with `modu serve` on the same directory.
#include <filesystem>
#include <regex>

#include "harness/modu_test.h"

namespace modu_it {
namespace {

std::string describe(const CommandResult& r) {
  return "exit " + std::to_string(r.exit_code) + (r.timed_out ? " (timed out)" : "") + "\nstdout:\n" + r.output +
         "\nstderr:\n" + r.errors;
}

// The number printed next to `word` ("users: 3" or "3 users"), or -1.
long count_next_to(const std::string& output, const std::string& word) {
  std::smatch m;
  if (std::regex_search(output, m, std::regex(word + "s?\\W+(\\d+)", std::regex::icase))) return std::stol(m[1]);
  if (std::regex_search(output, m, std::regex("(\\d+)\\W+" + word, std::regex::icase))) return std::stol(m[1]);
  return -1;
}

// `modu admin` on the server's data (its directory, or its PostgreSQL database).
CommandResult admin(const ServerProcess& server, std::vector<std::string> args) {
  std::vector<std::string> argv{"admin"};
  auto store = server.store_args();
  argv.insert(argv.end(), store.begin(), store.end());
  argv.insert(argv.end(), args.begin(), args.end());
  return run_modu(argv);
}

TEST(AdminTest, UsersCreateThenSignInOverWebSocket) {
  ServerProcess server;
  CommandResult created = admin(server, {"users", "create", "minji", "--password", "correct horse"});
  ASSERT_EQ(created.exit_code, 0) << describe(created);

  server.start();
  Client client(server.port());
  Account account = client.login("minji", "correct horse");
  EXPECT_GT(account.user_id, 0);
  EXPECT_EQ(client.ok("profile.get", JsonObj().set("handle", "minji"))["profile"]["user_id"].i64(), account.user_id);
  Client wrong(server.port());
  EXPECT_EQ(wrong.error("auth.login", JsonObj()
                                          .set("handle", "minji")
                                          .set("password", "wrong password")
                                          .set("device", JsonObj().set("kind", "pc").set("name", "x"))),
            "invalid_credentials");
}

TEST(AdminTest, UsersListShowsAdminAndSelfRegisteredUsers) {
  ServerProcess server;
  ASSERT_EQ(admin(server, {"users", "create", "minji", "--password", "correct horse"}).exit_code, 0);
  server.start();
  {
    Client client(server.port());
    client.register_user("bob_the_builder");
  }
  server.stop();
  CommandResult list = admin(server, {"users", "list"});
  ASSERT_EQ(list.exit_code, 0) << describe(list);
  EXPECT_NE(list.output.find("minji"), std::string::npos) << describe(list);
  EXPECT_NE(list.output.find("bob_the_builder"), std::string::npos) << describe(list);
}

TEST(AdminTest, UsersCreateRefusesDuplicateInvalidHandleAndWeakPassword) {
  ServerProcess data;  // never started: it only provides the data (directory or database)
  ASSERT_EQ(admin(data, {"users", "create", "minji", "--password", "correct horse"}).exit_code, 0);
  CommandResult duplicate = admin(data, {"users", "create", "minji", "--password", "another one"});
  EXPECT_NE(duplicate.exit_code, 0) << describe(duplicate);
  CommandResult invalid = admin(data, {"users", "create", "Not Valid!", "--password", "correct horse"});
  EXPECT_NE(invalid.exit_code, 0) << describe(invalid);
  CommandResult weak = admin(data, {"users", "create", "shorty", "--password", "short"});
  EXPECT_NE(weak.exit_code, 0) << describe(weak);
  CommandResult list = admin(data, {"users", "list"});
  ASSERT_EQ(list.exit_code, 0) << describe(list);
  EXPECT_EQ(list.output.find("shorty"), std::string::npos) << describe(list);
}

TEST(AdminTest, StatsReportsUsersAndMessages) {
  ServerProcess server;
  server.start();
  {
    Client alice(server.port());
    alice.register_user("alice");
    std::int64_t memo = alice.ok("chats.memo")["chat"]["chat_id"].i64();
    for (int i = 0; i < 3; ++i) send_text(alice, memo, "note " + std::to_string(i));
  }
  server.stop();
  CommandResult stats = admin(server, {"stats"});
  ASSERT_EQ(stats.exit_code, 0) << describe(stats);
  EXPECT_EQ(count_next_to(stats.output, "user"), 1) << describe(stats);
  EXPECT_EQ(count_next_to(stats.output, "message"), 3) << describe(stats);
}

TEST(AdminTest, CheckPassesOnHealthyAndCrashedDataDirectories) {
  ServerProcess server;
  server.start();
  {
    Client alice(server.port());
    alice.register_user("alice");
    std::int64_t memo = alice.ok("chats.memo")["chat"]["chat_id"].i64();
    send_text(alice, memo, "before stop");
  }
  server.stop();
  CommandResult healthy = admin(server, {"check"});
  EXPECT_EQ(healthy.exit_code, 0) << describe(healthy);

  server.start();
  {
    Client alice(server.port());
    alice.login("alice", default_password("alice"));
    std::int64_t memo = alice.ok("chats.memo")["chat"]["chat_id"].i64();
    send_text(alice, memo, "before crash");
  }
  server.kill9();
  CommandResult after_crash = admin(server, {"check"});
  EXPECT_EQ(after_crash.exit_code, 0) << describe(after_crash);
}

// The embedded store keeps its positions and seqs in memory, so a second writer of the same
// data directory is refused while a server runs there, and let in once it has stopped.
// Reading commands run beside the server. A PostgreSQL store is made for several writers.
TEST(AdminTest, ASecondWriterOfTheDataDirectoryIsRefusedUntilTheServerStops) {
  ServerProcess server;
  server.start();
  CommandResult beside = admin(server, {"users", "create", "minji", "--password", "correct horse"});
  if (test_store_is_postgres()) {
    EXPECT_EQ(beside.exit_code, 0) << describe(beside);
  } else {
    EXPECT_EQ(beside.exit_code, 1) << describe(beside);
    EXPECT_NE(beside.errors.find("another Modu process (pid " + std::to_string(server.pid()) + ")"),
              std::string::npos) << describe(beside);
    std::vector<std::string> second{"serve", "--listen", "127.0.0.1:0"};
    auto store = server.store_args();
    second.insert(second.end(), store.begin(), store.end());
    CommandResult refused = run_modu(second, std::chrono::seconds(20));
    EXPECT_FALSE(refused.timed_out) << "a second server started on the same data directory";
    EXPECT_NE(refused.exit_code, 0) << describe(refused);
    EXPECT_NE((refused.output + refused.errors).find("another Modu process"), std::string::npos)
        << describe(refused);
  }
  CommandResult stats = admin(server, {"stats"});
  EXPECT_EQ(stats.exit_code, 0) << describe(stats);
  EXPECT_EQ(admin(server, {"check"}).exit_code, 0);
  {
    Client client(server.port());  // the refused writers left the server working
    client.register_user("bob_the_builder");
  }
  server.stop();
  if (!test_store_is_postgres()) {
    CommandResult after = admin(server, {"users", "create", "minji", "--password", "correct horse"});
    ASSERT_EQ(after.exit_code, 0) << describe(after);
  }
  server.start();
  Client client(server.port());
  EXPECT_GT(client.login("minji", "correct horse").user_id, 0);
}

TEST(AdminTest, CompactWaitsForTheServerToStopAndKeepsEverything) {
  ServerProcess server;
  server.start();
  {
    Client alice(server.port());
    alice.register_user("alice_compact", "", "correct horse battery");
  }
  CommandResult beside = admin(server, {"compact"});
  if (test_store_is_postgres()) {
    EXPECT_EQ(beside.exit_code, 2) << describe(beside);
    EXPECT_NE(beside.errors.find("autovacuum"), std::string::npos) << describe(beside);
    return;
  }
  EXPECT_EQ(beside.exit_code, 1) << describe(beside);
  EXPECT_NE(beside.errors.find("another Modu process"), std::string::npos) << describe(beside);
  server.stop();
  CommandResult done = admin(server, {"compact"});
  ASSERT_EQ(done.exit_code, 0) << describe(done);
  EXPECT_NE(done.output.find("MiB"), std::string::npos) << describe(done);
  EXPECT_EQ(admin(server, {"check"}).exit_code, 0);
  server.start();
  Client again(server.port());
  EXPECT_GT(again.login("alice_compact", "correct horse battery").user_id, 0);
}

TEST(AdminTest, TheStoreMayBeNamedAfterTheSubcommand) {
  ServerProcess data;  // never started: it only provides the data (directory or database)
  std::vector<std::string> create{"admin", "users", "create", "minji", "--password", "correct horse"};
  std::vector<std::string> stats{"admin", "stats"};
  for (const std::string& arg : data.store_args()) {
    create.push_back(arg);
    stats.push_back(arg);
  }
  CommandResult created = run_modu(create);
  ASSERT_EQ(created.exit_code, 0) << describe(created);
  CommandResult counted = run_modu(stats);
  ASSERT_EQ(counted.exit_code, 0) << describe(counted);
  EXPECT_EQ(count_next_to(counted.output, "user"), 1) << describe(counted);
  // The same order with an option no command has is still an error.
  stats.push_back("--frobnicate");
  CommandResult unknown = run_modu(stats);
  EXPECT_NE(unknown.exit_code, 0) << describe(unknown);
}

TEST(AdminTest, ReadingCommandsRefuseADirectoryWithoutAStore) {
  TempDir dir;
  const std::string missing = dir.path() + "/mistyped";
  for (const char* command : {"stats", "check"}) {
    CommandResult r = run_modu({"admin", "--data", missing, command});
    EXPECT_NE(r.exit_code, 0) << command << ": " << describe(r);
    EXPECT_NE(r.errors.find("no Modu database"), std::string::npos) << command << ": " << describe(r);
  }
  CommandResult list = run_modu({"admin", "--data", missing, "users", "list"});
  EXPECT_NE(list.exit_code, 0) << describe(list);
  EXPECT_FALSE(std::filesystem::exists(missing)) << "a reading command created the directory";
  // Creating a user is how an operator starts a directory before its first `modu serve`.
  CommandResult created = run_modu({"admin", "--data", missing, "users", "create", "minji", "--password", "correct horse"});
  ASSERT_EQ(created.exit_code, 0) << describe(created);
  CommandResult stats = run_modu({"admin", "--data", missing, "stats"});
  ASSERT_EQ(stats.exit_code, 0) << describe(stats);
  EXPECT_EQ(count_next_to(stats.output, "user"), 1) << describe(stats);
}

TEST(AdminTest, UnknownCommandFails) {
  ServerProcess data;  // never started: it only provides the data (directory or database)
  CommandResult r = admin(data, {"frobnicate"});
  EXPECT_NE(r.exit_code, 0) << describe(r);
  EXPECT_FALSE(r.timed_out);
}

}  // namespace
}  // namespace modu_it
