// Profiles and friends: profile.get / profile.update, friends.add / remove / list, and the
// profile.updated and friends.updated events (docs/protocol.md, "Profiles and friends").
#include "harness/modu_test.h"

namespace modu_it {
namespace {

class FriendsTest : public ModuTest {};

TEST_F(FriendsTest, ProfileGetByUserIdAndByHandle) {
  auto alice = new_user("alice", "앨리스");
  auto bob = new_user("bob");
  JsonRef by_id = bob->ok("profile.get", JsonObj().set("user_id", alice.id()))["profile"];
  EXPECT_EQ(by_id["user_id"].i64(), alice.id());
  EXPECT_EQ(by_id["handle"].str(), "alice");
  EXPECT_EQ(by_id["display_name"].str(), "앨리스");
  EXPECT_TRUE(by_id["status_message"].is_string());
  EXPECT_TRUE(by_id["avatar"].is_string());
  JsonRef by_handle = bob->ok("profile.get", JsonObj().set("handle", "alice"))["profile"];
  EXPECT_EQ(by_handle.dump(), by_id.dump());
}

TEST_F(FriendsTest, ProfileGetUnknownUserIsUserNotFound) {
  auto alice = new_user("alice");
  EXPECT_EQ(alice->error("profile.get", JsonObj().set("user_id", 424242)), "user_not_found");
  EXPECT_EQ(alice->error("profile.get", JsonObj().set("handle", "nobody")), "user_not_found");
  alice->ok("ping");
}

TEST_F(FriendsTest, ProfileUpdateChangesOnlyGivenFields) {
  auto alice = new_user("alice", "앨리스");
  JsonRef p1 = alice->ok("profile.update", JsonObj().set("status_message", "여행 중"))["profile"];
  EXPECT_EQ(p1["status_message"].str(), "여행 중");
  EXPECT_EQ(p1["display_name"].str(), "앨리스");
  JsonRef p2 = alice->ok("profile.update", JsonObj()
                                               .set("display_name", "Alice K")
                                               .set("avatar", "https://example.test/a.png"))["profile"];
  EXPECT_EQ(p2["display_name"].str(), "Alice K");
  EXPECT_EQ(p2["avatar"].str(), "https://example.test/a.png");
  EXPECT_EQ(p2["status_message"].str(), "여행 중");
  EXPECT_EQ(p2["handle"].str(), "alice");
  auto other = new_user("bob");
  EXPECT_EQ(other->ok("profile.get", JsonObj().set("user_id", alice.id()))["profile"].dump(), p2.dump());
}

TEST_F(FriendsTest, ProfileUpdateReachesOwnDevicesAndFriendsOnly) {
  auto alice = new_user("alice");
  auto alice_phone = new_device(alice.account);
  auto bob = new_user("bob");          // has alice as a friend
  auto carol = new_user("carol");      // does not
  bob->ok("friends.add", JsonObj().set("handle", "alice"));
  alice->ok("friends.add", JsonObj().set("handle", "carol"));  // one-way: carol did not add alice

  alice->ok("profile.update", JsonObj().set("status_message", "busy"));

  for (Client* c : {bob.client.get(), alice_phone.client.get(), alice.client.get()}) {
    JsonRef ev = c->expect_event("profile.updated");
    EXPECT_EQ(ev["data"]["profile"]["user_id"].i64(), alice.id());
    EXPECT_EQ(ev["data"]["profile"]["status_message"].str(), "busy");
    EXPECT_TRUE(ev["pos"].is_int()) << ev.dump();
  }
  EXPECT_FALSE(carol->next_event("profile.updated", 300ms).has_value())
      << "carol has not added alice as a friend";
}

TEST_F(FriendsTest, AddByHandleOrIdListRemove) {
  auto alice = new_user("alice");
  auto bob = new_user("bob", "Bob");
  auto carol = new_user("carol", "Carol");
  JsonRef friend_bob = alice->ok("friends.add", JsonObj().set("handle", "bob"))["friend"];
  EXPECT_EQ(friend_bob["user_id"].i64(), bob.id());
  EXPECT_EQ(friend_bob["display_name"].str(), "Bob");
  JsonRef friend_carol = alice->ok("friends.add", JsonObj().set("user_id", carol.id()))["friend"];
  EXPECT_EQ(friend_carol["handle"].str(), "carol");
  // Adding twice is fine.
  EXPECT_EQ(alice->ok("friends.add", JsonObj().set("handle", "bob"))["friend"]["user_id"].i64(), bob.id());

  JsonRef list = alice->ok("friends.list")["friends"];
  ASSERT_EQ(list.size(), 2u) << list.dump();
  EXPECT_EQ(list[0]["user_id"].i64(), bob.id());
  EXPECT_EQ(list[1]["user_id"].i64(), carol.id());

  EXPECT_TRUE(alice->ok("friends.remove", JsonObj().set("user_id", bob.id())).is_object());
  list = alice->ok("friends.list")["friends"];
  ASSERT_EQ(list.size(), 1u) << list.dump();
  EXPECT_EQ(list[0]["user_id"].i64(), carol.id());
}

TEST_F(FriendsTest, ListIsSortedByDisplayName) {
  auto alice = new_user("alice");
  auto z = new_user("user_z", "Aaron");
  auto a = new_user("user_a", "Zoe");
  auto m = new_user("user_m", "Mina");
  for (const char* h : {"user_a", "user_m", "user_z"}) alice->ok("friends.add", JsonObj().set("handle", h));
  JsonRef list = alice->ok("friends.list")["friends"];
  ASSERT_EQ(list.size(), 3u);
  EXPECT_EQ(list[0]["display_name"].str(), "Aaron");
  EXPECT_EQ(list[1]["display_name"].str(), "Mina");
  EXPECT_EQ(list[2]["display_name"].str(), "Zoe");
}

TEST_F(FriendsTest, FriendshipIsOneWay) {
  auto alice = new_user("alice");
  auto bob = new_user("bob");
  alice->ok("friends.add", JsonObj().set("handle", "bob"));
  EXPECT_EQ(alice->ok("friends.list")["friends"].size(), 1u);
  EXPECT_EQ(bob->ok("friends.list")["friends"].size(), 0u);
}

TEST_F(FriendsTest, FriendsUpdatedEventReachesOwnDevices) {
  auto alice = new_user("alice");
  auto alice_phone = new_device(alice.account);
  auto bob = new_user("bob");
  alice->ok("friends.add", JsonObj().set("handle", "bob"));
  JsonRef added = alice_phone->expect_event("friends.updated");
  EXPECT_EQ(added["data"]["friend"]["user_id"].i64(), bob.id());
  EXPECT_FALSE(added["data"]["removed"].boolean());

  alice->ok("friends.remove", JsonObj().set("user_id", bob.id()));
  JsonRef removed = alice_phone->expect_event("friends.updated");
  EXPECT_EQ(removed["data"]["friend"]["user_id"].i64(), bob.id());
  EXPECT_TRUE(removed["data"]["removed"].boolean());
  EXPECT_GT(removed["pos"].i64(), added["pos"].i64());

  // Bob is not told.
  EXPECT_FALSE(bob->next_event("friends.updated", 300ms).has_value());
}

TEST_F(FriendsTest, ProfileChangesShowEverywhereTheProfileIsServed) {
  auto alice = new_user("alice", "Alice");
  auto bob = new_user("bob", "Bob");
  auto carol = new_user("carol", "Carol");
  bob->ok("friends.add", JsonObj().set("user_id", alice.id()));
  bob->ok("friends.add", JsonObj().set("user_id", carol.id()));
  std::int64_t chat = create_group(*alice, "g", {bob.id()})["chat_id"].i64();
  EXPECT_EQ(bob->ok("friends.list")["friends"][0]["user_id"].i64(), alice.id());

  alice->ok("profile.update", JsonObj().set("display_name", "Zed"));
  bob->expect_event("profile.updated");
  // Friends list: new name, new position.
  JsonRef friends = bob->ok("friends.list")["friends"];
  ASSERT_EQ(friends.size(), 2u);
  EXPECT_EQ(friends[0]["user_id"].i64(), carol.id());
  EXPECT_EQ(friends[1]["display_name"].str(), "Zed");
  // Chat members and profile.get.
  EXPECT_EQ(member_of(get_chat(*bob, chat), alice.id())["profile"]["display_name"].str(), "Zed");
  EXPECT_EQ(bob->ok("profile.get", JsonObj().set("handle", "alice"))["profile"]["display_name"].str(), "Zed");
}

TEST_F(FriendsTest, AddUnknownUserIsUserNotFound) {
  auto alice = new_user("alice");
  EXPECT_EQ(alice->error("friends.add", JsonObj().set("handle", "nobody")), "user_not_found");
  EXPECT_EQ(alice->error("friends.add", JsonObj().set("user_id", 777777)), "user_not_found");
  EXPECT_EQ(alice->ok("friends.list")["friends"].size(), 0u);
}

TEST_F(FriendsTest, RemovedFriendNoLongerGetsProfileUpdates) {
  auto alice = new_user("alice");
  auto bob = new_user("bob");
  bob->ok("friends.add", JsonObj().set("user_id", alice.id()));
  bob->ok("friends.remove", JsonObj().set("user_id", alice.id()));
  bob->clear_events();
  alice->ok("profile.update", JsonObj().set("display_name", "A"));
  alice->expect_event("profile.updated");  // own device: the update happened
  EXPECT_FALSE(bob->next_event("profile.updated", 300ms).has_value());
}

}  // namespace
}  // namespace modu_it
