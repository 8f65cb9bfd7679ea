// Chats: memo, direct, groups (create / invite / rename / leave), chats.list ordering and
// paging, and what non-members can learn (docs/protocol.md, "Chats").
#include <algorithm>
#include <thread>

#include "harness/modu_test.h"

namespace modu_it {
namespace {

class ChatsTest : public ModuTest {};

// Chat ids of a chats.list result, in order, keeping only those in `wanted`.
std::vector<std::int64_t> listed_ids(const JsonRef& list, const std::set<std::int64_t>& wanted) {
  std::vector<std::int64_t> ids;
  for (const auto& c : list["chats"].items())
    if (wanted.count(c["chat_id"].i64())) ids.push_back(c["chat_id"].i64());
  return ids;
}

JsonRef find_chat(const JsonRef& list, std::int64_t chat_id) {
  for (const auto& c : list["chats"].items())
    if (c["chat_id"].i64() == chat_id) return c;
  throw std::runtime_error("chat " + std::to_string(chat_id) + " not in chats.list: " + list.dump());
}

// The newest message of a chat, as seen by `client`.
JsonRef last_message(Client& client, std::int64_t chat_id) {
  auto messages = client.ok("messages.history", JsonObj().set("chat_id", chat_id).set("limit", 1))["messages"];
  if (messages.size() != 1) throw std::runtime_error("expected one message, got " + messages.dump());
  return messages[0];
}

TEST_F(ChatsTest, MemoChatExistsForEveryUser) {
  auto alice = new_user("alice");
  auto bob = new_user("bob");
  JsonRef memo = alice->ok("chats.memo")["chat"];
  EXPECT_EQ(memo["kind"].str(), "memo");
  EXPECT_EQ(memo["member_count"].i64(), 1);
  EXPECT_EQ(member_ids(get_chat(*alice, memo["chat_id"].i64())), std::set<std::int64_t>{alice.id()});
  EXPECT_EQ(alice->ok("chats.memo")["chat"]["chat_id"].i64(), memo["chat_id"].i64()) << "one memo chat per user";

  JsonRef bob_memo = bob->ok("chats.memo")["chat"];
  EXPECT_NE(bob_memo["chat_id"].i64(), memo["chat_id"].i64());
  EXPECT_EQ(bob->error("chats.get", JsonObj().set("chat_id", memo["chat_id"].i64())), "chat_not_found");

  JsonRef note = send_text(*alice, memo["chat_id"].i64(), "note to self");
  EXPECT_EQ(note["unread"].i64(), 0);
}

TEST_F(ChatsTest, DirectChatIsCreatedOnceForThePair) {
  auto alice = new_user("alice");
  auto bob = new_user("bob");
  JsonRef chat = direct_chat(*alice, bob.id());
  EXPECT_EQ(chat["kind"].str(), "direct");
  EXPECT_EQ(chat["title"].str(), "");
  EXPECT_EQ(chat["member_count"].i64(), 2);
  std::int64_t id = chat["chat_id"].i64();
  EXPECT_EQ(direct_chat(*alice, bob.id())["chat_id"].i64(), id);
  EXPECT_EQ(direct_chat(*bob, alice.id())["chat_id"].i64(), id);
  EXPECT_EQ(member_ids(get_chat(*bob, id)), (std::set<std::int64_t>{alice.id(), bob.id()}));
}

TEST_F(ChatsTest, DirectChatWithUnknownUserIsUserNotFound) {
  auto alice = new_user("alice");
  EXPECT_EQ(alice->error("chats.direct", JsonObj().set("user_id", 55555)), "user_not_found");
}

TEST_F(ChatsTest, CreateGroupMakesCreatorOwnerAndNotifiesMembers) {
  auto alice = new_user("alice");
  auto alice_phone = new_device(alice.account);
  auto bob = new_user("bob");
  auto carol = new_user("carol");
  JsonRef chat = create_group(*alice, "주말 등산", {bob.id(), carol.id()});
  std::int64_t id = chat["chat_id"].i64();
  EXPECT_EQ(chat["kind"].str(), "group");
  EXPECT_EQ(chat["title"].str(), "주말 등산");
  EXPECT_EQ(chat["member_count"].i64(), 3);
  EXPECT_GT(chat["created_at"].i64(), 1600000000000);
  EXPECT_FALSE(chat["left"].boolean());

  JsonRef full = get_chat(*bob, id);
  EXPECT_EQ(member_ids(full), (std::set<std::int64_t>{alice.id(), bob.id(), carol.id()}));
  EXPECT_EQ(member_of(full, alice.id())["role"].str(), "owner");
  EXPECT_EQ(member_of(full, bob.id())["role"].str(), "member");
  EXPECT_EQ(member_of(full, carol.id())["role"].str(), "member");
  EXPECT_EQ(member_of(full, carol.id())["profile"]["handle"].str(), "carol");

  for (Client* c : {bob.client.get(), carol.client.get(), alice_phone.client.get()}) {
    JsonRef ev = c->expect_event("chat.updated");
    EXPECT_EQ(ev["data"]["chat"]["chat_id"].i64(), id);
    EXPECT_EQ(ev["data"]["chat"]["title"].str(), "주말 등산");
    EXPECT_TRUE(ev["pos"].is_int()) << ev.dump();
  }
}

TEST_F(ChatsTest, CreateGroupWithUnknownUserFailsWithoutCreatingIt) {
  auto alice = new_user("alice");
  auto bob = new_user("bob");
  std::size_t before = alice->ok("chats.list")["chats"].size();
  EXPECT_EQ(alice->error("chats.create_group",
                         JsonObj().set("title", "x").set("user_ids", JsonArr{bob.id(), 999999})),
            "user_not_found");
  EXPECT_EQ(alice->ok("chats.list")["chats"].size(), before);
  EXPECT_FALSE(bob->next_event("chat.updated", 300ms).has_value());
}

TEST_F(ChatsTest, InviteAddsMemberWhoDoesNotCountForOlderMessages) {
  auto alice = new_user("alice");
  auto bob = new_user("bob");
  auto dave = new_user("dave");
  std::int64_t id = create_group(*alice, "g", {bob.id()})["chat_id"].i64();
  send_text(*alice, id, "before dave");
  std::int64_t last_before = get_chat(*alice, id)["last_seq"].i64();

  JsonRef chat = alice->ok("chats.invite", JsonObj().set("chat_id", id).set("user_ids", JsonArr{dave.id()}))["chat"];
  EXPECT_EQ(chat["member_count"].i64(), 3);

  JsonRef dave_event = dave->expect_event("chat.updated");
  EXPECT_EQ(dave_event["data"]["chat"]["chat_id"].i64(), id);
  EXPECT_EQ(dave_event["data"]["chat"]["member_count"].i64(), 3);
  bob->expect_event_matching("chat.updated", [&](const JsonRef& ev) {
    return ev["data"]["chat"]["chat_id"].i64() == id && ev["data"]["chat"]["member_count"].i64() == 3;
  });

  JsonRef full = get_chat(*dave, id);
  JsonRef dave_member = member_of(full, dave.id());
  EXPECT_EQ(dave_member["role"].str(), "member");
  EXPECT_GE(dave_member["joined_seq"].i64(), last_before);
  EXPECT_GE(dave_member["read_seq"].i64(), last_before);

  // The join is recorded as a system message.
  JsonRef system = last_message(*dave, id);
  EXPECT_EQ(system["kind"].str(), "system");
  JsonRef summary = JsonRef::parse(system["text"].str());
  EXPECT_EQ(summary["type"].str(), "invite");
  EXPECT_EQ(summary["by"].i64(), alice.id());
  EXPECT_EQ(summary["users"].size(), 1u);
  EXPECT_EQ(summary["users"][0].i64(), dave.id());

  // The older message does not wait for dave: only bob has not read it.
  auto history = alice->ok("messages.history", JsonObj().set("chat_id", id))["messages"].items();
  for (const auto& m : history) {
    if (m["kind"].str() == "text") {
      EXPECT_EQ(m["unread"].i64(), 1) << m.dump();
    }
  }
}

TEST_F(ChatsTest, InviteIntoDirectOrMemoChatIsInvalidState) {
  auto alice = new_user("alice");
  auto bob = new_user("bob");
  auto carol = new_user("carol");
  std::int64_t id = direct_chat(*alice, bob.id())["chat_id"].i64();
  std::int64_t memo = alice->ok("chats.memo")["chat"]["chat_id"].i64();
  EXPECT_EQ(alice->error("chats.invite", JsonObj().set("chat_id", id).set("user_ids", JsonArr{carol.id()})),
            "invalid_state");
  EXPECT_EQ(alice->error("chats.invite", JsonObj().set("chat_id", memo).set("user_ids", JsonArr{carol.id()})),
            "invalid_state");
  EXPECT_EQ(get_chat(*alice, id)["member_count"].i64(), 2);
  EXPECT_EQ(get_chat(*alice, memo)["member_count"].i64(), 1);
  EXPECT_EQ(carol->error("chats.get", JsonObj().set("chat_id", id)), "chat_not_found");
  EXPECT_EQ(carol->error("chats.get", JsonObj().set("chat_id", memo)), "chat_not_found");
}

TEST_F(ChatsTest, DirectChatKeepsAnEmptyTitle) {
  auto alice = new_user("alice");
  auto bob = new_user("bob");
  std::int64_t id = direct_chat(*alice, bob.id())["chat_id"].i64();
  // "A direct chat's title is empty; show the other member's profile."
  EXPECT_EQ(alice->error("chats.rename", JsonObj().set("chat_id", id).set("title", "our chat")), "invalid_state");
  EXPECT_EQ(get_chat(*bob, id)["title"].str(), "");
}

TEST_F(ChatsTest, RenameNotifiesMembersAndRecordsSystemMessage) {
  auto alice = new_user("alice");
  auto bob = new_user("bob");
  std::int64_t id = create_group(*alice, "old", {bob.id()})["chat_id"].i64();
  JsonRef chat = bob->ok("chats.rename", JsonObj().set("chat_id", id).set("title", "새 이름"))["chat"];
  EXPECT_EQ(chat["title"].str(), "새 이름");
  for (Client* c : {alice.client.get(), bob.client.get()}) {
    c->expect_event_matching("chat.updated", [&](const JsonRef& ev) {
      return ev["data"]["chat"]["chat_id"].i64() == id && ev["data"]["chat"]["title"].str() == "새 이름";
    });
  }
  EXPECT_EQ(get_chat(*alice, id)["title"].str(), "새 이름");
  JsonRef system = last_message(*alice, id);
  EXPECT_EQ(system["kind"].str(), "system");
  EXPECT_EQ(system["sender_id"].i64(), bob.id());
  JsonRef summary = JsonRef::parse(system["text"].str());
  EXPECT_EQ(summary["type"].str(), "rename");
  EXPECT_EQ(summary["by"].i64(), bob.id());
  EXPECT_EQ(summary["title"].str(), "새 이름");
}

TEST_F(ChatsTest, LeaveRemovesChatForLeaverAndUpdatesOthers) {
  auto alice = new_user("alice");
  auto bob = new_user("bob");
  auto bob_phone = new_device(bob.account);
  auto carol = new_user("carol");
  std::int64_t id = create_group(*alice, "g", {bob.id(), carol.id()})["chat_id"].i64();
  send_text(*alice, id, "hello all");
  // Let the message reach everyone before bob leaves.
  for (Client* c : {bob.client.get(), bob_phone.client.get(), carol.client.get()}) c->expect_event("message.new");

  EXPECT_TRUE(bob->ok("chats.leave", JsonObj().set("chat_id", id)).is_object());

  for (Client* c : {bob.client.get(), bob_phone.client.get()})
    EXPECT_EQ(c->expect_event("chat.removed")["data"]["chat_id"].i64(), id);
  for (Client* c : {alice.client.get(), carol.client.get()}) {
    c->expect_event_matching("chat.updated", [&](const JsonRef& ev) {
      return ev["data"]["chat"]["chat_id"].i64() == id && ev["data"]["chat"]["member_count"].i64() == 2;
    });
  }
  EXPECT_EQ(member_ids(get_chat(*alice, id)), (std::set<std::int64_t>{alice.id(), carol.id()}));

  // Bob is no longer a member: the chat is as unknown to him as any other.
  EXPECT_EQ(bob->error("chats.get", JsonObj().set("chat_id", id)), "chat_not_found");
  EXPECT_EQ(bob->error("messages.history", JsonObj().set("chat_id", id)), "chat_not_found");
  EXPECT_EQ(bob->error("messages.send", JsonObj().set("chat_id", id).set("client_id", "late").set("text", "x")),
            "chat_not_found");
  EXPECT_FALSE(bob->next_event("message.new", 200ms).has_value());

  // Further messages no longer reach him, and the leave is recorded.
  send_text(*alice, id, "bob is gone");
  EXPECT_FALSE(bob_phone->next_event("message.new", 300ms).has_value());
  auto history = alice->ok("messages.history", JsonObj().set("chat_id", id))["messages"].items();
  bool leave_recorded = std::any_of(history.begin(), history.end(), [&](const JsonRef& m) {
    if (m["kind"].str() != "system") return false;
    JsonRef summary = JsonRef::parse(m["text"].str());
    return summary["type"].str() == "leave" && summary.has("user") && summary["user"].i64() == bob.id();
  });
  EXPECT_TRUE(leave_recorded) << "no {\"type\":\"leave\",\"user\":bob} system message";
}

TEST_F(ChatsTest, MemberWhoLeftCanBeInvitedAgain) {
  auto alice = new_user("alice");
  auto bob = new_user("bob");
  std::int64_t id = create_group(*alice, "g", {bob.id()})["chat_id"].i64();
  send_text(*bob, id, "first stay");
  bob->ok("chats.leave", JsonObj().set("chat_id", id));
  send_text(*alice, id, "while bob was away");
  alice->ok("chats.invite", JsonObj().set("chat_id", id).set("user_ids", JsonArr{bob.id()}));
  bob->expect_event_matching("chat.updated", [&](const JsonRef& e) { return e["data"]["chat"]["chat_id"].i64() == id; });
  JsonRef chat = get_chat(*bob, id);
  EXPECT_FALSE(chat["left"].boolean());
  EXPECT_EQ(member_ids(chat), (std::set<std::int64_t>{alice.id(), bob.id()}));
  JsonRef again = send_text(*bob, id, "back again");
  std::int64_t joined_seq = member_of(get_chat(*bob, id), bob.id())["joined_seq"].i64();
  for (const auto& m : history_after(*bob, id, 0)) {
    EXPECT_GT(m["seq"].i64(), joined_seq) << m.dump();
    EXPECT_NE(m["text"].str(), "while bob was away");
  }
  EXPECT_EQ(history_after(*bob, id, 0).back()["seq"].i64(), again["seq"].i64());
}

TEST_F(ChatsTest, LeaveIsForGroupsOnly) {
  auto alice = new_user("alice");
  auto bob = new_user("bob");
  std::int64_t direct = direct_chat(*alice, bob.id())["chat_id"].i64();
  std::int64_t memo = alice->ok("chats.memo")["chat"]["chat_id"].i64();
  EXPECT_EQ(alice->error("chats.leave", JsonObj().set("chat_id", direct)), "invalid_state");
  EXPECT_EQ(alice->error("chats.leave", JsonObj().set("chat_id", memo)), "invalid_state");
  EXPECT_EQ(member_ids(get_chat(*alice, direct)), (std::set<std::int64_t>{alice.id(), bob.id()}));
  EXPECT_EQ(member_ids(get_chat(*alice, memo)), std::set<std::int64_t>{alice.id()});
}

TEST_F(ChatsTest, InvitedMemberSeesTimelineFromJoinOnly) {
  auto alice = new_user("alice");
  auto bob = new_user("bob");
  auto dave = new_user("dave");
  std::int64_t id = create_group(*alice, "g", {bob.id()})["chat_id"].i64();
  JsonRef before = send_text(*alice, id, "before dave");
  alice->ok("chats.invite", JsonObj().set("chat_id", id).set("user_ids", JsonArr{dave.id()}));
  JsonRef after = send_text(*bob, id, "after dave");
  std::int64_t joined_seq = member_of(get_chat(*dave, id), dave.id())["joined_seq"].i64();
  EXPECT_GE(joined_seq, before["seq"].i64());
  EXPECT_LT(joined_seq, after["seq"].i64());
  for (JsonObj args : {JsonObj().set("chat_id", id), JsonObj().set("chat_id", id).set("after_seq", 0),
                       JsonObj().set("chat_id", id).set("before_seq", after["seq"].i64() + 1)}) {
    auto messages = dave->ok("messages.history", args)["messages"].items();
    ASSERT_FALSE(messages.empty()) << args.str();
    for (const auto& m : messages) EXPECT_GT(m["seq"].i64(), joined_seq) << args.str() << ": " << m.dump();
    EXPECT_EQ(messages.back()["text"].str(), "after dave");
  }
  // Bob, a member from the start, sees everything.
  EXPECT_EQ(history_after(*bob, id, 0).front()["seq"].i64(), 1);
}

TEST_F(ChatsTest, NonMemberCannotLearnChatExists) {
  auto alice = new_user("alice");
  auto bob = new_user("bob");
  auto mallory = new_user("mallory");
  std::int64_t group = create_group(*alice, "secret", {bob.id()})["chat_id"].i64();
  std::int64_t direct = direct_chat(*alice, bob.id())["chat_id"].i64();
  send_text(*alice, group, "first");
  std::int64_t memo = alice->ok("chats.memo")["chat"]["chat_id"].i64();
  JsonRef before = get_chat(*alice, group);
  std::int64_t direct_last_seq = get_chat(*alice, direct)["last_seq"].i64();
  bob->expect_event("message.new");
  const std::int64_t nonexistent = 987654321;

  auto probes = [&](std::int64_t chat_id) {
    std::vector<std::pair<std::string, JsonObj>> ops = {
        {"chats.get", JsonObj().set("chat_id", chat_id)},
        {"messages.history", JsonObj().set("chat_id", chat_id)},
        {"messages.history", JsonObj().set("chat_id", chat_id).set("after_seq", 0)},
        {"messages.send", JsonObj().set("chat_id", chat_id).set("client_id", next_client_id()).set("text", "hi")},
        {"messages.read", JsonObj().set("chat_id", chat_id).set("seq", 1)},
        {"messages.delete", JsonObj().set("chat_id", chat_id).set("seq", 1)},
        {"chats.invite", JsonObj().set("chat_id", chat_id).set("user_ids", JsonArr{mallory.id()})},
        {"chats.rename", JsonObj().set("chat_id", chat_id).set("title", "pwned")},
        {"chats.leave", JsonObj().set("chat_id", chat_id)},
    };
    return ops;
  };
  for (std::int64_t chat_id : {group, direct, memo, nonexistent}) {
    for (auto& [op, args] : probes(chat_id)) {
      Response r = mallory->call(op, args);
      EXPECT_EQ(r.error_code(), "chat_not_found") << op << " on chat " << chat_id << ": " << r.dump();
    }
  }
  mallory->ok("ping");  // the connection stays usable

  // Nothing changed.
  JsonRef after = get_chat(*alice, group);
  EXPECT_EQ(after["title"].str(), "secret");
  EXPECT_EQ(after["last_seq"].i64(), before["last_seq"].i64());
  EXPECT_EQ(member_ids(after), member_ids(before));
  EXPECT_EQ(member_of(after, bob.id())["read_seq"].i64(), member_of(before, bob.id())["read_seq"].i64());
  EXPECT_EQ(get_chat(*alice, direct)["last_seq"].i64(), direct_last_seq);
  for (const auto& c : mallory->ok("chats.list")["chats"].items())
    EXPECT_TRUE(c["chat_id"].i64() != group && c["chat_id"].i64() != direct) << c.dump();
  EXPECT_FALSE(bob->next_event("message.new", 200ms).has_value());
}

TEST_F(ChatsTest, ListIsOrderedByNewestActivityWithUnreadCounts) {
  auto alice = new_user("alice");
  auto bob = new_user("bob");
  std::int64_t direct = direct_chat(*alice, bob.id())["chat_id"].i64();
  std::int64_t g1 = create_group(*alice, "g1", {bob.id()})["chat_id"].i64();
  std::int64_t g2 = create_group(*alice, "g2", {bob.id()})["chat_id"].i64();
  const std::set<std::int64_t> ours{direct, g1, g2};
  auto pause = [] { std::this_thread::sleep_for(5ms); };

  send_text(*bob, direct, "d1");
  pause();
  send_text(*bob, g1, "g1-1");
  pause();
  send_text(*bob, g2, "g2-1");
  pause();
  JsonRef list = alice->ok("chats.list");
  EXPECT_EQ(listed_ids(list, ours), (std::vector<std::int64_t>{g2, g1, direct}));

  send_text(*bob, direct, "d2");
  pause();
  list = alice->ok("chats.list");
  EXPECT_EQ(listed_ids(list, ours), (std::vector<std::int64_t>{direct, g2, g1}));
  JsonRef d = find_chat(list, direct);
  EXPECT_EQ(d["unread_count"].i64(), 2);
  EXPECT_EQ(d["last_message"]["text"].str(), "d2");
  EXPECT_EQ(d["last_seq"].i64(), d["last_message"]["seq"].i64());
  EXPECT_GE(d["last_activity_at"].i64(), d["last_message"]["created_at"].i64());
  EXPECT_EQ(find_chat(list, g1)["unread_count"].i64(), 1);
  EXPECT_EQ(find_chat(list, g2)["unread_count"].i64(), 1);

  // Bob's own messages are not unread for him.
  JsonRef bob_list = bob->ok("chats.list");
  EXPECT_EQ(find_chat(bob_list, direct)["unread_count"].i64(), 0);
  // Small chats list their members.
  EXPECT_EQ(member_ids(find_chat(bob_list, g1)), (std::set<std::int64_t>{alice.id(), bob.id()}));

  // Alice's own message moves g1 to the top but does not add to her count.
  send_text(*alice, g1, "mine");
  list = alice->ok("chats.list");
  EXPECT_EQ(listed_ids(list, ours), (std::vector<std::int64_t>{g1, direct, g2}));
  EXPECT_EQ(find_chat(list, g1)["unread_count"].i64(), 0) << "sending moves alice's own read pointer";
  // Reading clears the count.
  alice->ok("messages.read", JsonObj().set("chat_id", direct).set("seq", d["last_seq"].i64()));
  list = alice->ok("chats.list");
  EXPECT_EQ(find_chat(list, direct)["unread_count"].i64(), 0);
  EXPECT_EQ(find_chat(list, direct)["read_seq"].i64(), d["last_seq"].i64());
}

TEST_F(ChatsTest, ListPagesWithCursorWithoutGapsOrDuplicates) {
  auto alice = new_user("alice");
  auto bob = new_user("bob");
  std::set<std::int64_t> created;
  for (int i = 0; i < 7; ++i) {
    std::int64_t id = create_group(*alice, "g" + std::to_string(i), {bob.id()})["chat_id"].i64();
    send_text(*alice, id, "m" + std::to_string(i));
    created.insert(id);
    std::this_thread::sleep_for(3ms);
  }
  std::vector<std::int64_t> all_at_once;
  for (const auto& c : alice->ok("chats.list", JsonObj().set("limit", 200))["chats"].items())
    all_at_once.push_back(c["chat_id"].i64());

  std::vector<std::int64_t> paged;
  JsonObj args = JsonObj().set("limit", 3);
  for (int page = 0; page < 20; ++page) {
    JsonRef result = alice->ok("chats.list", args);
    EXPECT_LE(result["chats"].size(), 3u);
    for (const auto& c : result["chats"].items()) paged.push_back(c["chat_id"].i64());
    if (result["next"].is_null()) break;
    args = JsonObj().set("limit", 3).set_raw("before", result["next"].dump());
  }
  EXPECT_EQ(paged, all_at_once);
  for (std::int64_t id : created) EXPECT_EQ(std::count(paged.begin(), paged.end(), id), 1) << id;
}

TEST_F(ChatsTest, ListPagingIsStableWhenActivityTimesTie) {
  auto alice = new_user("alice");
  auto bob = new_user("bob");
  // Many chats created back to back: several share a millisecond of last activity.
  std::vector<std::int64_t> requests;
  for (int i = 0; i < 12; ++i)
    requests.push_back(alice->send_request("chats.create_group", JsonObj().set("title", "t" + std::to_string(i)).set("user_ids", JsonArr{bob.id()})));
  std::set<std::int64_t> created;
  for (auto id : requests) created.insert(alice->wait_response(id).result()["chat"]["chat_id"].i64());

  std::vector<std::int64_t> paged;
  JsonObj args = JsonObj().set("limit", 2);
  for (int page = 0; page < 50; ++page) {
    JsonRef result = alice->ok("chats.list", args);
    for (const auto& c : result["chats"].items()) paged.push_back(c["chat_id"].i64());
    if (result["next"].is_null()) break;
    args = JsonObj().set("limit", 2).set_raw("before", result["next"].dump());
  }
  for (std::int64_t id : created)
    EXPECT_EQ(std::count(paged.begin(), paged.end(), id), 1) << "chat " << id << " in paged chats.list";
  std::set<std::int64_t> unique(paged.begin(), paged.end());
  EXPECT_EQ(unique.size(), paged.size()) << "no chat is listed twice";
}

TEST_F(ChatsTest, ListDefaultsToFiftyChats) {
  auto alice = new_user("alice");
  auto bob = new_user("bob");
  std::vector<std::int64_t> requests;
  for (int i = 0; i < 55; ++i)
    requests.push_back(alice->send_request("chats.create_group", JsonObj().set("title", "g" + std::to_string(i)).set("user_ids", JsonArr{bob.id()})));
  for (auto id : requests) alice->wait_response(id).result();
  JsonRef page = alice->ok("chats.list");
  EXPECT_EQ(page["chats"].size(), 50u);
  EXPECT_FALSE(page["next"].is_null());
}

TEST_F(ChatsTest, ListLimitIsValidated) {
  auto alice = new_user("alice");
  EXPECT_EQ(alice->error("chats.list", JsonObj().set("limit", 0)), "bad_request");
  EXPECT_EQ(alice->error("chats.list", JsonObj().set("limit", 201)), "bad_request");
  EXPECT_TRUE(alice->ok("chats.list", JsonObj().set("limit", 200))["chats"].is_array());
}

class ChatsLargeGroupTest : public ModuTest {
  std::vector<std::string> server_args() const override {
    return {"--rate-limit", "100000", "--rate-burst", "100000"};
  }
};

// Over 100 members, summaries outside chats.get leave the member list out; counts and
// fan-out still cover everyone.
TEST_F(ChatsLargeGroupTest, GroupOfOneHundredAndOneMembers) {
  auto owner = new_user("owner");
  std::vector<Session> members = new_users("member", 100);
  std::vector<std::int64_t> ids = user_ids(members);
  JsonRef created = create_group(*owner, "big", ids);
  std::int64_t chat = created["chat_id"].i64();
  EXPECT_EQ(created["member_count"].i64(), 101);

  JsonRef full = get_chat(*members[50], chat);
  EXPECT_EQ(full["members"].size(), 101u) << "chats.get always lists every member";
  JsonRef listed = owner->ok("chats.list")["chats"];
  for (const auto& c : listed.items())
    if (c["chat_id"].i64() == chat) {
      EXPECT_TRUE(!c.has("members") || c["members"].is_null()) << "members listed for a chat of 101";
    }

  JsonRef m = send_text(*owner, chat, "hello, everyone");
  EXPECT_EQ(m["unread"].i64(), 100);
  for (auto& member : members) {
    JsonRef ev = member->expect_event_matching("message.new", [&](const JsonRef& e) { return e["data"]["message"]["seq"].i64() == m["seq"].i64(); });
    EXPECT_EQ(ev["data"]["message"]["text"].str(), "hello, everyone");
  }
  for (int i = 0; i < 60; ++i) members[i]->ok("messages.read", JsonObj().set("chat_id", chat).set("seq", m["seq"].i64()));
  EXPECT_EQ(history_after(*owner, chat, m["seq"].i64() - 1).at(0)["unread"].i64(), 40);
}

TEST_F(ChatsTest, GetReturnsAllMembersWithProfiles) {
  auto alice = new_user("alice", "Alice");
  std::vector<std::int64_t> others;
  std::vector<Session> users;
  for (int i = 0; i < 4; ++i) {
    users.push_back(new_user("user" + std::to_string(i), "User " + std::to_string(i)));
    others.push_back(users.back().id());
  }
  std::int64_t id = create_group(*alice, "five", others)["chat_id"].i64();
  JsonRef chat = get_chat(*users[2], id);
  EXPECT_EQ(chat["member_count"].i64(), 5);
  ASSERT_EQ(chat["members"].size(), 5u);
  for (const auto& m : chat["members"].items()) {
    EXPECT_EQ(m["profile"]["user_id"].i64(), m["user_id"].i64());
    EXPECT_TRUE(m["profile"]["handle"].is_string());
    EXPECT_TRUE(m["read_seq"].is_int());
    EXPECT_TRUE(m["joined_seq"].is_int());
  }
  EXPECT_EQ(member_of(chat, alice.id())["profile"]["display_name"].str(), "Alice");
}

}  // namespace
}  // namespace modu_it
