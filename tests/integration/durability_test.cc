// Durability: acknowledged messages, sessions and idempotency survive a graceful restart and
// `kill -9`, also under concurrent load (docs/protocol.md, "Idempotent send" and "Sync").
#include <algorithm>
#include <atomic>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <functional>
#include <future>
#include <map>
#include <mutex>
#include <set>
#include <string>
#include <thread>

#include "harness/modu_test.h"

namespace modu_it {
namespace {

// Every suite here runs twice: with the store's committer thread and with commits on the
// event loop (--committer; the PostgreSQL runs take only the first, the flag changes nothing
// there, see CMakeLists.txt).
class CommitterSuite : public ModuTest, public ::testing::WithParamInterface<std::string> {
 protected:
  std::vector<std::string> with_committer(std::vector<std::string> args) const {
    args.insert(args.end(), {"--committer", GetParam()});
    return args;
  }
};

#define MODU_COMMITTERS(Suite)                                                      \
  INSTANTIATE_TEST_SUITE_P(Committers, Suite, ::testing::Values("thread", "loop"), \
                           [](const auto& info) { return info.param; })

class DurabilityTest : public CommitterSuite {
  std::vector<std::string> server_args() const override { return with_committer({}); }
};
MODU_COMMITTERS(DurabilityTest);

TEST_P(DurabilityTest, GracefulStopExitsCleanlyAndKeepsEverything) {
  auto alice = new_user("alice");
  auto bob = new_user("bob");
  std::int64_t chat = direct_chat(*alice, bob.id())["chat_id"].i64();
  std::vector<std::string> sent;
  for (int i = 0; i < 20; ++i) sent.push_back(send_text(*alice, chat, "msg " + std::to_string(i)).dump());
  bob->ok("messages.read", JsonObj().set("chat_id", chat).set("seq", 5));
  alice->ok("profile.update", JsonObj().set("status_message", "persisted"));
  alice.client.reset();
  bob.client.reset();

  EXPECT_EQ(server().stop(), 0) << "SIGTERM is a clean shutdown";
  server().start();

  auto again = resume(alice.account);  // the session survives
  auto history = history_after(*again, chat, 0);
  ASSERT_GE(history.size(), sent.size());
  for (std::size_t i = 0; i < sent.size(); ++i) {
    JsonRef original = JsonRef::parse(sent[i]);
    JsonRef stored = history[history.size() - sent.size() + i];
    EXPECT_EQ(stored["seq"].i64(), original["seq"].i64());
    EXPECT_EQ(stored["text"].str(), original["text"].str());
    EXPECT_EQ(stored["client_id"].str(), original["client_id"].str());
    EXPECT_EQ(stored["created_at"].i64(), original["created_at"].i64());
  }
  EXPECT_EQ(member_of(get_chat(*again, chat), bob.id())["read_seq"].i64(), 5);
  EXPECT_EQ(again->ok("profile.get", JsonObj().set("user_id", alice.id()))["profile"]["status_message"].str(), "persisted");
  // Seqs continue after the restart.
  EXPECT_EQ(send_text(*again, chat, "after restart")["seq"].i64(), history.back()["seq"].i64() + 1);
}

TEST_P(DurabilityTest, ResendAfterRestartReturnsTheOriginal) {
  auto alice = new_user("alice");
  auto bob = new_user("bob");
  std::int64_t chat = direct_chat(*alice, bob.id())["chat_id"].i64();
  JsonRef graceful = send_text(*alice, chat, "sent before a clean restart", "resend-graceful");
  alice.client.reset();
  server().restart();

  auto a2 = resume(alice.account);
  JsonRef again = send_text(*a2, chat, "sent before a clean restart", "resend-graceful");
  EXPECT_EQ(again["seq"].i64(), graceful["seq"].i64());
  EXPECT_EQ(again["created_at"].i64(), graceful["created_at"].i64());
  EXPECT_EQ(a2->error("messages.send", JsonObj().set("chat_id", chat).set("client_id", "resend-graceful").set("text", "other")),
            "duplicate_client_id");

  JsonRef crashed = send_text(*a2, chat, "sent before a crash", "resend-crash");
  a2.client.reset();
  server().kill9();
  server().start();

  auto a3 = resume(alice.account);
  JsonRef after_crash = send_text(*a3, chat, "sent before a crash", "resend-crash");
  EXPECT_EQ(after_crash["seq"].i64(), crashed["seq"].i64());
  EXPECT_EQ(after_crash["created_at"].i64(), crashed["created_at"].i64());
  auto history = history_after(*a3, chat, 0);
  int copies = 0;
  for (const auto& m : history) copies += m["client_id"].str().rfind("resend-", 0) == 0;
  EXPECT_EQ(copies, 2);
}

TEST_P(DurabilityTest, AcknowledgedWritesSurviveKill9) {
  auto alice = new_user("alice");
  auto bob = new_user("bob");
  std::int64_t group = create_group(*alice, "crash test", {bob.id()})["chat_id"].i64();
  std::vector<std::int64_t> seqs;
  for (int i = 0; i < 10; ++i) seqs.push_back(send_text(*bob, group, "m" + std::to_string(i))["seq"].i64());
  alice->ok("messages.read", JsonObj().set("chat_id", group).set("seq", seqs[6]));
  bob->ok("chats.rename", JsonObj().set("chat_id", group).set("title", "renamed before crash"));
  alice->ok("friends.add", JsonObj().set("handle", "bob"));
  // One position, or one per shard on a store split into shards.
  auto positions = [](const JsonRef& pos) {
    std::vector<std::int64_t> out;
    if (pos.is_int()) out.push_back(pos.i64());
    else for (const auto& p : pos.items()) out.push_back(p.i64());
    return out;
  };
  std::vector<std::int64_t> pos = positions(alice->ok("sync", JsonObj().set("since", 0))["pos"]);
  alice.client.reset();
  bob.client.reset();

  server().kill9();
  server().start();

  auto a = resume(alice.account);
  JsonRef chat = get_chat(*a, group);
  EXPECT_EQ(chat["title"].str(), "renamed before crash");
  EXPECT_GE(chat["last_seq"].i64(), seqs.back());
  EXPECT_EQ(member_of(chat, alice.id())["read_seq"].i64(), seqs[6]) << chat.dump();
  auto history = history_after(*a, group, 0);
  for (std::size_t i = 0; i < history.size(); ++i) EXPECT_EQ(history[i]["seq"].i64(), static_cast<std::int64_t>(i) + 1);
  EXPECT_EQ(a->ok("friends.list")["friends"].size(), 1u);

  // Positions never go backwards across a crash.
  std::vector<std::int64_t> after = positions(a->ok("sync", JsonObj().set("since", 0))["pos"]);
  ASSERT_EQ(after.size(), pos.size());
  for (std::size_t shard = 0; shard < pos.size(); ++shard) EXPECT_GE(after[shard], pos[shard]) << "shard " << shard;
  auto b = resume(bob.account);
  send_text(*b, group, "after the crash");
  JsonRef ev = a->expect_event("message.new");
  std::size_t shard = ev.has("shard") ? static_cast<std::size_t>(ev["shard"].i64()) : 0;
  ASSERT_LT(shard, pos.size());
  EXPECT_GT(ev["pos"].i64(), pos[shard]);
}

TEST_P(DurabilityTest, RevokedSessionStaysRevokedAfterRestart) {
  auto alice = new_user("alice");
  auto phone = new_device(alice.account);
  alice->ok("devices.revoke", JsonObj().set("device_id", phone.account.device_id));
  phone->expect_event("session.revoked");
  alice.client.reset();
  phone.client.reset();
  server().kill9();
  server().start();
  EXPECT_EQ(connect()->error("auth.resume", JsonObj().set("token", phone.account.token)), "session_revoked");
  resume(alice.account)->ok("ping");
}

// --committer loop: the first event loop commits; no committer thread runs, and the server
// says so when it starts.
class CommitterLoopTest : public ModuTest {
  std::vector<std::string> server_args() const override { return {"--committer", "loop"}; }
};

std::set<std::string> thread_names(pid_t pid) {
  std::set<std::string> names;
  for (const auto& task : std::filesystem::directory_iterator("/proc/" + std::to_string(pid) + "/task")) {
    std::ifstream comm(task.path() / "comm");
    std::string name;
    std::getline(comm, name);
    names.insert(name);
  }
  return names;
}

// Threads name themselves once they run, and the server's log reaches us through a pipe:
// both are looked at until they show what is expected, for up to five seconds.
bool eventually(const std::function<bool()>& holds) {
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
  while (!holds()) {
    if (std::chrono::steady_clock::now() > deadline) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  return true;
}

TEST_F(CommitterLoopTest, TheLoopCommitsAndNoCommitterThreadRuns) {
  ASSERT_TRUE(eventually([&] { return server().output().find(" serving http://") != std::string::npos; }))
      << server().output();
  EXPECT_NE(server().output().find(", commits on the first"), std::string::npos) << server().output();
  ASSERT_TRUE(eventually([&] {
    auto names = thread_names(server().pid());
    return names.count("modu-loop-0") == 1 && names.count("modu-loop-1") == 1 && names.count("modu-checkpoint") == 1;
  }));
  EXPECT_EQ(thread_names(server().pid()).count("modu-commit"), 0u);

  auto alice = new_user("alice");
  auto bob = new_user("bob");
  std::int64_t chat = direct_chat(*alice, bob.id())["chat_id"].i64();
  std::int64_t seq = send_text(*alice, chat, "committed by the loop")["seq"].i64();
  EXPECT_EQ(bob->expect_event("message.new")["data"]["message"]["text"].str(), "committed by the loop");
  alice.client.reset();
  bob.client.reset();
  server().kill9();
  server().start();
  auto again = resume(alice.account);
  auto history = history_after(*again, chat, 0);
  ASSERT_FALSE(history.empty());
  EXPECT_EQ(history.back()["seq"].i64(), seq);
  EXPECT_EQ(history.back()["text"].str(), "committed by the loop");
}

class DurabilityDrainTest : public CommitterSuite {
  std::vector<std::string> server_args() const override {
    return with_committer({"--rate-limit", "100000", "--rate-burst", "100000"});
  }
};
MODU_COMMITTERS(DurabilityDrainTest);

// SIGTERM while sends are in flight: each gets an acknowledgement (and is then stored),
// `unavailable`, or no answer because the socket closed; the server exits cleanly.
TEST_P(DurabilityDrainTest, GracefulStopUnderLoadKeepsEveryAcknowledgedMessage) {
  auto alice = new_user("alice");
  auto bob = new_user("bob");
  std::int64_t chat = direct_chat(*alice, bob.id())["chat_id"].i64();
  std::map<std::int64_t, std::string> pending;  // request id -> client_id
  for (int i = 0; i < 300; ++i) {
    std::string client_id = "drain-" + std::to_string(i);
    pending[alice->send_request("messages.send", JsonObj().set("chat_id", chat).set("client_id", client_id).set("text", client_id))] = client_id;
  }
  auto stopped = std::async(std::launch::async, [&] { return server().stop(); });
  std::map<std::string, std::int64_t> acked;  // client_id -> seq
  for (const auto& [id, client_id] : pending) {
    auto r = alice->try_wait_any_response({std::to_string(id)}, alice->is_open() ? 5s : 0ms);
    if (!r) continue;  // the socket closed first
    if (r->ok()) acked[client_id] = r->result()["message"]["seq"].i64();
    else EXPECT_EQ(r->error_code(), "unavailable") << r->dump();
  }
  EXPECT_EQ(stopped.get(), 0) << "SIGTERM under load is still a clean shutdown";
  CloseInfo close = alice->wait_closed(1s);

  server().start();
  auto again = resume(alice.account);
  std::map<std::string, std::int64_t> stored;
  std::int64_t expected = 1;
  for (const auto& m : history_after(*again, chat, 0)) {
    EXPECT_EQ(m["seq"].i64(), expected++);
    stored[m["client_id"].str()] = m["seq"].i64();
  }
  std::printf("drain: %zu of %zu sends acknowledged, %zu stored, close code %d\n", acked.size(), pending.size(),
              stored.size(), close.code);
  for (const auto& [client_id, seq] : acked) {
    auto it = stored.find(client_id);
    ASSERT_NE(it, stored.end()) << client_id << " was acknowledged but is gone after a graceful stop";
    EXPECT_EQ(it->second, seq);
  }
}

// Flow control: with at most one write waiting for the committer, connections that keep
// sending are not read until it catches up. Nothing is refused or lost; requests only wait.
class FlowControlTest : public CommitterSuite {
  std::vector<std::string> server_args() const override {
    return with_committer({"--rate-limit", "100000", "--rate-burst", "100000", "--max-queued-writes", "1"});
  }
};
MODU_COMMITTERS(FlowControlTest);

TEST_P(FlowControlTest, AnOverloadedStoreSlowsReadingAndLosesNothing) {
  constexpr int kSenders = 4, kEach = 150;
  std::vector<Session> senders;
  std::vector<std::int64_t> ids;
  for (int i = 0; i < kSenders; ++i) {
    senders.push_back(new_user("flow" + std::to_string(i)));
    ids.push_back(senders.back().id());
  }
  std::int64_t chat = create_group(*senders[0], "flow", {ids.begin() + 1, ids.end()})["chat_id"].i64();
  std::int64_t base = get_chat(*senders[0], chat)["last_seq"].i64();
  std::vector<std::vector<std::int64_t>> requests(kSenders);
  for (int k = 0; k < kEach; ++k)
    for (int i = 0; i < kSenders; ++i) {
      std::string cid = "flow-" + std::to_string(i) + "-" + std::to_string(k);
      requests[i].push_back(senders[i]->send_request("messages.send", JsonObj().set("chat_id", chat).set("client_id", cid).set("text", cid)));
    }
  for (int i = 0; i < kSenders; ++i)
    for (std::int64_t id : requests[i]) EXPECT_TRUE(senders[i]->wait_response(id, 20s).ok());

  std::int64_t expected = base + 1;
  std::map<int, int> next_of_sender;  // a sender's messages keep their order
  for (const auto& m : history_after(*senders[0], chat, base)) {
    EXPECT_EQ(m["seq"].i64(), expected++);
    std::string cid = m["client_id"].str();
    int sender = std::stoi(cid.substr(5, cid.find('-', 5) - 5));
    EXPECT_EQ(std::stoi(cid.substr(cid.rfind('-') + 1)), next_of_sender[sender]++) << cid;
  }
  EXPECT_EQ(expected - 1 - base, kSenders * kEach) << "every send is stored once";
  auto paused = metric_value(http_get(port(), "/metrics").body, "modu_reads_paused_total");
  ASSERT_TRUE(paused.has_value());
  EXPECT_GT(*paused, 0) << "600 pipelined sends over 4 connections must outrun a one-job queue";
}

// --- kill -9 under concurrent load (slow) ---------------------------------------------

class DurabilityUnderLoadSlow : public CommitterSuite {
  std::vector<std::string> server_args() const override {
    return with_committer({"--rate-limit", "100000", "--rate-burst", "100000"});
  }
};
MODU_COMMITTERS(DurabilityUnderLoadSlow);

struct SentMessage {
  std::int64_t chat_id;
  std::string client_id;
  std::string text;
};

struct Acked {
  std::int64_t chat_id;
  std::int64_t seq;
  std::string text;
};

// One sender: keeps up to `window` sends in flight on its own connection until the
// connection breaks or `stop` is set. Records what it sent and what was acknowledged.
struct LoadSender {
  Session session;
  std::vector<std::int64_t> chats;
  std::vector<SentMessage> sent;
  std::map<std::string, Acked> acked;  // client_id -> ack

  void run(std::atomic<bool>& stop, std::atomic<int>& total_acked, int round, int window = 16) {
    std::map<std::int64_t, SentMessage> in_flight;  // request id -> message
    int n = 0;
    try {
      while (!stop.load()) {
        while (static_cast<int>(in_flight.size()) < window && !stop.load()) {
          SentMessage m{chats[n % chats.size()],
                        session.account.handle + "-r" + std::to_string(round) + "-" + std::to_string(n),
                        "load " + std::to_string(n) + " from " + session.account.handle};
          ++n;
          std::int64_t id = session->send_request(
              "messages.send", JsonObj().set("chat_id", m.chat_id).set("client_id", m.client_id).set("text", m.text));
          sent.push_back(m);
          in_flight.emplace(id, m);
        }
        if (in_flight.empty()) break;
        auto it = in_flight.begin();
        Response r = session->wait_response(it->first, 10s);
        JsonRef msg = r.result()["message"];
        acked[it->second.client_id] = Acked{msg["chat_id"].i64(), msg["seq"].i64(), msg["text"].str()};
        ++total_acked;
        in_flight.erase(it);
      }
    } catch (const std::exception&) {
      // The crash broke the connection; whatever was not acknowledged stays unacknowledged.
    }
  }
};

TEST_P(DurabilityUnderLoadSlow, AcknowledgedMessagesSurviveKill9UnderConcurrentLoad) {
  constexpr int kSenders = 4;
  constexpr int kAcksBeforeCrash = 2000;
  constexpr int kCrashes = 3;
  std::vector<LoadSender> senders(kSenders);
  for (int i = 0; i < kSenders; ++i) senders[i].session = new_user("sender" + std::to_string(i));
  std::vector<std::int64_t> others;
  for (int i = 1; i < kSenders; ++i) others.push_back(senders[i].session.id());
  // One group everybody writes to (contention on one chat's seq) and a ring of direct chats.
  std::int64_t shared = create_group(*senders[0].session, "shared", others)["chat_id"].i64();
  std::set<std::int64_t> all_chats{shared};
  for (int i = 0; i < kSenders; ++i) {
    std::int64_t direct = direct_chat(*senders[i].session, senders[(i + 1) % kSenders].session.id())["chat_id"].i64();
    all_chats.insert(direct);
    senders[i].chats = {shared, direct, shared};
  }
  // A member of `chat` to read it through.
  auto reader_for = [&](std::int64_t chat) -> Client& {
    for (auto& s : senders)
      if (std::find(s.chats.begin(), s.chats.end(), chat) != s.chats.end()) return *s.session;
    throw std::runtime_error("no member for chat " + std::to_string(chat));
  };
  // Reads every chat, checks seqs are 1..last without gaps, returns chat -> seq -> message.
  auto read_all = [&](const std::string& when) {
    std::map<std::int64_t, std::map<std::int64_t, JsonRef>> stored;
    for (std::int64_t chat : all_chats) {
      std::int64_t expected = 1;
      for (const auto& m : history_after(reader_for(chat), chat, 0)) {
        EXPECT_EQ(m["seq"].i64(), expected++) << "gap in chat " << chat << " " << when;
        stored[chat].emplace(m["seq"].i64(), m);
      }
    }
    return stored;
  };

  std::map<std::string, Acked> all_acked;  // client_id -> ack, over all rounds
  std::vector<SentMessage> unacked;
  for (int round = 0; round < kCrashes; ++round) {
    std::atomic<bool> stop{false};
    std::atomic<int> total_acked{0};
    std::vector<std::thread> threads;
    for (auto& s : senders) threads.emplace_back([&, round] { s.run(stop, total_acked, round); });
    // Crash mid-stream once enough sends were acknowledged (bounded in time).
    auto deadline = std::chrono::steady_clock::now() + 30s;
    while (total_acked.load() < kAcksBeforeCrash && std::chrono::steady_clock::now() < deadline)
      std::this_thread::sleep_for(2ms);
    server().kill9();
    stop = true;
    for (auto& t : threads) t.join();
    EXPECT_GE(total_acked.load(), kAcksBeforeCrash) << "load too slow in round " << round;

    std::size_t unacked_before = unacked.size(), acked_before = all_acked.size();
    for (auto& s : senders) {
      for (const auto& m : s.sent)
        if (!s.acked.count(m.client_id)) unacked.push_back(m);
      all_acked.insert(s.acked.begin(), s.acked.end());
      s.sent.clear();
      s.acked.clear();
    }

    std::printf("crash %d: %zu sends acknowledged, %zu in flight\n", round, all_acked.size() - acked_before,
                unacked.size() - unacked_before);
    server().start();
    for (auto& s : senders) s.session = resume(s.session.account);

    auto stored = read_all("after crash " + std::to_string(round));
    int missing = 0;
    for (const auto& [client_id, ack] : all_acked) {
      const auto& chat_messages = stored[ack.chat_id];
      auto it = chat_messages.find(ack.seq);
      if (it == chat_messages.end()) {
        if (++missing <= 10)
          ADD_FAILURE() << "acknowledged " << client_id << " (chat " << ack.chat_id << " seq " << ack.seq
                        << ") lost after kill -9 #" << round;
        continue;
      }
      EXPECT_EQ(it->second["client_id"].str(), client_id);
      EXPECT_EQ(it->second["text"].str(), ack.text);
    }
    EXPECT_EQ(missing, 0) << "of " << all_acked.size() << " acknowledged messages, after crash " << round;
  }

  // Resending (the unacknowledged ones, and a sample of acknowledged ones) never creates a
  // second copy; an acknowledged one comes back with its original seq.
  auto sender_of = [&](const std::string& client_id) -> Client& {
    for (auto& s : senders)
      if (client_id.rfind(s.session.account.handle + "-", 0) == 0) return *s.session;
    throw std::runtime_error("no sender for " + client_id);
  };
  for (const auto& m : unacked)
    sender_of(m.client_id).ok("messages.send", JsonObj().set("chat_id", m.chat_id).set("client_id", m.client_id).set("text", m.text));
  int sample = 0;
  for (const auto& [client_id, ack] : all_acked) {
    if (sample++ % 10) continue;
    JsonRef msg = sender_of(client_id).ok("messages.send", JsonObj().set("chat_id", ack.chat_id).set("client_id", client_id).set("text", ack.text))["message"];
    EXPECT_EQ(msg["seq"].i64(), ack.seq) << client_id;
  }
  std::map<std::string, int> copies;
  for (const auto& [chat, messages] : read_all("after resending"))
    for (const auto& [seq, m] : messages)
      if (m["kind"].str() == "text") ++copies[m["client_id"].str()];
  for (const auto& [client_id, count] : copies) EXPECT_EQ(count, 1) << client_id << " stored " << count << " times";
  for (const auto& m : unacked) EXPECT_EQ(copies[m.client_id], 1) << m.client_id << " missing after resend";
}

}  // namespace
}  // namespace modu_it
