// Messages: send (fields, seq order, fan-out, reply_to, idempotency), history paging in both
// directions, delete-for-everyone and its window, read pointers (docs/protocol.md, "Messages").
#include <algorithm>
#include <chrono>
#include <map>
#include <thread>

#include "harness/modu_test.h"

namespace modu_it {
namespace {

class MessagesTest : public ModuTest {};

std::int64_t now_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

// The same stored message: every field but the live `unread` number.
void expect_same_message(const JsonRef& a, const JsonRef& b) {
  for (const char* field : {"chat_id", "seq", "sender_id", "created_at"}) EXPECT_EQ(a[field].i64(), b[field].i64()) << field;
  for (const char* field : {"client_id", "kind", "text"}) EXPECT_EQ(a[field].str(), b[field].str()) << field;
  EXPECT_EQ(a["deleted"].boolean(), b["deleted"].boolean());
}

std::vector<std::int64_t> seqs_of(const JsonRef& messages) {
  std::vector<std::int64_t> seqs;
  for (const auto& m : messages.items()) seqs.push_back(m["seq"].i64());
  return seqs;
}

std::vector<std::int64_t> range(std::int64_t first, std::int64_t last) {
  std::vector<std::int64_t> out;
  for (std::int64_t s = first; s <= last; ++s) out.push_back(s);
  return out;
}

TEST_F(MessagesTest, SendReturnsTheStoredMessage) {
  auto alice = new_user("alice");
  auto bob = new_user("bob");
  auto carol = new_user("carol");
  std::int64_t chat = create_group(*alice, "g", {bob.id(), carol.id()})["chat_id"].i64();
  std::int64_t last_seq = get_chat(*alice, chat)["last_seq"].i64();

  std::int64_t before = now_ms();
  JsonRef m = alice->ok("messages.send",
                        JsonObj().set("chat_id", chat).set("client_id", "c-5f2a-0001").set("text", "안녕"))["message"];
  std::int64_t after = now_ms();
  EXPECT_EQ(m["chat_id"].i64(), chat);
  EXPECT_EQ(m["seq"].i64(), last_seq + 1);
  EXPECT_EQ(m["client_id"].str(), "c-5f2a-0001");
  EXPECT_EQ(m["sender_id"].i64(), alice.id());
  EXPECT_EQ(m["kind"].str(), "text");
  EXPECT_EQ(m["text"].str(), "안녕");
  EXPECT_GE(m["created_at"].i64(), before - 2000);
  EXPECT_LE(m["created_at"].i64(), after + 2000);
  EXPECT_FALSE(m["deleted"].boolean());
  EXPECT_EQ(m["unread"].i64(), 2) << "bob and carol have not read it; the sender never counts";

  JsonRef stored = alice->ok("messages.history", JsonObj().set("chat_id", chat).set("limit", 1))["messages"][0];
  expect_same_message(stored, m);
  EXPECT_EQ(stored["unread"].i64(), 2);
  EXPECT_EQ(get_chat(*bob, chat)["last_seq"].i64(), last_seq + 1);
}

TEST_F(MessagesTest, TextRoundTripsExactly) {
  auto alice = new_user("alice");
  auto bob = new_user("bob");
  std::int64_t chat = direct_chat(*alice, bob.id())["chat_id"].i64();
  const std::vector<std::string> texts = {
      "line one\nline two\r\n\ttabbed",          // newlines must stay escaped on the wire
      "quotes \" and \\ backslashes / slash",
      "emoji 😀👍🏽 and 한글 and \u00e9",
      std::string("nul \0 inside", 13),
      "\u2028 line separator \u2029 paragraph",
      "{\"looks\":\"like json\"}\n{\"id\":1}",
  };
  for (const auto& text : texts) {
    JsonRef sent = send_text(*alice, chat, text);
    EXPECT_EQ(sent["text"].str(), text);
    JsonRef ev = bob->expect_event("message.new");
    EXPECT_EQ(ev["data"]["message"]["text"].str(), text);
  }
  auto history = history_after(*bob, chat, 0);
  ASSERT_EQ(history.size(), texts.size());
  for (std::size_t i = 0; i < texts.size(); ++i) EXPECT_EQ(history[i]["text"].str(), texts[i]);
}

TEST_F(MessagesTest, JsonEscapesInRequestsAreDecoded) {
  auto alice = new_user("alice");
  std::int64_t chat = alice->ok("chats.memo")["chat"]["chat_id"].i64();
  // \u-escapes, including a surrogate pair, written by hand.
  alice->send_text("{\"id\":\"esc\",\"op\":\"messages.send\",\"args\":{\"chat_id\":" + std::to_string(chat) +
                   ",\"client_id\":\"c\\u002d1\",\"text\":\"\\uc548\\ub155 \\ud83d\\ude00\\n\"}}");
  Response r = alice->wait_response_raw("\"esc\"");
  ASSERT_TRUE(r.ok()) << r.dump();
  EXPECT_EQ(r.result()["message"]["text"].str(), "안녕 😀\n");
  EXPECT_EQ(r.result()["message"]["client_id"].str(), "c-1");
}

TEST_F(MessagesTest, SeqsAreConsecutivePerChat) {
  auto alice = new_user("alice");
  auto bob = new_user("bob");
  std::int64_t chat = direct_chat(*alice, bob.id())["chat_id"].i64();
  std::int64_t first = get_chat(*alice, chat)["last_seq"].i64() + 1;
  for (int i = 0; i < 10; ++i)
    EXPECT_EQ(send_text(i % 2 ? *bob : *alice, chat, "m" + std::to_string(i))["seq"].i64(), first + i);
  EXPECT_EQ(get_chat(*alice, chat)["last_seq"].i64(), first + 9);
}

TEST_F(MessagesTest, ConcurrentSendersGetDistinctConsecutiveSeqs) {
  auto alice = new_user("alice");
  auto bob = new_user("bob");
  std::int64_t chat = create_group(*alice, "busy", {bob.id()})["chat_id"].i64();
  std::int64_t first = get_chat(*alice, chat)["last_seq"].i64() + 1;
  const int per_sender = 40;
  std::vector<std::int64_t> alice_ids, bob_ids;
  // Pipeline: both users put all their sends on the wire before reading any response.
  for (int i = 0; i < per_sender; ++i) {
    alice_ids.push_back(alice->send_request("messages.send", JsonObj().set("chat_id", chat).set("client_id", "a" + std::to_string(i)).set("text", "a")));
    bob_ids.push_back(bob->send_request("messages.send", JsonObj().set("chat_id", chat).set("client_id", "b" + std::to_string(i)).set("text", "b")));
  }
  std::set<std::int64_t> seqs;
  for (auto id : alice_ids) seqs.insert(alice->wait_response(id).result()["message"]["seq"].i64());
  for (auto id : bob_ids) seqs.insert(bob->wait_response(id).result()["message"]["seq"].i64());
  ASSERT_EQ(seqs.size(), 2u * per_sender);
  EXPECT_EQ(*seqs.begin(), first);
  EXPECT_EQ(*seqs.rbegin(), first + 2 * per_sender - 1);
  auto history = history_after(*alice, chat, first - 1);
  ASSERT_EQ(history.size(), 2u * per_sender);
  std::set<std::string> client_ids;
  for (const auto& m : history) client_ids.insert(m["client_id"].str());
  EXPECT_EQ(client_ids.size(), 2u * per_sender);
}

// Suites that write to many connections at once run twice: with each loop's sends batched
// into one system call (net/send_batch.h), and one send per connection.
class SendsSuite : public ModuTest, public ::testing::WithParamInterface<std::string> {
 protected:
  std::vector<std::string> with_sends(std::vector<std::string> args) const {
    args.insert(args.end(), {"--batch-sends", GetParam()});
    return args;
  }
};

#define MODU_SENDS(Suite)                                                         \
  INSTANTIATE_TEST_SUITE_P(Sends, Suite, ::testing::Values("true", "false"),    \
                           [](const auto& info) { return info.param == "true" ? "Batched" : "OneByOne"; })

class MessagesLoadTest : public SendsSuite {
  std::vector<std::string> server_args() const override {
    return with_sends({"--rate-limit", "100000", "--rate-burst", "100000"});
  }
};
MODU_SENDS(MessagesLoadTest);

TEST_P(MessagesLoadTest, ReceiverSeesEveryMessageOnceInSeqOrderWhileSendersRace) {
  auto alice = new_user("alice");
  auto bob = new_user("bob");
  auto carol = new_user("carol");
  std::int64_t chat = create_group(*alice, "race", {bob.id(), carol.id()})["chat_id"].i64();
  std::int64_t first = get_chat(*carol, chat)["last_seq"].i64() + 1;
  constexpr int kPerSender = 150;
  std::vector<std::int64_t> alice_ids, bob_ids;
  for (int i = 0; i < kPerSender; ++i) {
    alice_ids.push_back(alice->send_request("messages.send", JsonObj().set("chat_id", chat).set("client_id", "a" + std::to_string(i)).set("text", "a")));
    bob_ids.push_back(bob->send_request("messages.send", JsonObj().set("chat_id", chat).set("client_id", "b" + std::to_string(i)).set("text", "b")));
  }
  for (auto id : alice_ids) alice->wait_response(id, 20s).result();
  for (auto id : bob_ids) bob->wait_response(id, 20s).result();

  // Carol, only listening, gets each message once, in seq order, in position order.
  std::int64_t expected = first, last_pos = 0;
  for (int i = 0; i < 2 * kPerSender; ++i) {
    JsonRef ev = carol->expect_event_matching("message.new", [&](const JsonRef& e) {
      return e["data"]["message"]["chat_id"].i64() == chat;
    });
    EXPECT_EQ(ev["data"]["message"]["seq"].i64(), expected++) << "message.new out of order or missing";
    EXPECT_GE(ev["pos"].i64(), last_pos);
    last_pos = ev["pos"].i64();
  }
  EXPECT_FALSE(carol->next_event("message.new", 200ms).has_value()) << "no duplicates";
}

TEST_F(MessagesTest, MessageNewReachesEveryDeviceOfEveryMember) {
  auto alice = new_user("alice");
  auto alice_phone = new_device(alice.account);
  auto bob = new_user("bob");
  auto bob_phone = new_device(bob.account);
  auto carol = new_user("carol");
  std::int64_t chat = direct_chat(*alice, bob.id())["chat_id"].i64();
  JsonRef sent = send_text(*alice, chat, "to every device");
  for (Client* c : {alice.client.get(), alice_phone.client.get(), bob.client.get(), bob_phone.client.get()}) {
    JsonRef ev = c->expect_event("message.new");
    EXPECT_EQ(ev["data"]["message"]["chat_id"].i64(), chat);
    EXPECT_EQ(ev["data"]["message"]["seq"].i64(), sent["seq"].i64());
    EXPECT_EQ(ev["data"]["message"]["text"].str(), "to every device");
    EXPECT_TRUE(ev["pos"].is_int()) << ev.dump();
  }
  EXPECT_FALSE(carol->next_event("message.new", 300ms).has_value());
}

class MessagesFanOutTest : public SendsSuite {
  std::vector<std::string> server_args() const override { return with_sends({"--threads", "4"}); }
};
MODU_SENDS(MessagesFanOutTest);

// With several event loops, connections live on different threads; every one of them gets
// the event, exactly once.
TEST_P(MessagesFanOutTest, EveryConnectionOnEveryEventLoopGetsTheMessage) {
  auto alice = new_user("alice");
  auto bob = new_user("bob");
  std::int64_t chat = direct_chat(*alice, bob.id())["chat_id"].i64();
  std::vector<Session> bob_sockets;
  for (int i = 0; i < 60; ++i) bob_sockets.push_back(resume(bob.account));
  std::vector<Session> alice_sockets;
  for (int i = 0; i < 20; ++i) alice_sockets.push_back(resume(alice.account));
  std::vector<std::int64_t> seqs;
  for (int i = 0; i < 3; ++i) seqs.push_back(send_text(*alice, chat, "to all " + std::to_string(i))["seq"].i64());
  auto check = [&](Client& c) {
    for (std::int64_t seq : seqs) {
      JsonRef ev = c.expect_event("message.new");
      EXPECT_EQ(ev["data"]["message"]["seq"].i64(), seq);
    }
  };
  for (auto& s : bob_sockets) check(*s);
  for (auto& s : alice_sockets) check(*s);
  for (auto& s : bob_sockets) EXPECT_FALSE(s->next_event("message.new", 1ms).has_value()) << "delivered twice";
}

TEST_F(MessagesTest, ReplyToIsStoredAndMustExist) {
  auto alice = new_user("alice");
  auto bob = new_user("bob");
  std::int64_t chat = direct_chat(*alice, bob.id())["chat_id"].i64();
  std::int64_t original = send_text(*alice, chat, "question?")["seq"].i64();
  JsonRef reply = bob->ok("messages.send", JsonObj()
                                               .set("chat_id", chat)
                                               .set("client_id", "r1")
                                               .set("text", "answer")
                                               .set("reply_to", original))["message"];
  EXPECT_EQ(reply["reply_to"].i64(), original);
  EXPECT_EQ(bob->error("messages.send", JsonObj()
                                            .set("chat_id", chat)
                                            .set("client_id", "r2")
                                            .set("text", "answer to nothing")
                                            .set("reply_to", original + 100)),
            "message_not_found");
  EXPECT_EQ(get_chat(*alice, chat)["last_seq"].i64(), reply["seq"].i64());
}

TEST_F(MessagesTest, ResendWithSameClientIdReturnsTheOriginal) {
  auto alice = new_user("alice");
  auto bob = new_user("bob");
  std::int64_t chat = direct_chat(*alice, bob.id())["chat_id"].i64();
  JsonRef first = send_text(*alice, chat, "only once", "c-dup-1");
  JsonRef again = send_text(*alice, chat, "only once", "c-dup-1");
  expect_same_message(again, first);  // the very same message, not a copy

  // From another device of the same user, too.
  auto phone = new_device(alice.account);
  EXPECT_EQ(send_text(*phone, chat, "only once", "c-dup-1")["seq"].i64(), first["seq"].i64());

  EXPECT_EQ(alice->error("messages.send", JsonObj().set("chat_id", chat).set("client_id", "c-dup-1").set("text", "changed")),
            "duplicate_client_id");

  auto history = history_after(*alice, chat, 0);
  int copies = 0;
  for (const auto& m : history) copies += m["client_id"].str() == "c-dup-1";
  EXPECT_EQ(copies, 1);
  EXPECT_EQ(get_chat(*alice, chat)["last_seq"].i64(), first["seq"].i64());

  // client_id is unique per sender: bob may use the same one.
  JsonRef bobs = send_text(*bob, chat, "mine", "c-dup-1");
  EXPECT_EQ(bobs["seq"].i64(), first["seq"].i64() + 1);
  EXPECT_EQ(bobs["sender_id"].i64(), bob.id());
}

// A retry is answered with the message its first try stored, even when the send would now
// be refused: the sender left the chat after the first try, whose answer they never got.
TEST_F(MessagesTest, ResendAfterLeavingReturnsTheOriginal) {
  auto alice = new_user("alice");
  auto bob = new_user("bob");
  std::int64_t chat = create_group(*alice, "g", {bob.id()})["chat_id"].i64();
  JsonRef first = send_text(*bob, chat, "sent, then left", "c-left-1");
  bob->ok("chats.leave", JsonObj().set("chat_id", chat));
  expect_same_message(send_text(*bob, chat, "sent, then left", "c-left-1"), first);
  // A new send is refused as for anyone outside the chat.
  EXPECT_EQ(bob->error("messages.send", JsonObj().set("chat_id", chat).set("client_id", "c-left-2").set("text", "x")),
            "chat_not_found");
  EXPECT_EQ(get_chat(*alice, chat)["last_seq"].i64(), first["seq"].i64() + 1);  // + bob's leaving
}

// A client_id names one message of its sender, in whatever chat (on a store split into
// shards, within the chats of one shard: docs/protocol.md).
TEST_F(MessagesTest, ClientIdReusedInAnotherChatIsRefused) {
  auto alice = new_user("alice");
  auto bob = new_user("bob");
  std::int64_t chat = direct_chat(*alice, bob.id())["chat_id"].i64();
  std::int64_t other_chat = alice->ok("chats.memo")["chat"]["chat_id"].i64();
  send_text(*alice, chat, "only once", "c-dup-1");
  EXPECT_EQ(alice->error("messages.send", JsonObj().set("chat_id", other_chat).set("client_id", "c-dup-1").set("text", "only once")),
            "duplicate_client_id");
  EXPECT_EQ(history_after(*alice, other_chat, 0).size(), 0u);
}

TEST_F(MessagesTest, ConcurrentResendsOfOneClientIdStoreOneCopy) {
  auto alice = new_user("alice");
  auto alice_phone = new_device(alice.account);
  auto bob = new_user("bob");
  std::int64_t chat = direct_chat(*alice, bob.id())["chat_id"].i64();
  auto args = JsonObj().set("chat_id", chat).set("client_id", "c-race").set("text", "raced");
  // The same send, in flight several times at once from two devices.
  std::vector<std::int64_t> from_pc, from_phone;
  for (int i = 0; i < 3; ++i) {
    from_pc.push_back(alice->send_request("messages.send", args));
    from_phone.push_back(alice_phone->send_request("messages.send", args));
  }
  std::set<std::int64_t> seqs;
  for (auto id : from_pc) seqs.insert(alice->wait_response(id).result()["message"]["seq"].i64());
  for (auto id : from_phone) seqs.insert(alice_phone->wait_response(id).result()["message"]["seq"].i64());
  EXPECT_EQ(seqs.size(), 1u) << "every resend returns the same message";
  int copies = 0;
  for (const auto& m : history_after(*bob, chat, 0)) copies += m["client_id"].str() == "c-race";
  EXPECT_EQ(copies, 1);
}

TEST_F(MessagesTest, ConcurrentConflictingClientIdsStoreOneMessage) {
  auto alice = new_user("alice");
  auto bob = new_user("bob");
  std::int64_t chat = direct_chat(*alice, bob.id())["chat_id"].i64();
  std::vector<std::int64_t> ids;
  for (int i = 0; i < 4; ++i)
    ids.push_back(alice->send_request("messages.send", JsonObj().set("chat_id", chat).set("client_id", "c-conflict").set("text", "version " + std::to_string(i))));
  int ok = 0, duplicate = 0;
  for (auto id : ids) {
    Response r = alice->wait_response(id);
    if (r.ok()) ++ok;
    else if (r.error_code() == "duplicate_client_id") ++duplicate;
    else ADD_FAILURE() << r.dump();
  }
  EXPECT_EQ(ok, 1);
  EXPECT_EQ(duplicate, 3);
  EXPECT_EQ(history_after(*bob, chat, 0).size(), 1u);
}

TEST_F(MessagesTest, HistoryPagesBackwardAndForward) {
  auto alice = new_user("alice");
  auto bob = new_user("bob");
  std::int64_t chat = direct_chat(*alice, bob.id())["chat_id"].i64();
  std::int64_t base = get_chat(*alice, chat)["last_seq"].i64();
  for (int i = 1; i <= 25; ++i) send_text(*alice, chat, "m" + std::to_string(i));
  const std::int64_t last = base + 25;

  // No cursor: the newest page, ascending.
  JsonRef newest = bob->ok("messages.history", JsonObj().set("chat_id", chat).set("limit", 10));
  EXPECT_EQ(seqs_of(newest["messages"]), range(last - 9, last));
  EXPECT_TRUE(newest["has_more"].boolean());
  EXPECT_EQ(newest["messages"][9]["text"].str(), "m25");

  // Default limit is 50.
  JsonRef all = bob->ok("messages.history", JsonObj().set("chat_id", chat));
  EXPECT_EQ(seqs_of(all["messages"]), range(std::max<std::int64_t>(1, last - 49), last));
  EXPECT_EQ(all["has_more"].boolean(), last > 50);

  // before_seq pages backwards to the start.
  JsonRef page = bob->ok("messages.history", JsonObj().set("chat_id", chat).set("before_seq", last - 9).set("limit", 10));
  EXPECT_EQ(seqs_of(page["messages"]), range(last - 19, last - 10));
  EXPECT_TRUE(page["has_more"].boolean());
  std::int64_t before_cursor = last - 19;
  for (int pages = 0; before_cursor > 1 && pages < 10; ++pages) {
    page = bob->ok("messages.history", JsonObj().set("chat_id", chat).set("before_seq", before_cursor).set("limit", 10));
    std::int64_t oldest = std::max<std::int64_t>(1, before_cursor - 10);
    EXPECT_EQ(seqs_of(page["messages"]), range(oldest, before_cursor - 1));
    EXPECT_EQ(page["has_more"].boolean(), oldest > 1);
    before_cursor = oldest;
  }
  EXPECT_EQ(before_cursor, 1);

  // after_seq pages forwards to the end.
  page = bob->ok("messages.history", JsonObj().set("chat_id", chat).set("after_seq", 0).set("limit", 10));
  EXPECT_EQ(seqs_of(page["messages"]), range(1, 10));
  EXPECT_TRUE(page["has_more"].boolean());
  page = bob->ok("messages.history", JsonObj().set("chat_id", chat).set("after_seq", last - 10).set("limit", 10));
  EXPECT_EQ(seqs_of(page["messages"]), range(last - 9, last));
  EXPECT_FALSE(page["has_more"].boolean());
  page = bob->ok("messages.history", JsonObj().set("chat_id", chat).set("after_seq", last));
  EXPECT_EQ(page["messages"].size(), 0u);
  EXPECT_FALSE(page["has_more"].boolean());

  // The whole chat through history_after matches.
  EXPECT_EQ(history_after(*bob, chat, 0, 7).size(), static_cast<std::size_t>(last));
}

TEST_F(MessagesTest, HistoryDefaultsToFiftyMessages) {
  auto alice = new_user("alice");
  std::int64_t chat = alice->ok("chats.memo")["chat"]["chat_id"].i64();
  std::vector<std::int64_t> requests;
  for (int i = 0; i < 60; ++i)
    requests.push_back(alice->send_request("messages.send", JsonObj().set("chat_id", chat).set("client_id", "m" + std::to_string(i)).set("text", "m")));
  std::int64_t last = 0;
  for (auto id : requests) last = std::max(last, alice->wait_response(id).result()["message"]["seq"].i64());
  JsonRef newest = alice->ok("messages.history", JsonObj().set("chat_id", chat));
  EXPECT_EQ(seqs_of(newest["messages"]), range(last - 49, last));
  EXPECT_TRUE(newest["has_more"].boolean());
  JsonRef oldest = alice->ok("messages.history", JsonObj().set("chat_id", chat).set("after_seq", 0));
  EXPECT_EQ(seqs_of(oldest["messages"]), range(1, 50));
  EXPECT_TRUE(oldest["has_more"].boolean());
}

TEST_F(MessagesTest, HistoryLimitIsValidated) {
  auto alice = new_user("alice");
  std::int64_t chat = alice->ok("chats.memo")["chat"]["chat_id"].i64();
  EXPECT_EQ(alice->error("messages.history", JsonObj().set("chat_id", chat).set("limit", 0)), "bad_request");
  EXPECT_EQ(alice->error("messages.history", JsonObj().set("chat_id", chat).set("limit", 201)), "bad_request");
  EXPECT_TRUE(alice->ok("messages.history", JsonObj().set("chat_id", chat).set("limit", 200))["messages"].is_array());
}

TEST_F(MessagesTest, DeleteOwnMessageForEveryone) {
  auto alice = new_user("alice");
  auto alice_phone = new_device(alice.account);
  auto bob = new_user("bob");
  std::int64_t chat = direct_chat(*alice, bob.id())["chat_id"].i64();
  JsonRef m = send_text(*alice, chat, "oops");
  send_text(*alice, chat, "after");
  bob->expect_event("message.new");
  bob->expect_event("message.new");

  JsonRef deleted = alice->ok("messages.delete", JsonObj().set("chat_id", chat).set("seq", m["seq"].i64()))["message"];
  EXPECT_EQ(deleted["seq"].i64(), m["seq"].i64());
  EXPECT_TRUE(deleted["deleted"].boolean());
  EXPECT_EQ(deleted["text"].str(), "");

  JsonRef ev = bob->expect_event("message.deleted");
  EXPECT_EQ(ev["data"]["message"]["chat_id"].i64(), chat);
  EXPECT_EQ(ev["data"]["message"]["seq"].i64(), m["seq"].i64());
  EXPECT_TRUE(ev["data"]["message"]["deleted"].boolean());
  EXPECT_EQ(ev["data"]["message"]["text"].str(), "");
  EXPECT_TRUE(ev["pos"].is_int());
  // The sender's other device is told too.
  EXPECT_EQ(alice_phone->expect_event("message.deleted")["data"]["message"]["seq"].i64(), m["seq"].i64());

  auto history = history_after(*bob, chat, m["seq"].i64() - 1);
  ASSERT_EQ(history.size(), 2u);
  EXPECT_EQ(history[0]["seq"].i64(), m["seq"].i64());
  EXPECT_TRUE(history[0]["deleted"].boolean());
  EXPECT_EQ(history[0]["text"].str(), "");
  EXPECT_EQ(history[1]["text"].str(), "after");
}

TEST_F(MessagesTest, DeleteOthersMessageIsForbidden) {
  auto alice = new_user("alice");
  auto bob = new_user("bob");
  std::int64_t chat = direct_chat(*alice, bob.id())["chat_id"].i64();
  JsonRef m = send_text(*bob, chat, "bob's words");
  EXPECT_EQ(alice->error("messages.delete", JsonObj().set("chat_id", chat).set("seq", m["seq"].i64())), "forbidden");
  EXPECT_EQ(alice->error("messages.delete", JsonObj().set("chat_id", chat).set("seq", m["seq"].i64() + 50)),
            "message_not_found");
  auto history = history_after(*alice, chat, 0);
  ASSERT_FALSE(history.empty());
  EXPECT_FALSE(history.back()["deleted"].boolean());
  EXPECT_EQ(history.back()["text"].str(), "bob's words");
}

class MessagesDeleteWindowTest : public ModuTest {
  std::vector<std::string> server_args() const override { return {"--delete-window", "1"}; }
};

TEST_F(MessagesDeleteWindowTest, DeleteAfterWindowIsRefused) {
  auto alice = new_user("alice");
  auto bob = new_user("bob");
  std::int64_t chat = direct_chat(*alice, bob.id())["chat_id"].i64();
  JsonRef old_message = send_text(*alice, chat, "too late to take back");
  std::this_thread::sleep_for(1500ms);
  JsonRef fresh = send_text(*alice, chat, "still fine");
  EXPECT_EQ(alice->error("messages.delete", JsonObj().set("chat_id", chat).set("seq", old_message["seq"].i64())),
            "delete_window_expired");
  EXPECT_TRUE(alice->ok("messages.delete", JsonObj().set("chat_id", chat).set("seq", fresh["seq"].i64()))["message"]["deleted"].boolean());
  auto history = history_after(*bob, chat, old_message["seq"].i64() - 1);
  ASSERT_EQ(history.size(), 2u);
  EXPECT_FALSE(history[0]["deleted"].boolean());
  EXPECT_EQ(history[0]["text"].str(), "too late to take back");
}

TEST_F(MessagesTest, ReadPointerOnlyMovesForward) {
  auto alice = new_user("alice");
  auto bob = new_user("bob");
  std::int64_t chat = direct_chat(*alice, bob.id())["chat_id"].i64();
  std::int64_t s1 = send_text(*alice, chat, "1")["seq"].i64();
  send_text(*alice, chat, "2");
  std::int64_t s3 = send_text(*alice, chat, "3")["seq"].i64();
  EXPECT_EQ(bob->ok("messages.read", JsonObj().set("chat_id", chat).set("seq", s3))["read_seq"].i64(), s3);
  EXPECT_EQ(bob->ok("messages.read", JsonObj().set("chat_id", chat).set("seq", s1))["read_seq"].i64(), s3);
  EXPECT_EQ(member_of(get_chat(*alice, chat), bob.id())["read_seq"].i64(), s3);
}

}  // namespace
}  // namespace modu_it
