// Read counts (KakaoTalk's "1"): per-message unread numbers, chat.read events to every device
// of every member, and a client-side model kept current from those events must agree with
// what the server serves (docs/protocol.md, "Read counts").
#include <map>

#include "harness/modu_test.h"

namespace modu_it {
namespace {

class ReadCountsTest : public ModuTest {};

// seq -> unread, as served by messages.history.
std::map<std::int64_t, std::int64_t> served_unread(Client& client, std::int64_t chat_id, std::int64_t after_seq) {
  std::map<std::int64_t, std::int64_t> out;
  for (const auto& m : history_after(client, chat_id, after_seq)) out[m["seq"].i64()] = m["unread"].i64();
  return out;
}

// What a client does with chat.read: keep every member's pointer and decrement the count
// of each message in (old_read_seq, read_seq].
struct ReadModel {
  std::map<std::int64_t, std::int64_t> unread;       // seq -> count
  std::map<std::int64_t, std::int64_t> read_pointer;  // user_id -> read_seq

  void apply(const JsonRef& chat_read_event) {
    for (const JsonRef& read : chat_read_event["data"]["reads"].items()) {
      std::int64_t user = read["user_id"].i64();
      std::int64_t to = read["read_seq"].i64();
      std::int64_t from = read_pointer[user];
      for (auto& [seq, count] : unread)
        if (seq > from && seq <= to) --count;
      if (to > from) read_pointer[user] = to;
    }
  }
};

TEST_F(ReadCountsTest, TwoMembersWithTwoDevicesEachSeeCountsUpdateLive) {
  auto alice = new_user("alice");
  auto alice_phone = new_device(alice.account);
  auto bob = new_user("bob");
  auto bob_phone = new_device(bob.account);
  auto carol = new_user("carol");
  std::int64_t chat = create_group(*alice, "read counts", {bob.id(), carol.id()})["chat_id"].i64();
  std::vector<Client*> all_devices{alice.client.get(), alice_phone.client.get(), bob.client.get(),
                                   bob_phone.client.get(), carol.client.get()};

  JsonRef start = get_chat(*alice, chat);
  ReadModel model;  // alice_phone's view
  for (const auto& m : start["members"].items()) model.read_pointer[m["user_id"].i64()] = m["read_seq"].i64();
  std::int64_t base = start["last_seq"].i64();

  std::vector<std::int64_t> seqs;
  for (const char* text : {"one", "two", "three"}) {
    JsonRef m = send_text(*alice, chat, text);
    EXPECT_EQ(m["unread"].i64(), 2) << "bob and carol have not read " << text;
    seqs.push_back(m["seq"].i64());
  }
  // alice_phone learns the messages live, with their unread numbers.
  for (std::int64_t seq : seqs) {
    JsonRef ev = alice_phone->expect_event_matching(
        "message.new", [&](const JsonRef& e) { return e["data"]["message"]["seq"].i64() == seq; });
    model.unread[seq] = ev["data"]["message"]["unread"].i64();
    EXPECT_EQ(model.unread[seq], 2);
  }
  EXPECT_EQ(member_of(get_chat(*alice, chat), alice.id())["read_seq"].i64(), seqs.back())
      << "the sender's pointer moves to the message it sent";

  auto expect_chat_read_everywhere = [&](std::int64_t user_id, std::int64_t read_seq) {
    for (Client* device : all_devices) {
      JsonRef ev = device->expect_event_matching("chat.read", [&](const JsonRef& e) {
        return e["data"]["reads"].size() == 1 && e["data"]["reads"][0]["user_id"].i64() == user_id &&
               e["data"]["reads"][0]["read_seq"].i64() == read_seq;
      });
      EXPECT_EQ(ev["data"]["chat_id"].i64(), chat);
      EXPECT_TRUE(ev["pos"].is_int()) << ev.dump();
      if (device == alice_phone.client.get()) model.apply(ev);
    }
  };

  // Bob reads up to "two" on his phone.
  EXPECT_EQ(bob_phone->ok("messages.read", JsonObj().set("chat_id", chat).set("seq", seqs[1]))["read_seq"].i64(), seqs[1]);
  expect_chat_read_everywhere(bob.id(), seqs[1]);
  auto served = served_unread(*alice_phone, chat, base);
  EXPECT_EQ(served[seqs[0]], 1);
  EXPECT_EQ(served[seqs[1]], 1);
  EXPECT_EQ(served[seqs[2]], 2);
  for (std::int64_t seq : seqs) EXPECT_EQ(model.unread[seq], served[seq]) << "seq " << seq;

  // Carol reads everything.
  carol->ok("messages.read", JsonObj().set("chat_id", chat).set("seq", seqs[2]));
  expect_chat_read_everywhere(carol.id(), seqs[2]);
  served = served_unread(*bob, chat, base);
  EXPECT_EQ(served[seqs[0]], 0);
  EXPECT_EQ(served[seqs[1]], 0);
  EXPECT_EQ(served[seqs[2]], 1);
  for (std::int64_t seq : seqs) EXPECT_EQ(model.unread[seq], served[seq]) << "seq " << seq;

  // Bob's other device finishes reading; every count is now zero.
  bob->ok("messages.read", JsonObj().set("chat_id", chat).set("seq", seqs[2]));
  expect_chat_read_everywhere(bob.id(), seqs[2]);
  served = served_unread(*carol, chat, base);
  for (std::int64_t seq : seqs) {
    EXPECT_EQ(served[seq], 0) << "seq " << seq;
    EXPECT_EQ(model.unread[seq], 0) << "seq " << seq;
  }
  // Bob's unread_count is zero on both devices' views.
  EXPECT_EQ(get_chat(*bob_phone, chat)["unread_count"].i64(), 0);
  EXPECT_EQ(member_of(get_chat(*alice, chat), bob.id())["read_seq"].i64(), seqs[2]);
}

TEST_F(ReadCountsTest, DirectChatSenderNeverCounts) {
  auto alice = new_user("alice");
  auto bob = new_user("bob");
  std::int64_t chat = direct_chat(*alice, bob.id())["chat_id"].i64();
  JsonRef m = send_text(*alice, chat, "hi");
  EXPECT_EQ(m["unread"].i64(), 1);
  EXPECT_EQ(get_chat(*bob, chat)["unread_count"].i64(), 1);
  EXPECT_EQ(get_chat(*alice, chat)["unread_count"].i64(), 0);
  bob->ok("messages.read", JsonObj().set("chat_id", chat).set("seq", m["seq"].i64()));
  JsonRef ev = alice->expect_event("chat.read");
  EXPECT_EQ(ev["data"]["chat_id"].i64(), chat);
  ASSERT_EQ(ev["data"]["reads"].size(), 1u) << ev.dump();
  EXPECT_EQ(ev["data"]["reads"][0]["user_id"].i64(), bob.id());
  EXPECT_EQ(ev["data"]["reads"][0]["read_seq"].i64(), m["seq"].i64());
  EXPECT_EQ(history_after(*alice, chat, m["seq"].i64() - 1).at(0)["unread"].i64(), 0);
  EXPECT_EQ(get_chat(*bob, chat)["unread_count"].i64(), 0);
}

TEST_F(ReadCountsTest, SendingAndBackwardReadsSendNoChatRead) {
  auto alice = new_user("alice");
  auto bob = new_user("bob");
  std::int64_t chat = direct_chat(*alice, bob.id())["chat_id"].i64();
  std::int64_t s1 = send_text(*alice, chat, "1")["seq"].i64();
  std::int64_t s2 = send_text(*alice, chat, "2")["seq"].i64();
  bob->expect_event("message.new");
  bob->expect_event("message.new");
  // Sending moved alice's pointer implicitly: no chat.read for it.
  EXPECT_FALSE(bob->next_event("chat.read", 300ms).has_value());

  bob->ok("messages.read", JsonObj().set("chat_id", chat).set("seq", s2));
  EXPECT_EQ(alice->expect_event("chat.read")["data"]["reads"][0]["read_seq"].i64(), s2);
  // At or below the pointer: nothing changes, nothing is sent.
  EXPECT_EQ(bob->ok("messages.read", JsonObj().set("chat_id", chat).set("seq", s1))["read_seq"].i64(), s2);
  EXPECT_EQ(bob->ok("messages.read", JsonObj().set("chat_id", chat).set("seq", s2))["read_seq"].i64(), s2);
  EXPECT_FALSE(alice->next_event("chat.read", 300ms).has_value());
}

TEST_F(ReadCountsTest, UnreadCountCountsOnlyOthersMessagesAfterReadPointer) {
  auto alice = new_user("alice");
  auto bob = new_user("bob");
  std::int64_t chat = direct_chat(*alice, bob.id())["chat_id"].i64();
  std::int64_t s1 = send_text(*alice, chat, "a1")["seq"].i64();
  send_text(*alice, chat, "a2");
  send_text(*bob, chat, "b1");  // bob's own message moves his pointer past a1 and a2
  EXPECT_EQ(get_chat(*bob, chat)["unread_count"].i64(), 0);
  EXPECT_EQ(get_chat(*alice, chat)["unread_count"].i64(), 1);
  send_text(*alice, chat, "a3");
  send_text(*alice, chat, "a4");
  EXPECT_EQ(get_chat(*bob, chat)["unread_count"].i64(), 2);
  // Reading an older seq does not move the pointer back.
  bob->ok("messages.read", JsonObj().set("chat_id", chat).set("seq", s1));
  EXPECT_EQ(get_chat(*bob, chat)["unread_count"].i64(), 2);
}

TEST_F(ReadCountsTest, LeavingMemberNoLongerCounts) {
  auto alice = new_user("alice");
  auto bob = new_user("bob");
  auto carol = new_user("carol");
  std::int64_t chat = create_group(*alice, "g", {bob.id(), carol.id()})["chat_id"].i64();
  JsonRef m = send_text(*alice, chat, "are you there?");
  EXPECT_EQ(m["unread"].i64(), 2);
  carol->ok("chats.leave", JsonObj().set("chat_id", chat));
  EXPECT_EQ(history_after(*alice, chat, m["seq"].i64() - 1).at(0)["unread"].i64(), 1)
      << "only current members count";
}

TEST_F(ReadCountsTest, LateJoinerDoesNotCountForOlderMessages) {
  auto alice = new_user("alice");
  auto bob = new_user("bob");
  auto dave = new_user("dave");
  std::int64_t chat = create_group(*alice, "g", {bob.id()})["chat_id"].i64();
  JsonRef m = send_text(*alice, chat, "old news");
  alice->ok("chats.invite", JsonObj().set("chat_id", chat).set("user_ids", JsonArr{dave.id()}));
  EXPECT_EQ(history_after(*alice, chat, m["seq"].i64() - 1).at(0)["unread"].i64(), 1)
      << "only bob counts for a message sent before dave joined";
  // Group members see the timeline from their join on (docs/protocol.md, messages.history).
  for (const auto& seen : history_after(*dave, chat, 0))
    EXPECT_GT(seen["seq"].i64(), m["seq"].i64()) << "dave must not see messages from before he joined";
  JsonRef dave_member = member_of(get_chat(*dave, chat), dave.id());
  EXPECT_GE(dave_member["read_seq"].i64(), m["seq"].i64());
  std::int64_t dave_unread = get_chat(*dave, chat)["unread_count"].i64();
  JsonRef fresh = send_text(*alice, chat, "new news");
  EXPECT_EQ(fresh["unread"].i64(), 2);
  EXPECT_EQ(get_chat(*dave, chat)["unread_count"].i64(), dave_unread + 1);
}

// Reads committed in one batch reach members as one chat.read listing them all (KakaoTalk's
// big rooms: a burst of reads must not cost every member one frame per reader). Whatever
// the batching, every receipt arrives exactly once, in position order, and the counts add up.
TEST_F(ReadCountsTest, ABurstOfReadsArrivesOnceEachPossiblyMerged) {
  auto owner = new_user("owner");
  std::vector<Session> readers = new_users("reader", 12);
  std::vector<std::int64_t> ids = user_ids(readers);
  std::int64_t chat = create_group(*owner, "burst", ids)["chat_id"].i64();
  std::int64_t last = 0;
  ReadModel model;
  for (int i = 0; i < 3; ++i) {
    JsonRef m = send_text(*owner, chat, "m" + std::to_string(i));
    last = m["seq"].i64();
    model.unread[last] = m["unread"].i64();
    EXPECT_EQ(model.unread[last], 12);
  }
  for (auto& r : readers) r->expect_event_matching("message.new", [&](const JsonRef& e) { return e["data"]["message"]["seq"].i64() == last; });
  owner->clear_events();

  // Every reader marks read at once, without waiting for the others.
  std::vector<std::int64_t> requests;
  for (auto& r : readers) requests.push_back(r->send_request("messages.read", JsonObj().set("chat_id", chat).set("seq", last)));
  for (std::size_t i = 0; i < readers.size(); ++i) EXPECT_EQ(readers[i]->wait_response(requests[i]).result()["read_seq"].i64(), last);

  std::map<std::int64_t, int> receipts;  // reader -> how many times its receipt arrived
  std::int64_t previous_pos = 0;
  int events = 0;
  while (receipts.size() < readers.size()) {
    auto ev = owner->next_event("chat.read", 5s);
    ASSERT_TRUE(ev.has_value()) << "receipts seen: " << receipts.size() << " of " << readers.size();
    ++events;
    EXPECT_EQ((*ev)["data"]["chat_id"].i64(), chat);
    EXPECT_GT((*ev)["pos"].i64(), previous_pos) << "events reach a connection in position order";
    previous_pos = (*ev)["pos"].i64();
    ASSERT_GE((*ev)["data"]["reads"].size(), 1u);
    for (const JsonRef& read : (*ev)["data"]["reads"].items()) {
      EXPECT_EQ(read["read_seq"].i64(), last);
      ++receipts[read["user_id"].i64()];
    }
    model.apply(*ev);
  }
  for (std::int64_t id : ids) EXPECT_EQ(receipts[id], 1) << "reader " << id;
  EXPECT_FALSE(owner->next_event("chat.read", 300ms).has_value()) << "nothing is sent twice";
  for (auto& [seq, count] : model.unread) EXPECT_EQ(count, 0) << "seq " << seq;
  for (auto& [seq, count] : served_unread(*owner, chat, last - 3)) EXPECT_EQ(count, 0) << "seq " << seq;
  RecordProperty("chat_read_events", events);
}

// Chats of more than 100 members send each member the unread counts a batch changed, not
// every other member's pointer; the reader's own devices still get its pointer.
TEST_F(ReadCountsTest, BigRoomsGetUnreadCountsInsteadOfEveryMembersPointer) {
  auto owner = new_user("owner");
  std::vector<Session> members = new_users("member", 101);
  std::vector<std::int64_t> ids = user_ids(members);
  Session& observer = members[0];
  Session& reader = members[1];
  auto reader_phone = new_device(reader.account);
  std::int64_t chat = create_group(*owner, "big room", ids)["chat_id"].i64();

  // observer's view: seq -> unread, from message.new and then from chat.read's counts.
  std::map<std::int64_t, std::int64_t> model;
  auto take_message = [&](std::int64_t seq) {
    JsonRef ev = observer->expect_event_matching("message.new", [&](const JsonRef& e) { return e["data"]["message"]["seq"].i64() == seq; });
    model[seq] = ev["data"]["message"]["unread"].i64();
  };
  // Applies chat.read events until every seq in `want` shows its count; false on timeout.
  auto apply_counts_until = [&](const std::map<std::int64_t, std::int64_t>& want) {
    while (true) {
      bool done = true;
      for (auto& [seq, count] : want) done &= model[seq] == count;
      if (done) return true;
      auto ev = observer->next_event("chat.read", 5s);
      if (!ev) return false;
      const JsonRef& data = (*ev)["data"];
      EXPECT_EQ(data["chat_id"].i64(), chat);
      EXPECT_FALSE(data.has("reads")) << "no member's pointer goes to the whole room: " << ev->dump();
      const JsonRef& steps = data["unread"]["steps"];
      std::int64_t until = data["unread"]["until_seq"].i64();
      for (std::size_t i = 0; i < steps.size(); ++i) {
        std::int64_t to = i + 1 < steps.size() ? steps[i + 1][0].i64() - 1 : until;
        for (std::int64_t seq = steps[i][0].i64(); seq <= to; ++seq)
          if (model.count(seq)) {
            EXPECT_LE(steps[i][1].i64(), model[seq]) << "seq " << seq << ": counts only fall";
            model[seq] = steps[i][1].i64();
          }
      }
    }
  };

  std::vector<std::int64_t> seqs;
  for (int i = 0; i < 3; ++i) seqs.push_back(send_text(*owner, chat, "m" + std::to_string(i))["seq"].i64());
  for (std::int64_t seq : seqs) take_message(seq);
  EXPECT_EQ(model[seqs[0]], 101);

  // A member's send means it read everything before: the older messages drop to 100.
  std::int64_t fourth = send_text(*members[2], chat, "me too")["seq"].i64();
  take_message(fourth);
  EXPECT_EQ(model[fourth], 101) << "everyone but its sender";
  ASSERT_TRUE(apply_counts_until({{seqs[0], 100}, {seqs[2], 100}}));

  // Ten members read everything at once.
  std::vector<std::size_t> readers{1, 3, 4, 5, 6, 7, 8, 9, 10, 11};
  std::vector<std::int64_t> requests;
  for (std::size_t i : readers)
    requests.push_back(members[i]->send_request("messages.read", JsonObj().set("chat_id", chat).set("seq", fourth)));
  for (std::size_t k = 0; k < readers.size(); ++k)
    EXPECT_EQ(members[readers[k]]->wait_response(requests[k]).result()["read_seq"].i64(), fourth);
  ASSERT_TRUE(apply_counts_until({{seqs[0], 90}, {fourth, 91}}));
  // The reader's other device learns its pointer (its own unread badge clears).
  reader_phone->expect_event_matching("chat.read", [&](const JsonRef& e) {
    return e["data"].has("reads") && e["data"]["reads"].size() == 1 && e["data"]["reads"][0]["user_id"].i64() == reader.id() &&
           e["data"]["reads"][0]["read_seq"].i64() == fourth;
  });

  // A member who had read nothing leaves: it no longer counts.
  members[50]->ok("chats.leave", JsonObj().set("chat_id", chat));
  ASSERT_TRUE(apply_counts_until({{seqs[0], 89}, {fourth, 90}}));
  for (auto& [seq, count] : served_unread(*owner, chat, seqs[0] - 1))
    if (model.count(seq)) {
      EXPECT_EQ(model[seq], count) << "seq " << seq << ": the live view agrees with history";
    }
}

// Count events in a big room go to every member, so they are paced (CountsPacing): what a
// batch changes shortly after the last went out is held back, and still arrives on its own.
TEST_F(ReadCountsTest, BigRoomCountsArePacedAndWhatIsHeldBackStillArrives) {
  auto owner = new_user("owner");
  std::vector<Session> members = new_users("pace", 101);
  std::int64_t chat = create_group(*owner, "paced room", user_ids(members))["chat_id"].i64();
  Session& observer = members[0];
  std::int64_t seq = send_text(*owner, chat, "hello all")["seq"].i64();
  observer->expect_event_matching("message.new", [&](const JsonRef& e) { return e["data"]["message"]["seq"].i64() == seq; });
  auto unread_of = [&](const JsonRef& event) -> std::int64_t {
    const JsonRef& steps = event["data"]["unread"]["steps"];
    std::int64_t count = -1;
    for (std::size_t i = 0; i < steps.size(); ++i)
      if (steps[i][0].i64() <= seq) count = steps[i][1].i64();
    EXPECT_GE(event["data"]["unread"]["until_seq"].i64(), seq);
    return count;
  };

  members[1]->ok("messages.read", JsonObj().set("chat_id", chat).set("seq", seq));
  auto first = observer->next_event("chat.read", 5s);
  ASSERT_TRUE(first);
  auto first_at = std::chrono::steady_clock::now();
  EXPECT_EQ(unread_of(*first), 100);

  // Two more reads right after: no other write follows, yet their counts arrive, together.
  members[2]->ok("messages.read", JsonObj().set("chat_id", chat).set("seq", seq));
  members[3]->ok("messages.read", JsonObj().set("chat_id", chat).set("seq", seq));
  auto second = observer->next_event("chat.read", 5s);
  ASSERT_TRUE(second) << "held-back counts never went out";
  EXPECT_GE(std::chrono::steady_clock::now() - first_at, 100ms) << "the second waited for the interval";
  EXPECT_EQ(unread_of(*second), 98);
  EXPECT_FALSE(observer->next_event("chat.read", 400ms)) << "one event for both reads";
}

}  // namespace
}  // namespace modu_it
