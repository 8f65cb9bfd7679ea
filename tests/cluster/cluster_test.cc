// Several `modu serve` nodes acting as one service: one PostgreSQL store, a NATS server
// between the nodes, three nodes, clients on different nodes. Every server here is real and
// started by the test itself on loopback (scripts/pg-instance, nats-server from Debian).
// Every test runs twice: on one database (`OneDatabase/…`), and on a store split into two
// shards held by two PostgreSQL instances (`TwoShards/…`, the shard map of docs/deploy.md).
//
// What must hold (docs/deploy.md): a message stored by one node reaches members on every
// node, in seq order, exactly once; read pointers and sync agree across nodes; a node
// killed with SIGKILL mid-load loses no acknowledged message — its clients reconnect to
// another node, resend unacknowledged messages with the same client id and catch up; a
// NATS outage makes nodes not-ready and they recover by themselves.
#include <gtest/gtest.h>
#include <signal.h>
#include <fcntl.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <netinet/in.h>
#include <unistd.h>

#include <array>
#include <cstdio>
#include <map>
#include <set>
#include <thread>

#include "harness/client.h"
#include "harness/http.h"
#include "harness/process.h"

namespace modu_it {
namespace {

// Output of a shell command (stdout), or throws when it fails.
std::string shell(const std::string& command) {
  std::string out;
  FILE* p = popen(command.c_str(), "r");
  if (!p) throw std::runtime_error("cannot run: " + command);
  std::array<char, 4096> buf{};
  while (std::size_t n = fread(buf.data(), 1, buf.size(), p)) out.append(buf.data(), n);
  int status = pclose(p);
  if (status != 0) throw std::runtime_error("command failed (" + std::to_string(status) + "): " + command + "\n" + out);
  while (!out.empty() && (out.back() == '\n' || out.back() == '\r')) out.pop_back();
  return out;
}

std::uint16_t free_port() {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr));
  socklen_t len = sizeof(addr);
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
  ::close(fd);
  return ntohs(addr.sin_port);
}

// A NATS server on loopback, killed with the test.
class NatsServer {
 public:
  explicit NatsServer(std::uint16_t port) : port_(port) { start(); }
  ~NatsServer() { stop(); }

  void start() {
    pid_ = fork();
    if (pid_ == 0) {
      prctl(PR_SET_PDEATHSIG, SIGKILL);
      int null = ::open("/dev/null", O_WRONLY);
      ::dup2(null, 1);
      ::dup2(null, 2);
      std::string port = std::to_string(port_);
      execlp("nats-server", "nats-server", "-a", "127.0.0.1", "-p", port.c_str(), nullptr);
      _exit(127);
    }
    for (int i = 0; i < 100; ++i) {  // wait until it accepts connections
      int fd = ::socket(AF_INET, SOCK_STREAM, 0);
      sockaddr_in addr{};
      addr.sin_family = AF_INET;
      addr.sin_port = htons(port_);
      addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
      bool up = ::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) == 0;
      ::close(fd);
      if (up) return;
      std::this_thread::sleep_for(50ms);
    }
    throw std::runtime_error("nats-server did not start (is the nats-server package installed?)");
  }
  void stop() {
    if (pid_ <= 0) return;
    ::kill(pid_, SIGKILL);
    ::waitpid(pid_, nullptr, 0);
    pid_ = -1;
  }
  std::string url() const { return "nats://127.0.0.1:" + std::to_string(port_); }

 private:
  std::uint16_t port_;
  pid_t pid_ = -1;
};

// The directory of the second PostgreSQL instance (shard 1 of the sharded runs).
std::string second_instance_dir() {
  const char* first = std::getenv("MODU_PG_DIR");
  return (first && *first ? std::string(first) : "/tmp/modu-pg-" + std::to_string(::getuid())) + "-shard1";
}

// A fresh database on the instance whose maintenance DSN is `admin`; returns its DSN.
std::string create_database(const std::string& admin) {
  static int counter = 0;
  std::string db = "modu_cluster_" + std::to_string(::getpid()) + "_" + std::to_string(++counter);
  shell("psql '" + admin + "' -qc 'CREATE DATABASE " + db + "'");
  return admin.substr(0, admin.rfind('/') + 1) + db;
}

// GetParam(): whether the store is split into two shards on two PostgreSQL instances.
class ClusterTest : public ::testing::TestWithParam<bool> {
 protected:
  static void SetUpTestSuite() {
    // The throwaway PostgreSQL instances (started once, shared by the suite).
    std::string script = std::string(MODU_SOURCE_DIR) + "/scripts/pg-instance";
    pg_dsn_ = new std::string(shell(script + " start --fast"));
    second_pg_dsn_ = new std::string(shell("MODU_PG_DIR='" + second_instance_dir() + "' " + script + " start --fast"));
  }
  static void TearDownTestSuite() {
    shell("MODU_PG_DIR='" + second_instance_dir() + "' " + std::string(MODU_SOURCE_DIR) + "/scripts/pg-instance stop");
  }

  bool sharded() const { return GetParam(); }

  void SetUp() override {
    nats_ = std::make_unique<NatsServer>(free_port());
    dsn_ = create_database(*pg_dsn_);
    std::vector<std::string> store{"--store", dsn_};
    if (sharded()) store.insert(store.end(), {"--shard", create_database(*second_pg_dsn_)});
    for (int i = 0; i < 3; ++i) {
      std::vector<std::string> args = store;
      args.insert(args.end(), {"--bus", nats_->url(), "--password-memory-kib", "8", "--password-ops", "1",
                               "--rate-limit", "100000", "--rate-burst", "100000"});
      nodes_.push_back(std::make_unique<ServerProcess>(args));
      nodes_.back()->start();
    }
  }

  std::uint16_t port(int node) { return nodes_[static_cast<std::size_t>(node)]->port(); }

  // Waits until every node answers /healthz with `status`.
  void expect_health(int status, Millis within) {
    auto deadline = std::chrono::steady_clock::now() + within;
    for (;;) {
      bool all = true;
      for (auto& n : nodes_)
        if (n->running() && http_get(n->port(), "/healthz").status != status) all = false;
      if (all) return;
      if (std::chrono::steady_clock::now() > deadline) FAIL() << "nodes did not report /healthz " << status;
      std::this_thread::sleep_for(100ms);
    }
  }

  static std::string* pg_dsn_;
  static std::string* second_pg_dsn_;
  std::string dsn_;
  std::unique_ptr<NatsServer> nats_;
  std::vector<std::unique_ptr<ServerProcess>> nodes_;
};

std::string* ClusterTest::pg_dsn_ = nullptr;
std::string* ClusterTest::second_pg_dsn_ = nullptr;

// A group of one user per node; returns the chat id. users[i] is connected to node i.
std::int64_t make_group(std::vector<std::unique_ptr<Client>>& clients, const std::vector<Account>& accounts) {
  JsonArr ids;
  for (std::size_t i = 1; i < accounts.size(); ++i) ids.add(accounts[i].user_id);
  auto chat = clients[0]->ok("chats.create_group", JsonObj().set("title", "cluster").set("user_ids", ids))["chat"];
  std::int64_t chat_id = chat["chat_id"].i64();
  for (std::size_t i = 1; i < clients.size(); ++i)
    clients[i]->expect_event_matching("chat.updated", [&](const JsonRef& e) {
      return e["data"]["chat"]["chat_id"].i64() == chat_id;
    }, 10s);
  return chat_id;
}

TEST_P(ClusterTest, MessagesReachMembersOnEveryNodeInSeqOrderOnce) {
  std::vector<std::unique_ptr<Client>> clients;
  std::vector<Account> accounts;
  for (int i = 0; i < 3; ++i) {
    clients.push_back(std::make_unique<Client>(port(i)));
    accounts.push_back(clients.back()->register_user("node" + std::to_string(i) + "user"));
  }
  std::int64_t chat_id = make_group(clients, accounts);
  for (auto& c : clients) c->clear_events();

  // Senders on two nodes interleave: the store orders them, every node delivers in order.
  constexpr int kPerSender = 60;
  std::vector<std::int64_t> pending;
  for (int i = 0; i < kPerSender; ++i)
    for (int s = 0; s < 2; ++s)
      pending.push_back(clients[static_cast<std::size_t>(s)]->send_request(
          "messages.send", JsonObj().set("chat_id", chat_id)
                               .set("client_id", "c" + std::to_string(s) + "-" + std::to_string(i))
                               .set("text", "m" + std::to_string(i))));
  for (std::size_t k = 0; k < pending.size(); ++k)
    ASSERT_TRUE(clients[k % 2]->wait_response(pending[k], 20s).ok());

  for (std::size_t c = 0; c < clients.size(); ++c) {
    std::vector<std::int64_t> seqs;
    auto deadline = std::chrono::steady_clock::now() + 20s;
    while (seqs.size() < 2 * kPerSender && std::chrono::steady_clock::now() < deadline) {
      auto e = clients[c]->next_event("message.new", 2s);
      if (!e) continue;
      seqs.push_back((*e)["data"]["message"]["seq"].i64());
    }
    ASSERT_EQ(seqs.size(), 2u * kPerSender) << "client on node " << c;
    for (std::size_t i = 1; i < seqs.size(); ++i)
      ASSERT_EQ(seqs[i], seqs[i - 1] + 1) << "client on node " << c << " got seq " << seqs[i] << " after " << seqs[i - 1];
    EXPECT_TRUE(clients[c]->events_within("message.new", 300ms).empty()) << "a duplicate arrived on node " << c;
  }
}

TEST_P(ClusterTest, ReadPointersAndSyncAgreeAcrossNodes) {
  Client a(port(0)), b(port(1));
  auto alice = a.register_user("alice");
  auto bob = b.register_user("bob");
  std::int64_t chat_id = a.ok("chats.direct", JsonObj().set("user_id", bob.user_id))["chat"]["chat_id"].i64();
  for (int i = 0; i < 5; ++i)
    a.ok("messages.send", JsonObj().set("chat_id", chat_id).set("client_id", "r" + std::to_string(i)).set("text", "hi"));
  // Bob reads on node 1; Alice on node 0 sees the "1" go away.
  b.ok("messages.read", JsonObj().set("chat_id", chat_id).set("seq", 5));
  auto read = a.expect_event_matching("chat.read", [&](const JsonRef& e) {
    return e["data"]["reads"][0]["user_id"].i64() == bob.user_id;
  }, 10s);
  EXPECT_EQ(read["data"]["reads"][0]["read_seq"].i64(), 5);
  auto history = a.ok("messages.history", JsonObj().set("chat_id", chat_id));
  for (const auto& m : history["messages"].items()) EXPECT_EQ(m["unread"].i64(), 0);

  // Bob goes offline; messages arrive; he comes back on node 2 and catches up exactly.
  // (one position, or one per shard: handed back as it came)
  std::string since = b.ok("sync", JsonObj().set("since", 0))["pos"].dump();
  b.close();
  for (int i = 5; i < 25; ++i)
    a.ok("messages.send", JsonObj().set("chat_id", chat_id).set("client_id", "r" + std::to_string(i)).set("text", "later"));
  Client b2(port(2));
  b2.resume(bob);
  auto sync = b2.ok("sync", JsonObj().set_raw("since", since));
  bool found = false;
  for (const auto& chat : sync["chats"].items())
    if (chat["chat_id"].i64() == chat_id) {
      found = true;
      EXPECT_EQ(chat["last_seq"].i64(), 25);
      EXPECT_EQ(chat["read_seq"].i64(), 5);
    }
  EXPECT_TRUE(found);
  auto missed = b2.ok("messages.history", JsonObj().set("chat_id", chat_id).set("after_seq", 5).set("limit", 200));
  ASSERT_EQ(missed["messages"].size(), 20u);
  for (std::size_t i = 0; i < 20; ++i) EXPECT_EQ(missed["messages"][i]["seq"].i64(), static_cast<std::int64_t>(6 + i));
}

TEST_P(ClusterTest, KilledNodeLosesNoAcknowledgedMessage) {
  // Two users per node, one group; everyone sends while node 2 is killed.
  std::vector<std::unique_ptr<Client>> clients;
  std::vector<Account> accounts;
  for (int i = 0; i < 6; ++i) {
    clients.push_back(std::make_unique<Client>(port(i / 2)));
    accounts.push_back(clients.back()->register_user("killed" + std::to_string(i)));
  }
  std::int64_t chat_id = make_group(clients, accounts);
  for (auto& c : clients) c->clear_events();

  constexpr int kPerClient = 40;
  // client_id -> acknowledged seq (0 until acknowledged)
  std::map<std::string, std::int64_t> acked;
  std::vector<std::map<std::int64_t, std::string>> in_flight(clients.size());  // request id -> client_id
  std::int64_t unsent = 0;  // keys below zero: the socket was already gone
  auto send = [&](std::size_t c, const std::string& client_id) {
    acked.try_emplace(client_id, 0);
    try {
      in_flight[c][clients[c]->send_request("messages.send", JsonObj().set("chat_id", chat_id)
                                                                 .set("client_id", client_id).set("text", client_id))] = client_id;
    } catch (const std::exception&) {
      ASSERT_GE(c, 4u) << "a client of a live node could not send";
      in_flight[c][--unsent] = client_id;
    }
  };
  for (int i = 0; i < kPerClient; ++i) {
    for (std::size_t c = 0; c < clients.size(); ++c) send(c, "k" + std::to_string(c) + "-" + std::to_string(i));
    if (i == kPerClient / 2) nodes_[2]->kill9();  // mid-load
  }
  // Collect answers; the killed node's clients lose some.
  for (std::size_t c = 0; c < clients.size(); ++c) {
    for (auto it = in_flight[c].begin(); it != in_flight[c].end();) {
      std::optional<Response> answer;
      try {
        if (it->first < 0) throw std::runtime_error("never sent");
        answer = clients[c]->wait_response(it->first, c >= 4 ? 1s : 20s);
      } catch (const std::exception&) {
        ASSERT_GE(c, 4u) << "a client of a live node lost an answer";
        ++it;
        continue;
      }
      ASSERT_TRUE(answer->ok()) << answer->dump();
      acked[it->second] = answer->result()["message"]["seq"].i64();
      it = in_flight[c].erase(it);
    }
  }
  // The killed node's clients reconnect to node 0 and resend what was not acknowledged.
  for (std::size_t c = 4; c < 6; ++c) {
    clients[c] = std::make_unique<Client>(port(0));
    clients[c]->resume(accounts[c]);
    for (const auto& [id, client_id] : in_flight[c]) {
      auto r = clients[c]->ok("messages.send", JsonObj().set("chat_id", chat_id).set("client_id", client_id).set("text", client_id));
      acked[client_id] = r["message"]["seq"].i64();
    }
  }
  // Every message is stored exactly once, in a gap-free timeline, and every member sees it.
  for (auto& [client_id, seq] : acked) ASSERT_GT(seq, 0) << client_id << " was never acknowledged";
  for (std::size_t c = 0; c < clients.size(); ++c) {
    std::map<std::string, int> seen;
    std::int64_t expect = 1;
    std::int64_t after = 0;
    for (;;) {
      auto page = clients[c]->ok("messages.history", JsonObj().set("chat_id", chat_id).set("after_seq", after).set("limit", 200));
      for (const auto& m : page["messages"].items()) {
        EXPECT_EQ(m["seq"].i64(), expect++);
        if (m["kind"].str() == "text") ++seen[m["client_id"].str()];
        after = m["seq"].i64();
      }
      if (!page["has_more"].boolean()) break;
    }
    for (const auto& [client_id, seq] : acked) EXPECT_EQ(seen[client_id], 1) << client_id << " for client " << c;
  }
  // Live delivery on the surviving nodes: in order and without duplicates; complete unless
  // the node was told to resync (a batch committed by the killed node just before it died
  // was never published: its members read it from history, checked above).
  for (std::size_t c = 0; c < 4; ++c) {
    clients[c]->pump(2s);
    bool resync = false;
    std::set<std::int64_t> got;
    std::int64_t last = 0;
    for (const auto& e : clients[c]->buffered_events()) {
      if (e["event"].str() == "sync.needed") resync = true;
      if (e["event"].str() != "message.new") continue;
      std::int64_t seq = e["data"]["message"]["seq"].i64();
      EXPECT_GT(seq, last) << "out of order on client " << c;
      EXPECT_TRUE(got.insert(seq).second) << "duplicate seq " << seq << " on client " << c;
      last = seq;
    }
    if (resync) EXPECT_LE(got.size(), acked.size());
    else EXPECT_EQ(got.size(), acked.size()) << "client " << c << " missed live messages without being told to sync";
  }
}

TEST_P(ClusterTest, NatsOutageMakesNodesNotReadyAndTheyRecover) {
  Client a(port(0)), b(port(1));
  auto alice = a.register_user("outage_a");
  auto bob = b.register_user("outage_b");
  std::int64_t chat_id = a.ok("chats.direct", JsonObj().set("user_id", bob.user_id))["chat"]["chat_id"].i64();
  b.clear_events();
  expect_health(200, 10s);
  nats_->stop();
  expect_health(503, 10s);
  // Writes still commit (the store is fine); the live path is down.
  auto sent = a.ok("messages.send", JsonObj().set("chat_id", chat_id).set("client_id", "during").set("text", "during the outage"));
  EXPECT_EQ(sent["message"]["seq"].i64(), 1);
  nats_->start();
  expect_health(200, 15s);
  // Bob learns of it live (the publish waited in the reconnect buffer) or is told to sync.
  bool learned = false;
  auto deadline = std::chrono::steady_clock::now() + 15s;
  while (!learned && std::chrono::steady_clock::now() < deadline) {
    b.pump(200ms);
    for (const auto& e : b.buffered_events()) {
      std::string name = e["event"].str();
      if (name == "sync.needed" || (name == "message.new" && e["data"]["message"]["seq"].i64() == 1)) learned = true;
    }
    if (!learned) a.ok("messages.send", JsonObj().set("chat_id", chat_id).set("client_id", "nudge" + std::to_string(std::rand())).set("text", "x"));
  }
  EXPECT_TRUE(learned) << "bob never heard of the message sent during the outage";
  auto history = b.ok("messages.history", JsonObj().set("chat_id", chat_id).set("after_seq", 0));
  EXPECT_EQ(history["messages"][0]["text"].str(), "during the outage");
}

// The shard map: users and chats spread over the shards, every id names its shard, events
// name the shard of their position, and sync with a cursor per shard skips nothing and
// repeats nothing, friends' profile changes on the other shard included.
TEST_P(ClusterTest, ChatsAndUsersSpreadOverShardsAndSyncPerShard) {
  auto shard_of = [](std::int64_t id) { return static_cast<int>(id >> 44); };
  // Users until both shards hold some (the handle decides the home shard).
  std::vector<std::unique_ptr<Client>> clients;
  std::vector<Account> accounts;
  std::map<int, std::size_t> first_on;  // shard -> index of its first user
  for (int i = 0; i < 24 && first_on.size() < (sharded() ? 2u : 1u); ++i) {
    clients.push_back(std::make_unique<Client>(port(i % 3)));
    accounts.push_back(clients.back()->register_user("spread" + std::to_string(i)));
    first_on.try_emplace(shard_of(accounts.back().user_id), accounts.size() - 1);
  }
  if (!sharded()) {
    EXPECT_EQ(first_on.begin()->first, 0) << "one database: every id is a plain count";
    first_on[1] = first_on[0] == 0 ? 1 : 0;  // any second user
    if (accounts.size() < 2) {
      clients.push_back(std::make_unique<Client>(port(1)));
      accounts.push_back(clients.back()->register_user("spread_second"));
      first_on[1] = accounts.size() - 1;
    }
  }
  ASSERT_EQ(first_on.size(), 2u) << "24 handles all hashed to one shard";
  Client& a = *clients[first_on[0]];
  Client& b = *clients[first_on[1]];
  const Account alice = accounts[first_on[0]], bob = accounts[first_on[1]];
  a.ok("friends.add", JsonObj().set("user_id", bob.user_id));

  // Alice's cursor before anything that follows.
  std::string cursor = a.ok("sync", JsonObj().set("since", 0))["pos"].dump();
  if (sharded()) EXPECT_EQ(cursor.front(), '[') << "a sharded server answers a position per shard: " << cursor;
  else EXPECT_NE(cursor.front(), '[') << cursor;

  // A group made by each of them lives on its maker's home shard.
  auto group = [](Client& c, const std::string& title, std::int64_t other) {
    return c.ok("chats.create_group", JsonObj().set("title", title).set("user_ids", JsonArr().add(other)))["chat"]["chat_id"].i64();
  };
  std::int64_t on_alice = group(a, "alice's", bob.user_id);
  std::int64_t on_bob = group(b, "bob's", alice.user_id);
  if (sharded()) {
    EXPECT_EQ(shard_of(on_alice), shard_of(alice.user_id));
    EXPECT_EQ(shard_of(on_bob), shard_of(bob.user_id));
    EXPECT_NE(shard_of(on_alice), shard_of(on_bob));
  }
  a.clear_events();
  // Messages in both chats; Alice gets each live, once, naming the chat's shard.
  for (int i = 0; i < 5; ++i) {
    b.ok("messages.send", JsonObj().set("chat_id", on_alice).set("client_id", "x" + std::to_string(i)).set("text", "in alice's"));
    b.ok("messages.send", JsonObj().set("chat_id", on_bob).set("client_id", "y" + std::to_string(i)).set("text", "in bob's"));
  }
  std::map<std::int64_t, std::vector<std::int64_t>> live;
  auto deadline = std::chrono::steady_clock::now() + 20s;
  while ((live[on_alice].size() < 5 || live[on_bob].size() < 5) && std::chrono::steady_clock::now() < deadline) {
    auto e = a.next_event("message.new", 2s);
    if (!e) continue;
    std::int64_t chat = (*e)["data"]["message"]["chat_id"].i64();
    live[chat].push_back((*e)["data"]["message"]["seq"].i64());
    int shard = (*e).has("shard") ? static_cast<int>((*e)["shard"].i64()) : 0;
    EXPECT_EQ(shard, sharded() ? shard_of(chat) : 0) << (*e).dump();
  }
  for (std::int64_t chat : {on_alice, on_bob}) {
    ASSERT_EQ(live[chat].size(), 5u) << "chat " << chat;
    for (std::size_t i = 1; i < 5; ++i) EXPECT_EQ(live[chat][i], live[chat][i - 1] + 1);
  }
  EXPECT_TRUE(a.events_within("message.new", 300ms).empty()) << "a duplicate arrived";

  // Bob, on the other shard, renames himself; Alice's sync from her cursor lists both chats
  // and Bob's new profile, in pages of one chat, and then nothing more.
  b.ok("profile.update", JsonObj().set("display_name", "Bob B."));
  std::set<std::int64_t> chats;
  bool saw_bob = false;
  for (int page = 0; page < 10; ++page) {
    auto sync = a.ok("sync", JsonObj().set_raw("since", cursor).set("limit", 1));
    EXPECT_LE(sync["chats"].size(), 1u);
    for (const auto& c : sync["chats"].items()) {
      EXPECT_TRUE(chats.insert(c["chat_id"].i64()).second) << "chat listed twice: " << c["chat_id"].i64();
      EXPECT_EQ(c["last_seq"].i64(), 5);
    }
    for (const auto& f : sync["friends"].items())
      if (f["friend"]["user_id"].i64() == bob.user_id && f["friend"]["display_name"].str() == "Bob B.") saw_bob = true;
    cursor = sync["pos"].dump();
    if (!sync["has_more"].boolean()) break;
  }
  EXPECT_EQ(chats, (std::set<std::int64_t>{on_alice, on_bob}));
  EXPECT_TRUE(saw_bob) << "the friend's profile change on the other shard was not synced";
  auto again = a.ok("sync", JsonObj().set_raw("since", cursor));
  EXPECT_EQ(again["chats"].size(), 0u) << again.dump();
  EXPECT_EQ(again["friends"].size(), 0u) << again.dump();

  // A 1:1 chat lives on the shard of the lower user id, whoever opens it.
  std::int64_t direct = b.ok("chats.direct", JsonObj().set("user_id", alice.user_id))["chat"]["chat_id"].i64();
  EXPECT_EQ(a.ok("chats.direct", JsonObj().set("user_id", bob.user_id))["chat"]["chat_id"].i64(), direct);
  if (sharded()) {
    EXPECT_EQ(shard_of(direct), shard_of(std::min(alice.user_id, bob.user_id)));
  }
}

INSTANTIATE_TEST_SUITE_P(OneDatabase, ClusterTest, ::testing::Values(false));
INSTANTIATE_TEST_SUITE_P(TwoShards, ClusterTest, ::testing::Values(true));

}  // namespace
}  // namespace modu_it
