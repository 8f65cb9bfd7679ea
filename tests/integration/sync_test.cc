// Sync: catching up after time offline with `sync` + `messages.history after_seq`, with no
// gap and no duplicate; stream positions on events (docs/protocol.md, "Sync").
#include <algorithm>
#include <functional>
#include <map>
#include <set>

#include "harness/modu_test.h"

namespace modu_it {
namespace {

class SyncTest : public ModuTest {};

// A sync cursor as the server gives it: one position, or one per shard on a store split into
// shards (docs/protocol.md, "Shards"); handed back as it came.
struct Cursor {
  std::vector<std::int64_t> at;  // by shard
  bool array = false;

  Cursor() = default;
  Cursor(std::int64_t pos) : at{pos} {}  // NOLINT: shard 0's position
  static Cursor from(const JsonRef& pos) {
    Cursor c;
    if (pos.is_int()) return Cursor(pos.i64());
    c.array = true;
    for (const auto& p : pos.items()) c.at.push_back(p.i64());
    return c;
  }
  std::int64_t of(std::size_t shard) const { return shard < at.size() ? at[shard] : 0; }
  Cursor with(std::size_t shard, std::int64_t pos) const {
    Cursor c = *this;
    c.at.resize(std::max(c.at.size(), shard + 1), 0);
    c.at[shard] = pos;
    c.array = c.array || shard > 0;
    return c;
  }
  std::string json() const {
    if (!array) return std::to_string(of(0));
    std::string out = "[";
    for (std::size_t i = 0; i < at.size(); ++i) out += (i ? "," : "") + std::to_string(at[i]);
    return out + "]";
  }
  // Every shard's position at least `other`'s.
  bool covers(const Cursor& other) const {
    for (std::size_t i = 0; i < std::max(at.size(), other.at.size()); ++i)
      if (of(i) < other.of(i)) return false;
    return true;
  }
  bool beyond(const Cursor& other) const { return covers(other) && !(*this == other); }
  bool operator==(const Cursor& other) const { return covers(other) && other.covers(*this); }
};
std::ostream& operator<<(std::ostream& out, const Cursor& c) { return out << c.json(); }

// The shard of an event's position (0 when the event names none).
std::size_t event_shard(const JsonRef& ev) { return ev.has("shard") ? static_cast<std::size_t>(ev["shard"].i64()) : 0; }

// Everything a device learns from paging `sync` until has_more is false.
struct SyncState {
  Cursor pos;
  std::map<std::int64_t, JsonRef> chats;    // chat_id -> newest summary seen
  std::map<std::int64_t, JsonRef> friends;  // user_id -> newest profile seen
  int pages = 0;
};

// `messages` > 0 asks every changed chat's summary to carry the messages stored since.
SyncState sync_all(Client& client, const Cursor& since, int limit = 200, int messages = 0) {
  SyncState state;
  state.pos = since;
  for (; state.pages < 10000; ++state.pages) {
    JsonObj args = JsonObj().set_raw("since", state.pos.json()).set("limit", limit);
    if (messages > 0) args.set("messages", messages);
    JsonRef page = client.ok("sync", args);
    Cursor pos = Cursor::from(page["pos"]);
    if (!pos.covers(state.pos)) throw std::runtime_error("sync pos went backwards: " + page.dump());
    for (const auto& c : page["chats"].items()) state.chats.insert_or_assign(c["chat_id"].i64(), c);
    for (const auto& f : page["friends"].items())
      state.friends.insert_or_assign(f["friend"]["user_id"].i64(), f["friend"]);
    bool more = page["has_more"].boolean();
    if (more && pos == state.pos) throw std::runtime_error("sync has_more without progress: " + page.dump());
    state.pos = pos;
    if (!more) {
      ++state.pages;
      return state;
    }
  }
  throw std::runtime_error("sync paging did not end");
}

// What a device holding seqs 1..`held` of a chat is missing, as docs/protocol.md ("Messages
// in the sync") says to gather it: the summary's `messages`, after the gap (if any) between
// `held` and the first of them is paged with messages.history. Ascending by seq.
std::vector<JsonRef> missing_messages(Client& client, const JsonRef& summary, std::int64_t held,
                                      int page_limit = 200) {
  std::vector<JsonRef> listed;
  if (summary.has("messages"))
    for (const auto& m : summary["messages"].items()) listed.push_back(m);
  std::vector<JsonRef> out;
  std::int64_t chat = summary["chat_id"].i64();
  std::int64_t first_listed = listed.empty() ? summary["last_seq"].i64() + 1 : listed.front()["seq"].i64();
  if (held + 1 < first_listed) {
    for (auto& m : history_after(client, chat, held, page_limit)) {
      if (m["seq"].i64() >= first_listed) break;
      out.push_back(m);
    }
  }
  for (auto& m : listed)
    if (m["seq"].i64() > held) out.push_back(m);
  return out;
}

class SyncCatchUpTest : public ModuTest {
  // This test sends over a thousand requests quickly; it is not about rate limiting.
  std::vector<std::string> server_args() const override {
    return {"--rate-limit", "100000", "--rate-burst", "100000"};
  }
};

TEST_F(SyncCatchUpTest, DeviceCatchesUpOnThousandMessagesInTwentyChatsWithoutGapOrDuplicate) {
  constexpr int kChats = 20;
  constexpr int kMessagesPerChat = 50;
  auto alice = new_user("alice");
  auto bob = new_user("bob");
  std::vector<std::int64_t> chats;
  for (int i = 0; i < kChats; ++i) chats.push_back(create_group(*alice, "chat " + std::to_string(i), {bob.id()})["chat_id"].i64());

  // Bob's phone syncs fully, remembers what it holds, and goes offline.
  Account phone_account;
  Cursor phone_pos;
  std::map<std::int64_t, std::int64_t> held_last_seq;  // chat -> highest seq the phone holds
  {
    auto phone = new_device(bob.account);
    phone_account = phone.account;
    SyncState initial = sync_all(*phone, 0);
    phone_pos = initial.pos;
    for (std::int64_t chat : chats) {
      ASSERT_TRUE(initial.chats.count(chat)) << "chat " << chat << " missing from the initial sync";
      auto messages = history_after(*phone, chat, 0);
      held_last_seq[chat] = messages.empty() ? 0 : messages.back()["seq"].i64();
      EXPECT_EQ(held_last_seq[chat], initial.chats.at(chat)["last_seq"].i64());
    }
  }

  // While it is offline, 1,000 messages arrive: mostly from alice, every fifth from bob's pc.
  std::map<std::int64_t, std::map<std::int64_t, std::string>> sent;  // chat -> seq -> client_id
  auto send_batch = [&](int first, int count) {
    std::vector<std::pair<Client*, std::int64_t>> pending;
    for (int n = first; n < first + count; ++n) {
      Client* sender = n % 5 == 4 ? bob.client.get() : alice.client.get();
      std::int64_t chat = chats[n % kChats];
      pending.emplace_back(sender, sender->send_request("messages.send", JsonObj()
                                                                               .set("chat_id", chat)
                                                                               .set("client_id", "bulk-" + std::to_string(n))
                                                                               .set("text", "message " + std::to_string(n))));
    }
    for (auto& [client, id] : pending) {
      JsonRef m = client->wait_response(id, 30s).result()["message"];
      auto [it, inserted] = sent[m["chat_id"].i64()].emplace(m["seq"].i64(), m["client_id"].str());
      EXPECT_TRUE(inserted) << "seq " << m["seq"].i64() << " acknowledged twice in chat " << m["chat_id"].i64();
    }
  };
  for (int batch = 0; batch < kChats * kMessagesPerChat; batch += 100) send_batch(batch, 100);
  alice->clear_events();
  bob->clear_events();

  // The phone comes back: resume, then sync in small pages while more messages arrive live.
  auto phone = resume(phone_account);
  for (int n = 1000; n < 1020; ++n) {
    JsonRef m = send_text(*alice, chats[n % kChats], "live " + std::to_string(n), "bulk-" + std::to_string(n));
    sent[m["chat_id"].i64()].emplace(m["seq"].i64(), m["client_id"].str());
  }
  SyncState caught_up = sync_all(*phone, phone_pos, 7);
  EXPECT_GT(caught_up.pages, 1) << "a small limit must cut the sync into pages";
  EXPECT_TRUE(caught_up.pos.beyond(phone_pos)) << caught_up.pos << " after " << phone_pos;

  std::map<std::int64_t, std::map<std::int64_t, std::string>> received;  // chat -> seq -> client_id
  for (std::int64_t chat : chats) {
    ASSERT_TRUE(caught_up.chats.count(chat)) << "sync did not report chat " << chat;
    std::int64_t last_seq = caught_up.chats.at(chat)["last_seq"].i64();
    std::int64_t after = held_last_seq[chat];
    for (int pages = 0; pages < 1000; ++pages) {
      JsonRef page = phone->ok("messages.history", JsonObj().set("chat_id", chat).set("after_seq", after).set("limit", 13));
      for (const auto& m : page["messages"].items()) {
        std::int64_t seq = m["seq"].i64();
        EXPECT_EQ(seq, after + 1) << "gap or reordering in chat " << chat;
        auto [it, inserted] = received[chat].emplace(seq, m["client_id"].str());
        EXPECT_TRUE(inserted) << "duplicate seq " << seq << " in chat " << chat;
        after = seq;
      }
      if (!page["has_more"].boolean()) break;
    }
    EXPECT_GE(after, last_seq) << "history ended before the last_seq sync reported";
  }
  // Live events fill in nothing missing: merged with history by chat_id+seq, the phone
  // holds exactly what was sent.
  for (const auto& ev : phone->events_within("message.new", 200ms)) {
    JsonRef m = ev["data"]["message"];
    auto& chat_seqs = received[m["chat_id"].i64()];
    auto it = chat_seqs.find(m["seq"].i64());
    if (it != chat_seqs.end()) {
      EXPECT_EQ(it->second, m["client_id"].str());
    } else {
      chat_seqs.emplace(m["seq"].i64(), m["client_id"].str());
    }
  }
  std::size_t total = 0;
  for (std::int64_t chat : chats) {
    const auto& got = received[chat];
    for (const auto& [seq, client_id] : sent[chat]) {
      auto it = got.find(seq);
      ASSERT_NE(it, got.end()) << "acknowledged seq " << seq << " missing in chat " << chat;
      EXPECT_EQ(it->second, client_id);
    }
    std::int64_t expected = held_last_seq[chat] + 1;
    for (const auto& [seq, client_id] : got) EXPECT_EQ(seq, expected++) << "gap in chat " << chat;
    total += got.size();
  }
  EXPECT_EQ(total, static_cast<std::size_t>(kChats * kMessagesPerChat + 20));
}

// A summary lists at most 1,000 visibility changes of its chat. A chat with more ends the
// page at the last one listed, and the next pages list the chat again with the rest.
TEST_F(SyncCatchUpTest, MoreDeletionsThanASummaryListsArriveOverSeveralPages) {
  constexpr int kMessages = 1105, kDeleted = 1103;
  auto alice = new_user("alice");
  auto bob = new_user("bob");
  std::int64_t chat = direct_chat(*alice, bob.id())["chat_id"].i64();
  auto pipeline = [&](int count, const std::function<JsonObj(int)>& args_of, const char* op) {
    std::vector<std::int64_t> ids;
    std::vector<JsonRef> results;
    for (int n = 0; n < count; ++n) {
      ids.push_back(alice->send_request(op, args_of(n)));
      if (ids.size() == 100 || n + 1 == count) {
        for (auto id : ids) results.push_back(alice->wait_response(id, 30s).result());
        ids.clear();
      }
    }
    return results;
  };
  std::vector<std::int64_t> seqs;
  for (const auto& r : pipeline(kMessages, [&](int n) {
         return JsonObj().set("chat_id", chat).set("client_id", "d" + std::to_string(n)).set("text", "x");
       }, "messages.send"))
    seqs.push_back(r["message"]["seq"].i64());
  Cursor pos = sync_all(*bob, 0).pos;
  // Deleted newest first, so the order of the changes is not the order of the seqs.
  std::set<std::int64_t> deleted;
  pipeline(kDeleted, [&](int n) {
    std::int64_t seq = seqs[static_cast<std::size_t>(kMessages - 1 - n)];
    deleted.insert(seq);
    return JsonObj().set("chat_id", chat).set("seq", seq);
  }, "messages.delete");

  std::set<std::int64_t> reported;
  int pages_listing_chat = 0;
  for (int page = 0; page < 100; ++page) {
    JsonRef answer = bob->ok("sync", JsonObj().set_raw("since", pos.json()));
    Cursor next = Cursor::from(answer["pos"]);
    ASSERT_TRUE(next.covers(pos));
    for (const auto& c : answer["chats"].items()) {
      if (c["chat_id"].i64() != chat) continue;
      ++pages_listing_chat;
      std::int64_t listed = 0, previous = 0;
      for (const auto& seq : c["deleted_seqs"].items()) {
        EXPECT_GT(seq.i64(), previous) << "deleted_seqs ascend";
        previous = seq.i64();
        reported.insert(seq.i64());
        ++listed;
      }
      EXPECT_LE(listed, 1000);
    }
    bool more = answer["has_more"].boolean();
    ASSERT_TRUE(!more || !(next == pos)) << "has_more without progress";
    pos = next;
    if (!more) break;
  }
  EXPECT_EQ(reported, deleted) << "every deletion reported, and nothing else";
  EXPECT_EQ(pages_listing_chat, 2);
  // Nothing is repeated once the device is past them.
  JsonRef after = bob->ok("sync", JsonObj().set_raw("since", pos.json()));
  EXPECT_EQ(after["chats"].items().size(), 0u);
}

TEST_F(SyncCatchUpTest, SyncAndHistoryDuringConcurrentWritesNeverSkip) {
  auto alice = new_user("alice");
  auto bob = new_user("bob");
  std::vector<std::int64_t> chats;
  for (int i = 0; i < 4; ++i) chats.push_back(create_group(*alice, "c" + std::to_string(i), {bob.id()})["chat_id"].i64());
  auto reader = new_device(bob.account);
  Cursor pos = sync_all(*reader, 0).pos;
  std::map<std::int64_t, std::int64_t> held;  // chat -> last seq held, all seqs below held too
  for (std::int64_t chat : chats) {
    auto messages = history_after(*reader, chat, 0);
    held[chat] = messages.empty() ? 0 : messages.back()["seq"].i64();
  }

  // Alice writes 400 messages in pipelined batches; between batches the reader catches up
  // with whatever is visible at that moment and must never see a gap. Every other time it
  // takes the messages the sync carries (at most 5 per chat, so gaps are paged too).
  constexpr int kMessages = 400;
  std::map<std::int64_t, std::int64_t> acked_last;
  int round = 0;
  auto catch_up = [&] {
    bool listed = round++ % 2 == 1;
    SyncState state = sync_all(*reader, pos, 3, listed ? 5 : 0);
    EXPECT_TRUE(state.pos.covers(pos));
    pos = state.pos;
    for (const auto& [chat, summary] : state.chats) {
      if (!held.count(chat)) continue;
      EXPECT_EQ(summary.has("messages"), listed);
      auto missing = listed ? missing_messages(*reader, summary, held[chat], 17) : history_after(*reader, chat, held[chat], 17);
      for (const auto& m : missing) {
        EXPECT_EQ(m["seq"].i64(), held[chat] + 1) << "gap while catching up in chat " << chat;
        held[chat] = m["seq"].i64();
      }
      EXPECT_GE(held[chat], summary["last_seq"].i64()) << "history is behind the summary's last_seq";
    }
  };
  for (int n = 0; n < kMessages;) {
    std::vector<std::int64_t> ids;
    for (int k = 0; k < 40 && n < kMessages; ++k, ++n)
      ids.push_back(alice->send_request("messages.send", JsonObj().set("chat_id", chats[n % chats.size()]).set("client_id", "w" + std::to_string(n)).set("text", "w")));
    catch_up();  // runs while the batch is being committed
    for (auto id : ids) {
      JsonRef m = alice->wait_response(id, 20s).result()["message"];
      acked_last[m["chat_id"].i64()] = std::max(acked_last[m["chat_id"].i64()], m["seq"].i64());
    }
  }
  catch_up();
  for (std::int64_t chat : chats) EXPECT_EQ(held[chat], acked_last[chat]) << "chat " << chat;
}

TEST_F(SyncTest, NewDeviceSyncFromZeroListsChatsAndFriends) {
  auto alice = new_user("alice");
  auto bob = new_user("bob", "Bob");
  alice->ok("friends.add", JsonObj().set("handle", "bob"));
  std::int64_t direct = direct_chat(*alice, bob.id())["chat_id"].i64();
  send_text(*bob, direct, "hi");
  std::int64_t group = create_group(*alice, "g", {bob.id()})["chat_id"].i64();

  auto phone = new_device(alice.account);
  SyncState state = sync_all(*phone, 0);
  EXPECT_TRUE(state.pos.beyond(Cursor(0)));
  ASSERT_TRUE(state.chats.count(direct));
  ASSERT_TRUE(state.chats.count(group));
  EXPECT_EQ(state.chats.at(direct)["last_message"]["text"].str(), "hi");
  EXPECT_EQ(state.chats.at(direct)["unread_count"].i64(), 1);
  EXPECT_FALSE(state.chats.at(group)["left"].boolean());
  ASSERT_TRUE(state.friends.count(bob.id()));
  EXPECT_EQ(state.friends.at(bob.id())["display_name"].str(), "Bob");
}

TEST_F(SyncTest, ResumeAndSyncSentTogetherRunInOrder) {
  // A reconnecting device may send auth.resume and sync in one message: the connection is
  // signed in before the sync is read, so catching up takes one round trip.
  auto alice = new_user("alice");
  auto bob = new_user("bob");
  std::int64_t direct = direct_chat(*alice, bob.id())["chat_id"].i64();
  send_text(*alice, direct, "while you were away");

  auto phone_conn = connect();
  Client& phone = *phone_conn;
  phone.send_text(R"({"id":1,"op":"auth.resume","args":{"token":")" + bob.account.token +
                  R"("}})" "\n" R"({"id":2,"op":"sync","args":{"since":0,"messages":5}})");
  Response resumed = phone.wait_response(1);
  ASSERT_TRUE(resumed.ok()) << resumed.dump();
  EXPECT_EQ(resumed.result()["profile"]["user_id"].i64(), bob.id());
  Response synced = phone.wait_response(2);
  ASSERT_TRUE(synced.ok()) << synced.dump();
  bool listed = false;
  for (const auto& chat : synced.result()["chats"].items()) {
    if (chat["chat_id"].i64() != direct) continue;
    listed = true;
    ASSERT_GE(chat["messages"].size(), 1u) << chat.dump();
    EXPECT_EQ(chat["messages"][chat["messages"].size() - 1]["text"].str(), "while you were away");
  }
  EXPECT_TRUE(listed) << synced.dump();
}

TEST_F(SyncTest, SyncSinceReportsOnlyLaterChanges) {
  auto alice = new_user("alice");
  auto bob = new_user("bob");
  auto carol = new_user("carol");
  alice->ok("friends.add", JsonObj().set("handle", "bob"));
  alice->ok("friends.add", JsonObj().set("handle", "carol"));
  std::int64_t quiet = create_group(*alice, "quiet", {carol.id()})["chat_id"].i64();
  std::int64_t busy = create_group(*alice, "busy", {bob.id()})["chat_id"].i64();
  std::int64_t renamed = create_group(*alice, "old title", {bob.id()})["chat_id"].i64();
  Cursor pos = sync_all(*alice, 0).pos;

  send_text(*bob, busy, "news");
  bob->ok("chats.rename", JsonObj().set("chat_id", renamed).set("title", "new title"));
  bob->ok("profile.update", JsonObj().set("status_message", "changed"));
  // Wait until alice has been told about all three changes.
  alice->expect_event("message.new");
  alice->expect_event_matching("chat.updated", [&](const JsonRef& e) { return e["data"]["chat"]["title"].str() == "new title"; });
  alice->expect_event("profile.updated");

  SyncState later = sync_all(*alice, pos);
  EXPECT_TRUE(later.pos.beyond(pos));
  EXPECT_TRUE(later.chats.count(busy));
  ASSERT_TRUE(later.chats.count(renamed));
  EXPECT_EQ(later.chats.at(renamed)["title"].str(), "new title");
  EXPECT_EQ(later.chats.at(busy)["last_message"]["text"].str(), "news");
  EXPECT_FALSE(later.chats.count(quiet)) << "an unchanged chat is not reported";
  ASSERT_TRUE(later.friends.count(bob.id()));
  EXPECT_EQ(later.friends.at(bob.id())["status_message"].str(), "changed");
  EXPECT_FALSE(later.friends.count(carol.id())) << "an unchanged friend is not reported";

  // Nothing happened since: an empty answer at the same position.
  SyncState nothing = sync_all(*alice, later.pos);
  EXPECT_EQ(nothing.pos, later.pos);
  EXPECT_TRUE(nothing.chats.empty());
  EXPECT_TRUE(nothing.friends.empty());
}

// A big group keeps its changes on the chat, not on each membership (a "wide" chat, see
// services/chat/chat_engine.h). A device sees it exactly as it sees a small one: while
// it is big, after it shrank, paged together with small chats, and not after leaving.
TEST_F(SyncTest, ABigGroupSyncsLikeASmallOneWhileBigAndAfterItShrinks) {
  auto alice = new_user("alice");
  auto others = new_users("member", 70);
  std::vector<std::int64_t> ids;
  for (const auto& o : others) ids.push_back(o.id());
  std::int64_t big = create_group(*alice, "big", ids)["chat_id"].i64();
  std::int64_t small = create_group(*alice, "small", {ids[0]})["chat_id"].i64();
  auto& bob = others[0];
  auto& leaver = others[1];
  Cursor phone_pos, leaver_pos;
  auto phone_account = new_device(bob.account).account;
  {
    auto phone = resume(phone_account);
    phone_pos = sync_all(*phone, 0).pos;
  }
  leaver_pos = sync_all(*leaver, 0).pos;

  // While the phone is offline: three sends to the big group, a rename of the small one.
  for (int i = 0; i < 3; ++i) send_text(*alice, big, "big " + std::to_string(i));
  alice->ok("chats.rename", JsonObj().set("chat_id", small).set("title", "renamed"));
  auto phone = resume(phone_account);
  SyncState caught_up = sync_all(*phone, phone_pos, /*limit=*/1, /*messages=*/10);
  EXPECT_GE(caught_up.pages, 2);
  ASSERT_TRUE(caught_up.chats.count(big));
  ASSERT_TRUE(caught_up.chats.count(small));
  EXPECT_EQ(caught_up.chats.at(small)["title"].str(), "renamed");
  const JsonRef& summary = caught_up.chats.at(big);
  ASSERT_EQ(summary["messages"].size(), 3u) << summary.dump();
  for (int i = 0; i < 3; ++i) EXPECT_EQ(summary["messages"][static_cast<std::size_t>(i)]["text"].str(), "big " + std::to_string(i));
  EXPECT_EQ(summary["last_seq"].i64(), summary["messages"][2]["seq"].i64());
  EXPECT_TRUE(sync_all(*phone, caught_up.pos).chats.empty()) << "nothing changed since";

  // A member reads: their other devices learn the pointer.
  bob->ok("messages.read", JsonObj().set("chat_id", big).set("seq", summary["last_seq"].i64()));
  SyncState read = sync_all(*phone, caught_up.pos);
  ASSERT_TRUE(read.chats.count(big));
  EXPECT_EQ(read.chats.at(big)["read_seq"].i64(), summary["last_seq"].i64()) << read.chats.at(big).dump();

  // One member leaves: they see their leaving, and nothing the group does after it.
  leaver->ok("chats.leave", JsonObj().set("chat_id", big));
  SyncState left = sync_all(*leaver, leaver_pos);
  ASSERT_TRUE(left.chats.count(big));
  EXPECT_TRUE(left.chats.at(big)["left"].boolean());
  send_text(*alice, big, "after the leaver");
  EXPECT_FALSE(sync_all(*leaver, left.pos).chats.count(big));

  // Most leave, so the group is small again; the phone still misses nothing.
  Cursor before_shrink = read.pos;
  for (std::size_t i = 2; i < others.size(); ++i) others[i]->ok("chats.leave", JsonObj().set("chat_id", big));
  send_text(*alice, big, "small again");
  SyncState shrunk = sync_all(*phone, before_shrink, 200, 10);
  ASSERT_TRUE(shrunk.chats.count(big));
  const JsonRef& last = shrunk.chats.at(big);
  ASSERT_EQ(last["messages"].size(), 10u) << last.dump();  // the leaves' notices, then the text
  const JsonRef& newest = last["messages"][9];
  EXPECT_EQ(newest["text"].str(), "small again");
  EXPECT_EQ(newest["seq"].i64(), last["last_seq"].i64());
  EXPECT_EQ(last["messages"][8]["text"].str(), R"({"type":"leave","user":)" + std::to_string(others.back().id()) + "}");
  EXPECT_TRUE(sync_all(*phone, shrunk.pos).chats.empty());
}

TEST_F(SyncTest, SyncReportsMessagesDeletedWhileOffline) {
  auto alice = new_user("alice");
  auto bob = new_user("bob");
  std::int64_t chat = direct_chat(*alice, bob.id())["chat_id"].i64();
  JsonRef keep = send_text(*alice, chat, "keep");
  JsonRef oops = send_text(*alice, chat, "oops");
  JsonRef also = send_text(*alice, chat, "also oops");
  Cursor pos = sync_all(*bob, 0).pos;
  bob.client.reset();  // offline
  alice->ok("messages.delete", JsonObj().set("chat_id", chat).set("seq", oops["seq"].i64()));
  alice->ok("messages.delete", JsonObj().set("chat_id", chat).set("seq", also["seq"].i64()));

  auto back = resume(bob.account);
  SyncState state = sync_all(*back, pos);
  ASSERT_TRUE(state.chats.count(chat));
  std::set<std::int64_t> deleted;
  for (const auto& seq : state.chats.at(chat)["deleted_seqs"].items()) deleted.insert(seq.i64());
  EXPECT_EQ(deleted, (std::set<std::int64_t>{oops["seq"].i64(), also["seq"].i64()}));
  EXPECT_FALSE(deleted.count(keep["seq"].i64()));

  // Deletions before `since` are not repeated.
  SyncState later = sync_all(*back, state.pos);
  EXPECT_FALSE(later.chats.count(chat));
}

TEST_F(SyncTest, SyncReportsLeftChats) {
  auto alice = new_user("alice");
  auto bob = new_user("bob");
  std::int64_t chat = create_group(*alice, "g", {bob.id()})["chat_id"].i64();
  auto bob_phone = new_device(bob.account);
  Cursor pos = sync_all(*bob_phone, 0).pos;
  bob->ok("chats.leave", JsonObj().set("chat_id", chat));
  bob_phone->expect_event("chat.removed");
  SyncState later = sync_all(*bob_phone, pos);
  ASSERT_TRUE(later.chats.count(chat));
  EXPECT_TRUE(later.chats.at(chat)["left"].boolean());
}

TEST_F(SyncTest, SyncReportsFriendRemovalAndOwnProfileChangedElsewhere) {
  auto alice = new_user("alice");
  auto alice_phone = new_device(alice.account);
  auto bob = new_user("bob");
  alice->ok("friends.add", JsonObj().set("handle", "bob"));
  std::string pos = alice->ok("sync", JsonObj().set("since", 0))["pos"].dump();
  JsonRef unchanged = alice->ok("sync", JsonObj().set_raw("since", pos));
  EXPECT_TRUE(unchanged["me"].is_null()) << unchanged.dump();

  alice_phone->ok("friends.remove", JsonObj().set("user_id", bob.id()));
  alice_phone->ok("profile.update", JsonObj().set("status_message", "set on the phone"));
  alice->expect_event("profile.updated");

  JsonRef page = alice->ok("sync", JsonObj().set_raw("since", pos));
  EXPECT_FALSE(page["has_more"].boolean());
  ASSERT_EQ(page["friends"].size(), 1u) << page.dump();
  EXPECT_EQ(page["friends"][0]["friend"]["user_id"].i64(), bob.id());
  EXPECT_TRUE(page["friends"][0]["removed"].boolean());
  EXPECT_EQ(page["me"]["user_id"].i64(), alice.id());
  EXPECT_EQ(page["me"]["status_message"].str(), "set on the phone");
}

TEST_F(SyncTest, EventPositionsGrowAndMatchSync) {
  auto alice = new_user("alice");
  auto bob = new_user("bob");
  std::int64_t chat = direct_chat(*alice, bob.id())["chat_id"].i64();
  Cursor start = sync_all(*bob, 0).pos;
  for (int i = 0; i < 5; ++i) send_text(*alice, chat, "m" + std::to_string(i));
  alice->ok("profile.update", JsonObj().set("status_message", "x"));
  bob->ok("messages.read", JsonObj().set("chat_id", chat).set("seq", get_chat(*bob, chat)["last_seq"].i64()));

  // (all of the chat's events are positions of the chat's shard)
  std::size_t shard = 0;
  std::int64_t previous = 0;
  for (int i = 0; i < 5; ++i) {
    JsonRef ev = bob->expect_event("message.new");
    shard = event_shard(ev);
    EXPECT_GE(ev["pos"].i64(), previous) << "events reach a connection in position order";
    EXPECT_GT(ev["pos"].i64(), start.of(shard));
    previous = ev["pos"].i64();
  }
  JsonRef read = bob->expect_event("chat.read");
  EXPECT_EQ(event_shard(read), shard);
  EXPECT_GE(read["pos"].i64(), previous);
  // The last event's position is the state sync reports; nothing is newer.
  SyncState after_read = sync_all(*bob, start.with(shard, read["pos"].i64()));
  EXPECT_TRUE(after_read.chats.empty()) << "no chat changed after the last event";
  SyncState before_read = sync_all(*bob, start.with(shard, read["pos"].i64() - 1));
  EXPECT_TRUE(before_read.chats.count(chat)) << "the read is a change at its event's position";
}

TEST_F(SyncTest, EventsOfEveryKindArriveInPositionOrder) {
  auto alice = new_user("alice");
  auto bob = new_user("bob");
  auto carol = new_user("carol");
  auto observer = new_device(alice.account);
  alice->ok("friends.add", JsonObj().set("handle", "bob"));
  std::int64_t group = create_group(*bob, "mixed", {alice.id(), carol.id()})["chat_id"].i64();
  std::int64_t direct = direct_chat(*carol, alice.id())["chat_id"].i64();
  // Interleave changes of several kinds from several users.
  std::vector<std::pair<Client*, std::int64_t>> pending;
  for (int i = 0; i < 20; ++i) {
    pending.emplace_back(bob.client.get(), bob->send_request("messages.send", JsonObj().set("chat_id", group).set("client_id", "g" + std::to_string(i)).set("text", "g")));
    pending.emplace_back(carol.client.get(), carol->send_request("messages.send", JsonObj().set("chat_id", direct).set("client_id", "d" + std::to_string(i)).set("text", "d")));
    if (i % 5 == 0) {
      pending.emplace_back(bob.client.get(), bob->send_request("profile.update", JsonObj().set("status_message", "s" + std::to_string(i))));
      pending.emplace_back(carol.client.get(), carol->send_request("messages.read", JsonObj().set("chat_id", group).set("seq", 1)));
      pending.emplace_back(bob.client.get(), bob->send_request("chats.rename", JsonObj().set("chat_id", group).set("title", "t" + std::to_string(i))));
    }
  }
  for (auto& [client, id] : pending) client->wait_response(id).result();
  observer->pump(500ms);
  std::map<std::size_t, std::int64_t> last;  // by shard: each shard's positions are ordered
  int with_pos = 0;
  for (const auto& ev : observer->buffered_events()) {
    if (!ev.has("pos")) continue;
    ++with_pos;
    EXPECT_GE(ev["pos"].i64(), last[event_shard(ev)]) << ev["event"].str() << " arrived out of position order";
    last[event_shard(ev)] = ev["pos"].i64();
  }
  EXPECT_GE(with_pos, 40 + 4) << "message.new for every message and profile.updated for bob";
}

TEST_F(SyncTest, SyncCarriesTheMessagesStoredSinceThePosition) {
  auto alice = new_user("alice");
  auto bob = new_user("bob");
  auto carol = new_user("carol");
  std::int64_t direct = direct_chat(*alice, bob.id())["chat_id"].i64();
  std::int64_t group = create_group(*alice, "g", {bob.id()})["chat_id"].i64();
  std::int64_t quiet = create_group(*alice, "quiet", {bob.id()})["chat_id"].i64();
  send_text(*alice, direct, "before");
  send_text(*alice, quiet, "old news");
  auto phone = new_device(bob.account);
  Cursor pos = sync_all(*phone, 0).pos;
  std::map<std::int64_t, std::int64_t> held;
  for (std::int64_t chat : {direct, group, quiet}) {
    auto messages = history_after(*phone, chat, 0);
    held[chat] = messages.empty() ? 0 : messages.back()["seq"].i64();
  }

  // Offline: 7 messages in the direct chat, one in the group, and carol joins the group.
  std::vector<std::string> sent;
  for (int i = 0; i < 7; ++i) sent.push_back(send_text(*alice, direct, "d" + std::to_string(i))["text"].str());
  send_text(*bob, group, "from my pc");
  alice->ok("chats.invite", JsonObj().set("chat_id", group).set("user_ids", JsonArr().add(carol.id())));

  SyncState state = sync_all(*phone, pos, 200, 3);
  ASSERT_TRUE(state.chats.count(direct));
  ASSERT_TRUE(state.chats.count(group));
  EXPECT_FALSE(state.chats.count(quiet));
  // At most 3, the newest, ascending, written as history writes them.
  const JsonRef& d = state.chats.at(direct);
  ASSERT_EQ(d["messages"].size(), 3u) << d.dump();
  EXPECT_EQ(d["messages"][0]["text"].str(), "d4");
  EXPECT_EQ(d["messages"][2]["text"].str(), "d6");
  EXPECT_EQ(d["messages"][2]["seq"].i64(), d["last_seq"].i64());
  auto newest = history_after(*phone, direct, d["last_seq"].i64() - 1);
  ASSERT_EQ(newest.size(), 1u);
  EXPECT_EQ(d["messages"][2].dump(), newest[0].dump());
  // The gap is paged, and the device ends with exactly what was sent, once, in order.
  auto missing = missing_messages(*phone, d, held[direct]);
  ASSERT_EQ(missing.size(), sent.size());
  for (std::size_t i = 0; i < sent.size(); ++i) {
    EXPECT_EQ(missing[i]["text"].str(), sent[i]);
    EXPECT_EQ(missing[i]["seq"].i64(), held[direct] + 1 + static_cast<std::int64_t>(i));
  }
  // The group's tail: bob's message and the invitation's system message, nothing older.
  auto tail = missing_messages(*phone, state.chats.at(group), held[group]);
  ASSERT_EQ(state.chats.at(group)["messages"].size(), tail.size()) << "no gap to page in the group";
  ASSERT_FALSE(tail.empty());
  EXPECT_EQ(tail.front()["seq"].i64(), held[group] + 1);
  EXPECT_EQ(tail.front()["text"].str(), "from my pc");
  EXPECT_EQ(tail.back()["seq"].i64(), state.chats.at(group)["last_seq"].i64());

  // Without `messages`, summaries carry none.
  EXPECT_FALSE(sync_all(*phone, pos).chats.at(direct).has("messages"));
  // Nothing stored since: an empty list.
  SyncState again = sync_all(*phone, state.pos, 200, 3);
  EXPECT_TRUE(again.chats.empty());

  // A new member's sync from 0 lists only what history shows them: from their joining on.
  auto carols_phone = new_device(carol.account);
  SyncState fresh = sync_all(*carols_phone, 0, 200, 200);
  ASSERT_TRUE(fresh.chats.count(group));
  auto visible = history_after(*carols_phone, group, 0);
  const JsonRef& listed = fresh.chats.at(group)["messages"];
  ASSERT_EQ(listed.size(), visible.size());
  for (std::size_t i = 0; i < visible.size(); ++i) EXPECT_EQ(listed[i].dump(), visible[i].dump());
  for (const auto& m : listed.items()) EXPECT_NE(m["text"].str(), "from my pc") << "sent before carol joined";
}

// The embedded store answers these from its cache of recent messages (storage/
// recent_messages.h): what it carries must be what the database holds, deletions included.
TEST_F(SyncTest, MessagesCarriedBySyncShowDeletionsMadeWhileOffline) {
  auto alice = new_user("alice");
  auto bob = new_user("bob");
  std::int64_t chat = direct_chat(*alice, bob.id())["chat_id"].i64();
  Cursor pos = sync_all(*bob, 0).pos;
  bob.client.reset();  // offline
  std::vector<JsonRef> sent;
  for (int i = 0; i < 5; ++i) sent.push_back(send_text(*alice, chat, "secret " + std::to_string(i)));
  alice->ok("messages.delete", JsonObj().set("chat_id", chat).set("seq", sent[2]["seq"].i64()));
  auto hits = [&] { return metric_value(http_get(port(), "/metrics").body, "modu_recent_messages_hits_total"); };
  auto hits_before = hits();
  ASSERT_TRUE(hits_before);

  auto back = resume(bob.account);
  SyncState state = sync_all(*back, pos, 200, 10);
  ASSERT_TRUE(state.chats.count(chat));
  const JsonRef& messages = state.chats.at(chat)["messages"];
  ASSERT_EQ(messages.size(), sent.size()) << messages.dump();
  for (std::size_t i = 0; i < sent.size(); ++i) {
    EXPECT_EQ(messages[i]["seq"].i64(), sent[i]["seq"].i64());
    EXPECT_EQ(messages[i]["deleted"].boolean(), i == 2) << messages[i].dump();
    EXPECT_EQ(messages[i]["text"].str(), i == 2 ? "" : "secret " + std::to_string(i)) << messages[i].dump();
  }
  // Exactly as history shows them.
  auto history = back->ok("messages.history", JsonObj().set("chat_id", chat).set("limit", 5))["messages"];
  for (std::size_t i = 0; i < sent.size(); ++i) EXPECT_EQ(messages[i].dump(), history[i].dump());
  // Served from memory on the embedded store; the PostgreSQL store keeps no such cache.
  auto hits_after = hits();
  ASSERT_TRUE(hits_after);
  if (test_store_is_postgres()) EXPECT_EQ(*hits_after, *hits_before);
  else EXPECT_GT(*hits_after, *hits_before);
}

TEST_F(SyncTest, SyncLimitIsValidated) {
  auto alice = new_user("alice");
  EXPECT_EQ(alice->error("sync", JsonObj().set("since", 0).set("limit", 0)), "bad_request");
  EXPECT_EQ(alice->error("sync", JsonObj().set("since", 0).set("limit", 501)), "bad_request");
  EXPECT_EQ(alice->error("sync", JsonObj().set("since", 0).set("messages", 201)), "bad_request");
  EXPECT_EQ(alice->error("sync", JsonObj().set("since", 0).set("messages", -1)), "bad_request");
  EXPECT_EQ(alice->error("sync", JsonObj()), "bad_request") << "since is required";
  EXPECT_TRUE(alice->ok("sync", JsonObj().set("since", 0).set("limit", 500))["chats"].is_array());
}

}  // namespace
}  // namespace modu_it
