// Open chats and communities (오픈채팅 / 모임): discovery, join policies, applications,
// conditions, the community cap, roles, moderation (kick, ban, delete, reports, slow mode,
// notice, audit), history visibility, races on capacity / cap / slow mode, what survives a
// restart, room identities that never leak the account behind them (every frame other
// members receive is searched), and a full 1,500-member room (docs/protocol.md, "Open chats
// and communities").
#include <algorithm>
#include <atomic>
#include <cctype>
#include <functional>
#include <mutex>
#include <set>
#include <thread>

#include "harness/modu_test.h"

namespace modu_it {
namespace {

// Every suite here: no rate limiting in the way, cheap password hashing (many accounts).
std::vector<std::string> open_chat_server_args() {
  return {"--rate-limit", "100000", "--rate-burst", "100000", "--password-memory-kib", "8", "--password-ops", "1"};
}

class OpenChatTest : public ModuTest {
 protected:
  std::vector<std::string> server_args() const override { return open_chat_server_args(); }
};

class OpenChatSearchTest : public OpenChatTest {};
class OpenChatJoinTest : public OpenChatTest {};
class OpenChatApprovalTest : public OpenChatTest {};
class OpenChatRolesTest : public OpenChatTest {};
class OpenChatModerationTest : public OpenChatTest {};
class OpenChatIdentityTest : public OpenChatTest {};

// The server-wide community cap is 2 here.
class OpenChatCapTest : public ModuTest {
 protected:
  std::vector<std::string> server_args() const override {
    auto args = open_chat_server_args();
    args.insert(args.end(), {"--max-communities", "2"});
    return args;
  }
};

// --- helpers ------------------------------------------------------------------------

JsonObj nick(const std::string& nickname) { return JsonObj().set("kind", "nickname").set("nickname", nickname); }
JsonObj real_profile() { return JsonObj().set("kind", "real"); }

JsonArr strings(const std::vector<std::string>& values) {
  JsonArr a;
  for (const auto& v : values) a.add(v);
  return a;
}

// A form field for approval rooms.
std::string field(const std::string& key, const std::string& label, const std::string& type, bool required) {
  return JsonObj().set("key", key).set("label", label).set("type", type).set("required", required).str();
}

// open.create; `args` must not contain `profile` (the owner joins as `owner_nick`).
JsonRef create_room(Client& owner, JsonObj args, const std::string& owner_nick = "방장") {
  return owner.ok("open.create", args.set("profile", nick(owner_nick)))["chat"];
}

JsonRef create_room_titled(Client& owner, const std::string& title, const std::string& owner_nick = "방장") {
  return create_room(owner, JsonObj().set("title", title), owner_nick);
}

std::int64_t chat_id_of(const JsonRef& chat) { return chat["chat_id"].i64(); }
std::int64_t self_of(const JsonRef& chat) { return chat["self_id"].i64(); }
std::string code_of(const JsonRef& chat) { return chat["open"]["code"].str(); }

// open.join by chat id with a nickname; requires a {chat} answer.
JsonRef join_room(Client& c, std::int64_t chat_id, const std::string& nickname) {
  return c.ok("open.join", JsonObj().set("chat_id", chat_id).set("profile", nick(nickname)))["chat"];
}

// Applies to an approval room; returns the application.
JsonRef apply(Client& c, std::int64_t chat_id, const std::string& nickname, const JsonObj& answers = JsonObj()) {
  JsonObj args;
  args.set("chat_id", chat_id).set("profile", nick(nickname));
  if (!answers.empty()) args.set("answers", answers);
  return c.ok("open.join", args)["application"];
}

JsonRef decide(Client& staff, std::int64_t chat_id, std::int64_t application_id, bool approve,
               const std::string& reason = "") {
  JsonObj args;
  args.set("chat_id", chat_id).set("application_id", application_id).set("approve", approve);
  if (!reason.empty()) args.set("reason", reason);
  return staff.ok("open.decide", args)["application"];
}

// Applies and has `staff` approve; returns the applicant's member id in that room.
std::int64_t apply_and_approve(Client& applicant, Client& staff, std::int64_t chat_id, const std::string& nickname,
                               const JsonObj& answers = JsonObj()) {
  JsonRef app = apply(applicant, chat_id, nickname, answers);
  decide(staff, chat_id, app["application_id"].i64(), true);
  return self_of(get_chat(applicant, chat_id));
}

// The system message payload of a message (its text is JSON).
JsonRef system_payload(const JsonRef& message) { return JsonRef::parse(message["text"].str()); }

// The next message.new in `chat_id` that is a system message of `type` (about member `user`
// when given).
JsonRef expect_system(Client& c, std::int64_t chat_id, const std::string& type, std::int64_t user = -1) {
  JsonRef ev = c.expect_event_matching("message.new", [&](const JsonRef& e) {
    JsonRef m = e["data"]["message"];
    if (m["chat_id"].i64() != chat_id || m["kind"].str() != "system") return false;
    JsonRef p = system_payload(m);
    return p["type"].str() == type && (user < 0 || (p.has("user") && p["user"].is_int() && p["user"].i64() == user));
  });
  return system_payload(ev["data"]["message"]);
}

std::set<std::int64_t> room_ids(const JsonRef& result) {
  std::set<std::int64_t> ids;
  for (const auto& r : result["rooms"].items()) ids.insert(r["chat_id"].i64());
  return ids;
}

std::set<std::int64_t> search(Client& c, const std::string& query) {
  return room_ids(c.ok("open.search", JsonObj().set("query", query).set("limit", 50)));
}

std::vector<std::string> string_list(const JsonRef& arr) {
  std::vector<std::string> out;
  for (const auto& v : arr.items()) out.push_back(v.str());
  std::sort(out.begin(), out.end());
  return out;
}

const std::vector<std::string> kAllPermissions{"approve", "ban", "delete", "edit", "kick", "notice"};

std::string throwaway_handle(int i) { return "throwaway" + std::to_string(i); }

// --- discovery -------------------------------------------------------------------------

TEST_F(OpenChatSearchTest, KoreanEnglishAndTagQueriesFindListedRooms) {
  auto owner = new_user("owner");
  auto stranger = new_user("stranger");
  std::int64_t gangnam = chat_id_of(create_room(*owner, JsonObj().set("title", "강남 독서모임에 오세요")));
  std::int64_t described = chat_id_of(create_room(
      *owner, JsonObj().set("title", "금요일 밤 수다방").set("description", "퇴근 후 독서모임에 관심 있는 분 환영")));
  std::int64_t rust = chat_id_of(create_room(
      *owner, JsonObj().set("title", "Rust Study Group").set("description", "weekly meetup").set(
                  "tags", strings({"programming", "개발"}))));
  std::int64_t baking = chat_id_of(
      create_room(*owner, JsonObj().set("title", "요리 교실").set("tags", strings({"베이킹", "케이크"}))));
  std::int64_t hidden = chat_id_of(create_room(
      *owner, JsonObj().set("title", "비밀 독서모임 Rust Study").set("tags", strings({"베이킹"})).set("listed", false)));

  for (const char* q : {"독서", "모임", "독서모임"}) {
    auto found = search(*stranger, q);
    EXPECT_TRUE(found.count(gangnam)) << "query " << q << " should find the title 강남 독서모임에 오세요";
    EXPECT_TRUE(found.count(described)) << "query " << q << " should find the description …독서모임에…";
    EXPECT_FALSE(found.count(rust)) << q;
    EXPECT_FALSE(found.count(baking)) << q;
    EXPECT_FALSE(found.count(hidden)) << "link-only rooms never appear in search (" << q << ")";
  }
  for (const char* q : {"rust", "RUST", "Rust", "study", "STUDY", "study group"}) {
    auto found = search(*stranger, q);
    EXPECT_TRUE(found.count(rust)) << "query " << q << " should find Rust Study Group (case-insensitive)";
    EXPECT_FALSE(found.count(gangnam)) << q;
    EXPECT_FALSE(found.count(hidden)) << "link-only rooms never appear in search (" << q << ")";
  }
  // Tags are searchable.
  auto by_tag = search(*stranger, "베이킹");
  EXPECT_TRUE(by_tag.count(baking));
  EXPECT_FALSE(by_tag.count(hidden));
  EXPECT_TRUE(search(*stranger, "programming").count(rust));
  EXPECT_TRUE(search(*stranger, "개발").count(rust));
  EXPECT_TRUE(search(*stranger, "zzqqxx-nothing").empty());

  // A found room is a Room: the fields anyone may see, never a passcode.
  JsonRef result = stranger->ok("open.search", JsonObj().set("query", "강남"));
  ASSERT_EQ(result["rooms"].size(), 1u) << result.dump();
  JsonRef room = result["rooms"][0];
  EXPECT_EQ(room["chat_id"].i64(), gangnam);
  EXPECT_EQ(room["title"].str(), "강남 독서모임에 오세요");
  EXPECT_EQ(room["member_count"].i64(), 1);
  EXPECT_TRUE(room["listed"].boolean());
  EXPECT_EQ(room["join_policy"].str(), "open");
  EXPECT_EQ(room["history"].str(), "from_join");
  EXPECT_EQ(room["code"].str().size(), 10u);
  EXPECT_FALSE(room.has("passcode"));
  EXPECT_FALSE(result["has_more"].boolean());

  // Query bounds: 1–100 bytes.
  EXPECT_EQ(stranger->error("open.search", JsonObj().set("query", "")), "bad_request");
  EXPECT_EQ(stranger->error("open.search", JsonObj().set("query", std::string(101, 'a'))), "bad_request");
  EXPECT_EQ(stranger->error("open.search", JsonObj().set("query", "rust").set("limit", 51)), "bad_request");
}

TEST_F(OpenChatSearchTest, ShortQueriesAndQuerySyntaxCharacters) {
  auto owner = new_user("owner");
  std::int64_t book = chat_id_of(create_room(*owner, JsonObj().set("title", "주말 모임").set("tags", strings({"책"}))));
  std::int64_t cpp = chat_id_of(create_room_titled(*owner, "C++ 스터디"));
  std::int64_t go = chat_id_of(create_room_titled(*owner, "Go 초보방"));
  std::int64_t quoted_room = chat_id_of(create_room_titled(*owner, "\"따옴표\" AND (괄호) 방*"));
  // One- and two-character queries (a query may be a single byte).
  EXPECT_TRUE(search(*owner, "책").count(book));
  EXPECT_TRUE(search(*owner, "go").count(go));
  EXPECT_TRUE(search(*owner, "c++").count(cpp));
  EXPECT_TRUE(search(*owner, "C++ 스터디").count(cpp));
  // Characters that mean something to a search engine are just text: a query of only such
  // characters may be refused as bad_request (it holds nothing to search for), but never
  // breaks the search; mixed with words they are ignored or matched literally.
  for (const char* q : {"\"", "*", "(", ")", "-", "+", "'", ":", "^", "NEAR(a b)", "a OR b", "AND", "NOT x", "\\", "%", "_",
                        "{", "}", "[", "]", ";", "\"\"", "따옴표\"", "괄호)", "rust*", "c++)", "-go", "^주말"}) {
    Response r = owner->call("open.search", JsonObj().set("query", q));
    EXPECT_TRUE(r.ok() || r.error_code() == "bad_request") << "query " << q << ": " << r.dump();
  }
  for (const char* q : {"따옴표\"", "괄호)", "\"주말", "주말*", "(주말", "주말)", "주말:"}) {
    Response r = owner->call("open.search", JsonObj().set("query", q));
    ASSERT_TRUE(r.ok()) << "query " << q << ": " << r.dump();
    EXPECT_TRUE(room_ids(r.result()).count(std::string(q).find("주말") != std::string::npos ? book : quoted_room))
        << "query " << q << ": " << r.dump();
  }
  EXPECT_TRUE(search(*owner, "\"따옴표\"").count(quoted_room));
  EXPECT_TRUE(search(*owner, "(괄호)").count(quoted_room));
}

TEST_F(OpenChatSearchTest, SearchPagesWithLimitAndOffset) {
  auto owner = new_user("owner");
  std::set<std::int64_t> created;
  for (int i = 0; i < 5; ++i) created.insert(chat_id_of(create_room_titled(*owner, "paging club " + std::to_string(i))));
  std::set<std::int64_t> seen;
  JsonRef p1 = owner->ok("open.search", JsonObj().set("query", "paging club").set("limit", 2));
  EXPECT_EQ(p1["rooms"].size(), 2u);
  EXPECT_TRUE(p1["has_more"].boolean());
  JsonRef p2 = owner->ok("open.search", JsonObj().set("query", "paging club").set("limit", 2).set("offset", 2));
  EXPECT_EQ(p2["rooms"].size(), 2u);
  EXPECT_TRUE(p2["has_more"].boolean());
  JsonRef p3 = owner->ok("open.search", JsonObj().set("query", "paging club").set("limit", 2).set("offset", 4));
  EXPECT_EQ(p3["rooms"].size(), 1u);
  EXPECT_FALSE(p3["has_more"].boolean());
  for (const auto& p : {p1, p2, p3})
    for (auto id : room_ids(p)) seen.insert(id);
  EXPECT_EQ(seen, created);
}

TEST_F(OpenChatSearchTest, LinkOnlyRoomIsFoundOnlyByCode) {
  auto owner = new_user("owner");
  auto guest = new_user("guest");
  JsonRef chat = create_room(*owner, JsonObj().set("title", "link only lounge").set("listed", false));
  std::int64_t id = chat_id_of(chat);
  std::string code = code_of(chat);
  ASSERT_EQ(code.size(), 10u);
  EXPECT_TRUE(std::all_of(code.begin(), code.end(), [](char c) { return std::isalnum(static_cast<unsigned char>(c)); }))
      << code;
  EXPECT_FALSE(chat["open"]["listed"].boolean());

  EXPECT_FALSE(search(*guest, "lounge").count(id));
  EXPECT_FALSE(room_ids(guest->ok("open.popular", JsonObj().set("limit", 50))).count(id));
  // By id it does not exist for a non-member.
  EXPECT_EQ(guest->error("open.preview", JsonObj().set("chat_id", id)), "room_not_found");
  EXPECT_EQ(guest->error("open.join", JsonObj().set("chat_id", id).set("profile", nick("손님"))), "room_not_found");
  EXPECT_EQ(guest->error("open.preview", JsonObj().set("code", "ZZZZZZZZZZ")), "room_not_found");

  JsonRef preview = guest->ok("open.preview", JsonObj().set("code", code));
  EXPECT_EQ(preview["room"]["chat_id"].i64(), id);
  EXPECT_EQ(preview["room"]["title"].str(), "link only lounge");
  EXPECT_FALSE(preview["member"].boolean());
  EXPECT_FALSE(preview["banned"].boolean());
  EXPECT_TRUE(preview["application"].is_null());

  JsonRef joined = guest->ok("open.join", JsonObj().set("code", code).set("profile", nick("손님")))["chat"];
  EXPECT_EQ(chat_id_of(joined), id);
  EXPECT_EQ(joined["kind"].str(), "open");
  EXPECT_TRUE(guest->ok("open.preview", JsonObj().set("code", code))["member"].boolean());
  EXPECT_EQ(get_chat(*owner, id)["member_count"].i64(), 2);
  // Still not listed, now that it has members.
  EXPECT_FALSE(search(*guest, "lounge").count(id));
  EXPECT_FALSE(room_ids(owner->ok("open.popular", JsonObj().set("limit", 50))).count(id));
  // Listing it makes it findable; unlisting hides it again.
  owner->ok("open.update", JsonObj().set("chat_id", id).set("listed", true));
  EXPECT_TRUE(search(*guest, "lounge").count(id));
  owner->ok("open.update", JsonObj().set("chat_id", id).set("listed", false));
  EXPECT_FALSE(search(*guest, "lounge").count(id));
  EXPECT_FALSE(room_ids(owner->ok("open.popular", JsonObj().set("limit", 50))).count(id));
}

TEST_F(OpenChatSearchTest, PopularOrdersListedRoomsByMemberCount) {
  auto owner = new_user("owner");
  std::vector<Session> joiners;
  for (int i = 0; i < 3; ++i) joiners.push_back(new_user("joiner" + std::to_string(i)));
  std::int64_t small = chat_id_of(create_room_titled(*owner, "one member"));
  std::int64_t big = chat_id_of(create_room_titled(*owner, "three members"));
  std::int64_t medium = chat_id_of(create_room_titled(*owner, "two members"));
  std::int64_t hidden = chat_id_of(create_room(*owner, JsonObj().set("title", "four but hidden").set("listed", false)));
  join_room(*joiners[0], big, "a");
  join_room(*joiners[1], big, "b");
  join_room(*joiners[2], medium, "c");
  JsonRef hidden_chat = get_chat(*owner, hidden);
  for (auto& j : joiners)
    j->ok("open.join", JsonObj().set("code", code_of(hidden_chat)).set("profile", nick("h")));

  JsonRef popular = owner->ok("open.popular", JsonObj());
  std::vector<std::int64_t> order, counts;
  for (const auto& r : popular["rooms"].items()) {
    order.push_back(r["chat_id"].i64());
    counts.push_back(r["member_count"].i64());
  }
  EXPECT_EQ(order, (std::vector<std::int64_t>{big, medium, small})) << popular.dump();
  EXPECT_EQ(counts, (std::vector<std::int64_t>{3, 2, 1}));
  EXPECT_FALSE(popular["has_more"].boolean());

  JsonRef first = owner->ok("open.popular", JsonObj().set("limit", 2));
  EXPECT_EQ(room_ids(first), (std::set<std::int64_t>{big, medium}));
  EXPECT_TRUE(first["has_more"].boolean());
  JsonRef rest = owner->ok("open.popular", JsonObj().set("limit", 2).set("offset", 2));
  EXPECT_EQ(room_ids(rest), (std::set<std::int64_t>{small}));
  EXPECT_FALSE(rest["has_more"].boolean());

  // Membership changes move the order: two more join the smallest room.
  join_room(*joiners[0], small, "x");
  join_room(*joiners[1], small, "y");
  join_room(*joiners[2], small, "z");
  popular = owner->ok("open.popular", JsonObj());
  ASSERT_GE(popular["rooms"].size(), 1u);
  EXPECT_EQ(popular["rooms"][0]["chat_id"].i64(), small) << popular.dump();
  EXPECT_EQ(popular["rooms"][0]["member_count"].i64(), 4);

  // Leaving, kicks and bans count too: back to 1 member.
  joiners[0]->ok("chats.leave", JsonObj().set("chat_id", small));
  JsonRef small_chat = get_chat(*owner, small);
  for (const auto& m : small_chat["members"].items()) {
    if (m["role"].str() == "owner") continue;
    if (m["profile"]["display_name"].str() == "y")
      owner->ok("open.kick", JsonObj().set("chat_id", small).set("member_id", m["user_id"].i64()));
    else
      owner->ok("open.ban", JsonObj().set("chat_id", small).set("member_id", m["user_id"].i64()));
  }
  popular = owner->ok("open.popular", JsonObj());
  order.clear();
  for (const auto& r : popular["rooms"].items()) order.push_back(r["chat_id"].i64());
  EXPECT_EQ(order, (std::vector<std::int64_t>{big, medium, small})) << popular.dump();
  EXPECT_EQ(popular["rooms"][2]["member_count"].i64(), 1);
}

// --- join policies -----------------------------------------------------------------------

TEST_F(OpenChatJoinTest, OpenRoomJoinGivesRoomIdentityAndAnnouncesTheJoin) {
  auto owner = new_user("owner", "방장실명");
  for (int i = 0; i < 5; ++i) new_user(throwaway_handle(i));  // account ids run ahead of member ids
  auto guest = new_user("guest", "손님실명");
  JsonRef created = create_room(*owner, JsonObj().set("title", "열린 방").set("description", "누구나"), "방장닉");
  std::int64_t chat = chat_id_of(created);
  EXPECT_EQ(created["kind"].str(), "open");
  EXPECT_EQ(created["open"]["join_policy"].str(), "open");
  std::int64_t owner_mid = self_of(created);
  EXPECT_EQ(member_of(created, owner_mid)["role"].str(), "owner");

  JsonRef joined = join_room(*guest, chat, "책벌레");
  std::int64_t guest_mid = self_of(joined);
  EXPECT_NE(guest_mid, guest.id()) << "a member id is not the account id";
  EXPECT_NE(guest_mid, owner_mid);
  EXPECT_EQ(joined["kind"].str(), "open");
  EXPECT_EQ(joined["member_count"].i64(), 2);
  EXPECT_EQ(joined["open"]["member_count"].i64(), 2);
  JsonRef me = member_of(joined, guest_mid);
  EXPECT_EQ(me["role"].str(), "member");
  EXPECT_FALSE(me["real"].boolean());
  EXPECT_TRUE(me["joined_at"].is_int());
  EXPECT_EQ(me["profile"]["user_id"].i64(), guest_mid);
  EXPECT_EQ(me["profile"]["handle"].str(), "");
  EXPECT_EQ(me["profile"]["display_name"].str(), "책벌레");
  EXPECT_EQ(guest->expect_event("chat.updated")["data"]["chat"]["chat_id"].i64(), chat);

  // The room announces the join by member id.
  JsonRef payload = expect_system(*owner, chat, "join", guest_mid);
  EXPECT_EQ(payload["user"].i64(), guest_mid);

  // Messages name the member id; self_id is what to compare sender_id with.
  JsonRef m = send_text(*guest, chat, "안녕하세요");
  EXPECT_EQ(m["sender_id"].i64(), guest_mid);
  EXPECT_EQ(m["unread"].i64(), 1) << "the owner has not read it";
  JsonRef ev = owner->expect_event_matching("message.new", [&](const JsonRef& e) {
    return e["data"]["message"]["seq"].i64() == m["seq"].i64();
  });
  EXPECT_EQ(ev["data"]["message"]["sender_id"].i64(), guest_mid);
  EXPECT_EQ(self_of(get_chat(*owner, chat)), owner_mid);

  // Other chat kinds carry self_id = the user id.
  EXPECT_EQ(self_of(owner->ok("chats.memo")["chat"]), owner.id());

  // Groups-only operations do not apply to open chats.
  EXPECT_EQ(owner->error("chats.invite", JsonObj().set("chat_id", chat).set("user_ids", JsonArr{guest.id()})),
            "invalid_state");
  EXPECT_EQ(owner->error("chats.rename", JsonObj().set("chat_id", chat).set("title", "x")), "invalid_state");
  EXPECT_EQ(get_chat(*guest, chat)["open"]["title"].str(), "열린 방");
}

TEST_F(OpenChatJoinTest, PasscodeRoomNeedsTheRightPasscode) {
  auto owner = new_user("owner");
  auto guest = new_user("guest");
  EXPECT_EQ(owner->error("open.create", JsonObj().set("title", "잠긴 방").set("join_policy", "passcode").set(
                                            "profile", nick("방장"))),
            "bad_request")
      << "passcode is required for the passcode policy";
  EXPECT_EQ(owner->error("open.create", JsonObj()
                                            .set("title", "잠긴 방")
                                            .set("join_policy", "passcode")
                                            .set("passcode", "123")
                                            .set("profile", nick("방장"))),
            "bad_request")
      << "passcodes are 4–32 bytes";
  JsonRef chat = create_room(*owner, JsonObj().set("title", "잠긴 방").set("join_policy", "passcode").set("passcode", "4321"));
  std::int64_t id = chat_id_of(chat);
  EXPECT_EQ(chat["open"]["join_policy"].str(), "passcode");
  EXPECT_FALSE(chat["open"].has("passcode"));
  JsonRef preview = guest->ok("open.preview", JsonObj().set("chat_id", id));
  EXPECT_FALSE(preview["room"].has("passcode"));
  EXPECT_EQ(preview.dump().find("4321"), std::string::npos) << preview.dump();

  EXPECT_EQ(guest->error("open.join", JsonObj().set("chat_id", id).set("profile", nick("손님")).set("passcode", "0000")),
            "wrong_passcode");
  EXPECT_EQ(guest->error("chats.get", JsonObj().set("chat_id", id)), "chat_not_found");
  JsonRef joined =
      guest->ok("open.join", JsonObj().set("chat_id", id).set("profile", nick("손님")).set("passcode", "4321"))["chat"];
  EXPECT_EQ(chat_id_of(joined), id);
  EXPECT_EQ(joined["member_count"].i64(), 2);
  EXPECT_EQ(joined.dump().find("4321"), std::string::npos) << "the passcode is not in a Room: " << joined.dump();

  // Changing the passcode: members are told about the room, never the passcode.
  guest->record_frames();
  owner->ok("open.update", JsonObj().set("chat_id", id).set("passcode", "9876zq"));
  guest->expect_event("open.updated");
  get_chat(*guest, id);
  guest->ok("chats.list");
  guest->ok("sync", JsonObj().set("since", 0));
  for (const auto& f : guest->recorded_frames()) EXPECT_EQ(f.find("9876zq"), std::string::npos) << f;
  auto third = new_user("third");
  EXPECT_EQ(third->error("open.join", JsonObj().set("chat_id", id).set("profile", nick("셋")).set("passcode", "4321")),
            "wrong_passcode");
  EXPECT_EQ(chat_id_of(third->ok("open.join", JsonObj().set("chat_id", id).set("profile", nick("셋")).set(
                                                 "passcode", "9876zq"))["chat"]),
            id);
}

TEST_F(OpenChatJoinTest, CapacityIsEnforced) {
  auto owner = new_user("owner");
  auto first = new_user("first");
  auto second = new_user("second");
  EXPECT_EQ(owner->error("open.create", JsonObj().set("title", "x").set("capacity", 1).set("profile", nick("o"))),
            "bad_request");
  JsonRef created = create_room(*owner, JsonObj().set("title", "둘만").set("capacity", 2));
  std::int64_t chat = chat_id_of(created);
  EXPECT_EQ(created["open"]["capacity"].i64(), 2);
  join_room(*first, chat, "하나");
  EXPECT_EQ(second->error("open.join", JsonObj().set("chat_id", chat).set("profile", nick("둘"))), "room_full");
  first->ok("chats.leave", JsonObj().set("chat_id", chat));
  EXPECT_EQ(chat_id_of(join_room(*second, chat, "둘")), chat);
}

TEST_F(OpenChatJoinTest, ConcurrentJoinsNeverOverfillARoom) {
  auto owner = new_user("owner");
  std::vector<Session> guests;
  for (int i = 0; i < 12; ++i) guests.push_back(new_user("guest" + std::to_string(i)));
  std::int64_t chat = chat_id_of(create_room(*owner, JsonObj().set("title", "다섯 명").set("capacity", 5)));
  std::vector<std::int64_t> ids;
  for (auto& g : guests)
    ids.push_back(g->send_request("open.join", JsonObj().set("chat_id", chat).set("profile", nick("손님"))));
  int joined = 0, full = 0;
  for (std::size_t i = 0; i < guests.size(); ++i) {
    Response r = guests[i]->wait_response(ids[i]);
    if (r.ok()) {
      ++joined;
    } else {
      EXPECT_EQ(r.error_code(), "room_full") << r.dump();
      ++full;
    }
  }
  EXPECT_EQ(joined, 4);
  EXPECT_EQ(full, 8);
  JsonRef now = get_chat(*owner, chat);
  EXPECT_EQ(now["member_count"].i64(), 5);
  EXPECT_EQ(now["members"].size(), 5u);
}

TEST_F(OpenChatJoinTest, SavedNicknameProfileAndNicknameLimits) {
  auto owner = new_user("owner");
  auto guest = new_user("guest");
  EXPECT_TRUE(guest->ok("open.nickname.get")["nickname"].is_null());
  JsonRef saved = guest->ok("open.nickname.set", JsonObj().set("nickname", "저장된닉"))["nickname"];
  EXPECT_EQ(saved["nickname"].str(), "저장된닉");
  EXPECT_EQ(guest->ok("open.nickname.get")["nickname"]["nickname"].str(), "저장된닉");

  std::int64_t chat = chat_id_of(create_room_titled(*owner, "닉네임 방"));
  JsonRef joined =
      guest->ok("open.join", JsonObj().set("chat_id", chat).set("profile", JsonObj().set("kind", "saved")))["chat"];
  std::int64_t mid = self_of(joined);
  EXPECT_EQ(member_of(joined, mid)["profile"]["display_name"].str(), "저장된닉");
  // Changing the saved profile later does not change rooms already joined.
  guest->ok("open.nickname.set", JsonObj().set("nickname", "새닉"));
  EXPECT_EQ(member_of(get_chat(*owner, chat), mid)["profile"]["display_name"].str(), "저장된닉");

  // Nicknames are 1–20 characters (≤ 60 bytes).
  std::int64_t other = chat_id_of(create_room_titled(*owner, "두번째 방"));
  EXPECT_EQ(guest->error("open.join", JsonObj().set("chat_id", other).set("profile", nick(""))), "bad_request");
  std::string twenty_one;
  for (int i = 0; i < 21; ++i) twenty_one += "가";
  EXPECT_EQ(guest->error("open.join", JsonObj().set("chat_id", other).set("profile", nick(twenty_one))), "bad_request");
  std::string twenty;
  for (int i = 0; i < 20; ++i) twenty += "가";
  JsonRef long_name = join_room(*guest, other, twenty);
  EXPECT_EQ(member_of(long_name, self_of(long_name))["profile"]["display_name"].str(), twenty);
}

TEST_F(OpenChatJoinTest, SavedProfileWithoutOneNeverFallsBackToTheRealProfile) {
  auto owner = new_user("owner");
  auto guest = new_user("zq_guest_handle", "진짜이름zq");
  guest->ok("profile.update", JsonObj().set("avatar", "https://img.example/zq_real.png").set("status_message", "zq상태"));
  std::int64_t chat = chat_id_of(create_room_titled(*owner, "저장 프로필 없음"));
  owner->record_frames();
  Response r = guest->call("open.join", JsonObj().set("chat_id", chat).set("profile", JsonObj().set("kind", "saved")));
  if (r.ok()) {
    JsonRef joined = r.result()["chat"];
    JsonRef me = member_of(joined, self_of(joined));
    EXPECT_FALSE(me["real"].boolean());
    EXPECT_EQ(me["profile"]["handle"].str(), "");
    get_chat(*owner, chat);
    owner->pump(200ms);
  } else {
    EXPECT_EQ(r.error_code(), "bad_request") << r.dump();
  }
  for (const auto& f : owner->recorded_frames()) {
    EXPECT_EQ(f.find("zq_guest_handle"), std::string::npos) << f;
    EXPECT_EQ(f.find("진짜이름zq"), std::string::npos) << f;
    EXPECT_EQ(f.find("zq_real.png"), std::string::npos) << f;
    EXPECT_EQ(f.find("zq상태"), std::string::npos) << f;
  }
  // The same goes for a nickname profile without an avatar.
  std::int64_t chat2 = chat_id_of(create_room_titled(*owner, "아바타 없음"));
  JsonRef joined = join_room(*guest, chat2, "별명");
  JsonRef me = member_of(get_chat(*owner, chat2), self_of(joined));
  EXPECT_EQ(me["profile"]["avatar"].dump().find("zq_real.png"), std::string::npos) << me.dump();
  EXPECT_EQ(me["profile"]["status_message"].str(), "");
}

TEST_F(OpenChatJoinTest, MembersDeleteTheirOwnMessagesAndNicknamesAreValidated) {
  auto owner = new_user("owner");
  auto member = new_user("member");
  std::int64_t chat = chat_id_of(create_room_titled(*owner, "내 글 삭제"));
  join_room(*member, chat, "멤버");
  std::int64_t mine = send_text(*member, chat, "지울 글")["seq"].i64();
  std::int64_t theirs = send_text(*owner, chat, "방장 글")["seq"].i64();
  EXPECT_TRUE(member->ok("messages.delete", JsonObj().set("chat_id", chat).set("seq", mine))["message"]["deleted"].boolean());
  EXPECT_EQ(member->error("messages.delete", JsonObj().set("chat_id", chat).set("seq", theirs)), "forbidden");
  std::string long_nick;
  for (int i = 0; i < 21; ++i) long_nick += "가";
  EXPECT_EQ(member->error("open.nickname.set", JsonObj().set("nickname", long_nick)), "bad_request");
  EXPECT_EQ(member->error("open.nickname.set", JsonObj().set("nickname", "")), "bad_request");
  EXPECT_TRUE(member->ok("open.nickname.get")["nickname"].is_null());
}

TEST_F(OpenChatJoinTest, HistoryAllShowsEverythingFromJoinDoesNot) {
  auto owner = new_user("owner");
  auto early = new_user("early");
  auto late_all = new_user("lateall");
  auto late_join = new_user("latejoin");
  std::int64_t all = chat_id_of(create_room(*owner, JsonObj().set("title", "전체 공개 기록").set("history", "all")));
  std::int64_t from_join = chat_id_of(create_room_titled(*owner, "가입 후 기록"));
  EXPECT_EQ(get_chat(*owner, all)["open"]["history"].str(), "all");
  EXPECT_EQ(get_chat(*owner, from_join)["open"]["history"].str(), "from_join");
  for (std::int64_t chat : {all, from_join})
    for (const char* text : {"before-1", "before-2", "before-3"}) send_text(*owner, chat, text);

  join_room(*late_all, all, "늦은사람");
  auto seen_all = history_after(*late_all, all, 0);
  ASSERT_FALSE(seen_all.empty());
  EXPECT_EQ(seen_all.front()["seq"].i64(), 1) << "history \"all\" starts at seq 1";
  std::set<std::string> texts;
  for (const auto& m : seen_all) texts.insert(m["text"].str());
  for (const char* text : {"before-1", "before-2", "before-3"}) EXPECT_TRUE(texts.count(text)) << text;
  // The newest page (no cursor) also reaches back before the join.
  JsonRef page = late_all->ok("messages.history", JsonObj().set("chat_id", all).set("limit", 200));
  EXPECT_EQ(page["messages"][0]["seq"].i64(), 1);

  JsonRef joined = join_room(*late_join, from_join, "늦은사람");
  std::int64_t joined_seq = member_of(joined, self_of(joined))["joined_seq"].i64();
  EXPECT_GE(joined_seq, 3);
  for (const auto& m : history_after(*late_join, from_join, 0)) {
    EXPECT_GT(m["seq"].i64(), joined_seq) << m.dump();
    EXPECT_EQ(m["text"].str().find("before-"), std::string::npos) << m.dump();
  }
  JsonRef page2 = late_join->ok("messages.history", JsonObj().set("chat_id", from_join).set("limit", 200));
  for (const auto& m : page2["messages"].items()) EXPECT_GT(m["seq"].i64(), joined_seq) << m.dump();
  // After the join, new messages are visible.
  std::int64_t after = send_text(*owner, from_join, "after")["seq"].i64();
  auto later = history_after(*late_join, from_join, 0);
  ASSERT_FALSE(later.empty());
  EXPECT_EQ(later.back()["seq"].i64(), after);
}

// --- communities (approval) ------------------------------------------------------------

JsonObj community_args(const std::string& title) {
  JsonArr form;
  form.add_raw(field("real_name", "실명", "real_name", true));
  form.add_raw(field("phone", "전화번호", "phone", false));
  form.add_raw(field("intro", "자기소개", "text", false));
  return JsonObj().set("title", title).set("join_policy", "approval").set("form", form);
}

TEST_F(OpenChatApprovalTest, ApplicationIsReviewedAndApproved) {
  auto owner = new_user("owner");
  auto member = new_user("member");
  auto applicant = new_user("applicant");
  JsonRef created = create_room(*owner, community_args("강남 독서모임"));
  std::int64_t chat = chat_id_of(created);
  EXPECT_EQ(created["open"]["join_policy"].str(), "approval");
  EXPECT_EQ(created["open"]["form"].size(), 3u);
  std::int64_t member_mid = apply_and_approve(*member, *owner, chat, "먼저온사람", JsonObj().set("real_name", "이미래"));
  owner->clear_events();

  JsonRef app = apply(*applicant, chat, "지원자",
                      JsonObj().set("real_name", "김민지").set("phone", "+82 10-1234-5678").set("intro", "책 좋아해요"));
  std::int64_t app_id = app["application_id"].i64();
  EXPECT_EQ(app["state"].str(), "pending");
  EXPECT_EQ(app["chat_id"].i64(), chat);
  EXPECT_EQ(app["answers"]["real_name"].str(), "김민지");
  EXPECT_EQ(app["answers"]["phone"].str(), "+82 10-1234-5678");
  EXPECT_EQ(app["profile"]["display_name"].str(), "지원자");
  EXPECT_TRUE(app["decided_at"].is_null());
  EXPECT_TRUE(app["reason"].is_null());
  EXPECT_EQ(app["expires_at"].i64(), app["created_at"].i64() + 604800LL * 1000) << "default ttl is 7 days";

  // Not a member yet.
  EXPECT_EQ(applicant->error("chats.get", JsonObj().set("chat_id", chat)), "chat_not_found");
  EXPECT_EQ(applicant->error("messages.send", JsonObj().set("chat_id", chat).set("client_id", next_client_id()).set(
                                                  "text", "hi")),
            "chat_not_found");
  JsonRef preview = applicant->ok("open.preview", JsonObj().set("chat_id", chat));
  EXPECT_FALSE(preview["member"].boolean());
  ASSERT_FALSE(preview["application"].is_null());
  EXPECT_EQ(preview["application"]["application_id"].i64(), app_id);
  JsonRef mine = applicant->ok("open.my_applications")["applications"];
  ASSERT_EQ(mine.size(), 1u);
  EXPECT_EQ(mine[0]["application_id"].i64(), app_id);
  EXPECT_EQ(mine[0]["room"]["chat_id"].i64(), chat);

  // Staff with `approve` are told, and see the answers; the applicant has no member id yet.
  JsonRef arrived = owner->expect_event_matching("open.application", [&](const JsonRef& e) {
    return e["data"]["application"]["application_id"].i64() == app_id;
  })["data"]["application"];
  EXPECT_EQ(arrived["state"].str(), "pending");
  EXPECT_EQ(arrived["profile"]["user_id"].i64(), 0);
  JsonRef pending = owner->ok("open.applications", JsonObj().set("chat_id", chat))["applications"];
  ASSERT_EQ(pending.size(), 1u) << pending.dump();
  EXPECT_EQ(pending[0]["application_id"].i64(), app_id);
  EXPECT_EQ(pending[0]["answers"]["real_name"].str(), "김민지");
  EXPECT_EQ(pending[0]["answers"]["intro"].str(), "책 좋아해요");
  EXPECT_EQ(pending[0]["profile"]["user_id"].i64(), 0);
  // A plain member may not review.
  EXPECT_EQ(member->error("open.applications", JsonObj().set("chat_id", chat)), "forbidden");
  for (const auto& e : member->events_within("open.application", 200ms))
    EXPECT_NE(e["data"]["application"]["application_id"].i64(), app_id) << "only staff with approve are told: " << e.dump();
  EXPECT_EQ(member->error("open.decide", JsonObj().set("chat_id", chat).set("application_id", app_id).set("approve", true)),
            "forbidden");

  JsonRef decided = decide(*owner, chat, app_id, true);
  EXPECT_EQ(decided["state"].str(), "approved");
  EXPECT_TRUE(decided["decided_at"].is_int());

  // The applicant is a member now, and is told twice: the chat and the decision.
  JsonRef updated = applicant->expect_event("chat.updated")["data"]["chat"];
  EXPECT_EQ(chat_id_of(updated), chat);
  JsonRef told = applicant->expect_event("open.application")["data"]["application"];
  EXPECT_EQ(told["application_id"].i64(), app_id);
  EXPECT_EQ(told["state"].str(), "approved");
  JsonRef chat_now = get_chat(*applicant, chat);
  std::int64_t mid = self_of(chat_now);
  EXPECT_EQ(member_of(chat_now, mid)["role"].str(), "member");
  EXPECT_EQ(member_of(chat_now, mid)["profile"]["display_name"].str(), "지원자");
  EXPECT_EQ(chat_now["member_count"].i64(), 3);
  EXPECT_EQ(expect_system(*member, chat, "join", mid)["user"].i64(), mid);
  EXPECT_NE(mid, member_mid);
  send_text(*applicant, chat, "반갑습니다");
  JsonRef audit = owner->ok("open.audit", JsonObj().set("chat_id", chat))["entries"];
  ASSERT_GE(audit.size(), 1u);
  EXPECT_EQ(audit[0]["action"].str(), "approve") << audit.dump();
  EXPECT_EQ(audit[0]["actor"].i64(), self_of(created));
  EXPECT_EQ(audit[0]["target"].i64(), mid);

  EXPECT_TRUE(owner->ok("open.applications", JsonObj().set("chat_id", chat))["applications"].size() == 0);
  JsonRef approved = owner->ok("open.applications", JsonObj().set("chat_id", chat).set("state", "approved"))["applications"];
  EXPECT_EQ(approved.size(), 2u);
  EXPECT_TRUE(applicant->ok("open.preview", JsonObj().set("chat_id", chat))["member"].boolean());
  // Deciding twice is not possible.
  EXPECT_FALSE(owner->call("open.decide", JsonObj().set("chat_id", chat).set("application_id", app_id).set("approve", false))
                   .ok());
}

TEST_F(OpenChatApprovalTest, AnswersReachOnlyStaffWithApprove) {
  auto owner = new_user("owner");
  auto approver = new_user("approver");
  auto noticer = new_user("noticer");
  auto plain = new_user("plain");
  auto applicant = new_user("applicant");
  std::int64_t chat = chat_id_of(create_room(*owner, community_args("답변 보호")));
  std::int64_t approver_mid = apply_and_approve(*approver, *owner, chat, "승인담당", JsonObj().set("real_name", "a"));
  std::int64_t noticer_mid = apply_and_approve(*noticer, *owner, chat, "공지담당", JsonObj().set("real_name", "b"));
  apply_and_approve(*plain, *owner, chat, "평범", JsonObj().set("real_name", "c"));
  owner->ok("open.set_role", JsonObj().set("chat_id", chat).set("member_id", approver_mid).set("role", "admin").set(
                                 "permissions", strings({"approve"})));
  owner->ok("open.set_role", JsonObj().set("chat_id", chat).set("member_id", noticer_mid).set("role", "admin").set(
                                 "permissions", strings({"notice", "kick", "ban", "delete", "edit"})));
  // Each was told of their own approval; from here on nothing about others' applications.
  for (Session* s : {&approver, &noticer, &plain}) {
    (*s)->expect_event("open.application");
    (*s)->pump(100ms);
    (*s)->clear_events();
  }
  noticer->record_frames();
  plain->record_frames();

  JsonRef app = apply(*applicant, chat, "지원자", JsonObj().set("real_name", "zq비밀실명").set("phone", "010-9999-0000"));
  JsonRef told = approver->expect_event("open.application")["data"]["application"];
  EXPECT_EQ(told["application_id"].i64(), app["application_id"].i64());
  EXPECT_EQ(told["answers"]["real_name"].str(), "zq비밀실명");
  EXPECT_EQ(approver->ok("open.applications", JsonObj().set("chat_id", chat))["applications"][0]["answers"]["phone"].str(),
            "010-9999-0000");
  EXPECT_EQ(noticer->error("open.applications", JsonObj().set("chat_id", chat)), "forbidden");
  EXPECT_EQ(noticer->error("open.decide", JsonObj().set("chat_id", chat).set("application_id", app["application_id"].i64()).set(
                                              "approve", true)),
            "forbidden");
  decide(*approver, chat, app["application_id"].i64(), true);
  std::int64_t mid = self_of(get_chat(*applicant, chat));
  expect_system(*plain, chat, "join", mid);
  expect_system(*noticer, chat, "join", mid);
  get_chat(*plain, chat);
  get_chat(*noticer, chat);
  noticer->ok("open.audit", JsonObj().set("chat_id", chat));
  for (Session* s : {&noticer, &plain}) {
    (*s)->pump(200ms);
    for (const auto& f : (*s)->recorded_frames()) {
      EXPECT_EQ(f.find("zq비밀실명"), std::string::npos) << (*s).account.handle << ": " << f;
      EXPECT_EQ(f.find("010-9999-0000"), std::string::npos) << (*s).account.handle << ": " << f;
      EXPECT_EQ(f.find("\"event\":\"open.application\""), std::string::npos) << (*s).account.handle << ": " << f;
    }
  }
}

TEST_F(OpenChatApprovalTest, ApprovingIntoAFullRoomIsRefused) {
  auto owner = new_user("owner");
  auto first = new_user("first");
  auto second = new_user("second");
  std::int64_t chat = chat_id_of(create_room(*owner, community_args("작은 모임").set("capacity", 2)));
  JsonRef a1 = apply(*first, chat, "하나", JsonObj().set("real_name", "a"));
  JsonRef a2 = apply(*second, chat, "둘", JsonObj().set("real_name", "b"));
  decide(*owner, chat, a1["application_id"].i64(), true);
  EXPECT_EQ(owner->error("open.decide", JsonObj().set("chat_id", chat).set("application_id", a2["application_id"].i64()).set(
                                            "approve", true)),
            "room_full");
  EXPECT_EQ(second->error("chats.get", JsonObj().set("chat_id", chat)), "chat_not_found");
  EXPECT_EQ(get_chat(*owner, chat)["member_count"].i64(), 2);
}

TEST_F(OpenChatApprovalTest, RejectionWithReasonReachesTheApplicant) {
  auto owner = new_user("owner");
  auto applicant = new_user("applicant");
  std::int64_t chat = chat_id_of(create_room(*owner, community_args("등산 모임")));
  JsonRef app = apply(*applicant, chat, "지원자", JsonObj().set("real_name", "박지원"));
  JsonRef decided = decide(*owner, chat, app["application_id"].i64(), false, "정원이 찼습니다");
  EXPECT_EQ(decided["state"].str(), "rejected");
  EXPECT_EQ(decided["reason"].str(), "정원이 찼습니다");
  JsonRef told = applicant->expect_event("open.application")["data"]["application"];
  EXPECT_EQ(told["state"].str(), "rejected");
  EXPECT_EQ(told["reason"].str(), "정원이 찼습니다");
  EXPECT_EQ(applicant->ok("open.my_applications")["applications"][0]["state"].str(), "rejected");
  EXPECT_EQ(applicant->error("chats.get", JsonObj().set("chat_id", chat)), "chat_not_found");
  JsonRef rejected = owner->ok("open.applications", JsonObj().set("chat_id", chat).set("state", "rejected"))["applications"];
  ASSERT_EQ(rejected.size(), 1u);
  EXPECT_EQ(rejected[0]["reason"].str(), "정원이 찼습니다");
  JsonRef audit = owner->ok("open.audit", JsonObj().set("chat_id", chat))["entries"];
  ASSERT_GE(audit.size(), 1u);
  EXPECT_EQ(audit[0]["action"].str(), "reject") << audit.dump();
  // Too long a reason.
  JsonRef again = apply(*applicant, chat, "지원자", JsonObj().set("real_name", "박지원"));
  EXPECT_EQ(owner->error("open.decide", JsonObj()
                                            .set("chat_id", chat)
                                            .set("application_id", again["application_id"].i64())
                                            .set("approve", false)
                                            .set("reason", std::string(201, 'x'))),
            "bad_request");
}

TEST_F(OpenChatApprovalTest, FormAnswersAreValidated) {
  auto owner = new_user("owner");
  auto applicant = new_user("applicant");
  std::int64_t chat = chat_id_of(create_room(*owner, community_args("검증 모임")));
  auto join_err = [&](const JsonObj& answers, bool with_answers = true) {
    JsonObj args;
    args.set("chat_id", chat).set("profile", nick("지원자"));
    if (with_answers) args.set("answers", answers);
    return applicant->error("open.join", args);
  };
  EXPECT_EQ(join_err(JsonObj(), false), "bad_request") << "the required real_name is missing";
  EXPECT_EQ(join_err(JsonObj().set("intro", "hi")), "bad_request") << "the required real_name is missing";
  EXPECT_EQ(join_err(JsonObj().set("real_name", "김").set("phone", "call me")), "bad_request") << "phone: letters";
  EXPECT_EQ(join_err(JsonObj().set("real_name", "김").set("phone", "123")), "bad_request") << "phone: under 4";
  EXPECT_EQ(join_err(JsonObj().set("real_name", "김").set("phone", std::string(21, '1'))), "bad_request")
      << "phone: over 20";
  EXPECT_EQ(join_err(JsonObj().set("real_name", std::string(1001, 'a'))), "bad_request") << "answers ≤ 1,000 bytes";
  EXPECT_EQ(join_err(JsonObj().set("real_name", "김").set_raw("intro", "5")), "bad_request") << "answers are strings";
  EXPECT_TRUE(owner->ok("open.applications", JsonObj().set("chat_id", chat))["applications"].size() == 0)
      << "no refused attempt left an application";
  JsonRef app = apply(*applicant, chat, "지원자", JsonObj().set("real_name", "김").set("phone", "010-1234-5678"));
  EXPECT_EQ(app["state"].str(), "pending");

  // The form itself is validated.
  auto create_err = [&](const JsonArr& form) {
    return owner->error("open.create", JsonObj()
                                           .set("title", "폼")
                                           .set("join_policy", "approval")
                                           .set("form", form)
                                           .set("profile", nick("방장")));
  };
  EXPECT_EQ(create_err(JsonArr().add_raw(field("Name", "이름", "text", true))), "bad_request") << "key: a-z0-9_";
  EXPECT_EQ(create_err(JsonArr().add_raw(field("a", "A", "text", true)).add_raw(field("a", "B", "text", false))),
            "bad_request")
      << "keys are unique";
  EXPECT_EQ(create_err(JsonArr().add_raw(field("a", "A", "email", true))), "bad_request") << "unknown type";
  JsonArr eleven;
  for (int i = 0; i < 11; ++i) eleven.add_raw(field("f" + std::to_string(i), "F", "text", false));
  EXPECT_EQ(create_err(eleven), "bad_request") << "at most 10 fields";
}

TEST_F(OpenChatApprovalTest, ApplicantCancelsAndOthersCannot) {
  auto owner = new_user("owner");
  auto applicant = new_user("applicant");
  auto other = new_user("other");
  std::int64_t chat = chat_id_of(create_room(*owner, community_args("취소 모임")));
  JsonRef app = apply(*applicant, chat, "지원자", JsonObj().set("real_name", "최"));
  std::int64_t id = app["application_id"].i64();
  EXPECT_EQ(other->error("open.cancel_application", JsonObj().set("application_id", id)), "application_not_found");
  EXPECT_EQ(applicant->ok("open.cancel_application", JsonObj().set("application_id", id))["application"]["state"].str(),
            "cancelled");
  EXPECT_TRUE(owner->ok("open.applications", JsonObj().set("chat_id", chat))["applications"].size() == 0);
  EXPECT_FALSE(owner->call("open.decide", JsonObj().set("chat_id", chat).set("application_id", id).set("approve", true))
                   .ok());
  EXPECT_EQ(applicant->error("chats.get", JsonObj().set("chat_id", chat)), "chat_not_found");
}

TEST_F(OpenChatApprovalTest, ApplicationTtlSetsExpiryAndPendingOnesCanBeDecided) {
  auto owner = new_user("owner");
  auto applicant = new_user("applicant");
  auto create_err = [&](std::int64_t ttl) {
    return owner->error("open.create", community_args("ttl").set("application_ttl_seconds", ttl).set("profile", nick("방장")));
  };
  EXPECT_EQ(create_err(3599), "bad_request");
  EXPECT_EQ(create_err(2592001), "bad_request");
  JsonRef created = create_room(*owner, community_args("짧은 신청 기한").set("application_ttl_seconds", 3600));
  std::int64_t chat = chat_id_of(created);
  EXPECT_EQ(created["open"]["application_ttl_seconds"].i64(), 3600);
  JsonRef app = apply(*applicant, chat, "지원자", JsonObj().set("real_name", "정"));
  EXPECT_EQ(app["expires_at"].i64(), app["created_at"].i64() + 3600LL * 1000);
  JsonRef listed = owner->ok("open.applications", JsonObj().set("chat_id", chat))["applications"];
  ASSERT_EQ(listed.size(), 1u);
  EXPECT_EQ(listed[0]["expires_at"].i64(), app["expires_at"].i64());
  // Still pending: deciding works.
  EXPECT_EQ(decide(*owner, chat, app["application_id"].i64(), true)["state"].str(), "approved");
  EXPECT_EQ(chat_id_of(get_chat(*applicant, chat)), chat);
}

TEST_F(OpenChatApprovalTest, FriendOfStaffCondition) {
  auto owner = new_user("owner");
  auto sub_admin = new_user("subadmin");
  auto plain = new_user("plain");
  auto by_admin = new_user("byadmin");
  auto by_owner = new_user("byowner");
  auto by_plain = new_user("byplain");
  JsonObj args = community_args("친구만 모임").set("conditions",
                                                    JsonObj().set("friend_of_staff", true).set("min_account_age_days", 0));
  std::int64_t chat = chat_id_of(create_room(*owner, args));
  EXPECT_TRUE(get_chat(*owner, chat)["open"]["conditions"]["friend_of_staff"].boolean());

  EXPECT_EQ(sub_admin->error("open.join", JsonObj()
                                               .set("chat_id", chat)
                                               .set("profile", nick("부방장"))
                                               .set("answers", JsonObj().set("real_name", "a"))),
            "conditions_not_met");
  owner->ok("friends.add", JsonObj().set("user_id", sub_admin.id()));
  owner->ok("friends.add", JsonObj().set("user_id", plain.id()));
  std::int64_t admin_mid = apply_and_approve(*sub_admin, *owner, chat, "부방장", JsonObj().set("real_name", "a"));
  apply_and_approve(*plain, *owner, chat, "그냥멤버", JsonObj().set("real_name", "b"));
  owner->ok("open.set_role", JsonObj().set("chat_id", chat).set("member_id", admin_mid).set("role", "admin"));

  auto try_apply = [&](Session& s) {
    return s->call("open.join", JsonObj()
                                    .set("chat_id", chat)
                                    .set("profile", nick("지원"))
                                    .set("answers", JsonObj().set("real_name", "c")));
  };
  EXPECT_EQ(try_apply(by_admin).error_code(), "conditions_not_met");
  EXPECT_EQ(try_apply(by_owner).error_code(), "conditions_not_met");
  EXPECT_EQ(try_apply(by_plain).error_code(), "conditions_not_met");

  sub_admin->ok("friends.add", JsonObj().set("user_id", by_admin.id()));
  owner->ok("friends.add", JsonObj().set("user_id", by_owner.id()));
  plain->ok("friends.add", JsonObj().set("user_id", by_plain.id()));  // a plain member is not staff

  Response r1 = try_apply(by_admin);
  ASSERT_TRUE(r1.ok()) << r1.dump();
  EXPECT_EQ(r1.result()["application"]["state"].str(), "pending");
  Response r2 = try_apply(by_owner);
  ASSERT_TRUE(r2.ok()) << r2.dump();
  EXPECT_EQ(r2.result()["application"]["state"].str(), "pending");
  EXPECT_EQ(try_apply(by_plain).error_code(), "conditions_not_met");

  // A demoted admin's friends no longer qualify.
  auto late = new_user("late");
  sub_admin->ok("friends.add", JsonObj().set("user_id", late.id()));
  owner->ok("open.set_role", JsonObj().set("chat_id", chat).set("member_id", admin_mid).set("role", "member"));
  EXPECT_EQ(try_apply(late).error_code(), "conditions_not_met");
}

TEST_F(OpenChatApprovalTest, MinAccountAgeRefusesNewAccounts) {
  auto owner = new_user("owner");
  auto newcomer = new_user("newcomer");
  JsonObj args = community_args("오래된 계정만").set("conditions",
                                                     JsonObj().set("friend_of_staff", false).set("min_account_age_days", 30));
  std::int64_t chat = chat_id_of(create_room(*owner, args));
  EXPECT_EQ(get_chat(*owner, chat)["open"]["conditions"]["min_account_age_days"].i64(), 30);
  JsonObj join = JsonObj().set("chat_id", chat).set("profile", nick("새내기")).set("answers", JsonObj().set("real_name", "n"));
  EXPECT_EQ(newcomer->error("open.join", join), "conditions_not_met");
  // Lifting the condition lets the same account in.
  owner->ok("open.update", JsonObj().set("chat_id", chat).set(
                               "conditions", JsonObj().set("friend_of_staff", false).set("min_account_age_days", 0)));
  Response r = newcomer->call("open.join", join);
  ASSERT_TRUE(r.ok()) << r.dump();
  EXPECT_EQ(r.result()["application"]["state"].str(), "pending");
}

// --- the community cap (--max-communities 2) -------------------------------------------

TEST_F(OpenChatCapTest, ThirdCommunityIsRefusedAtApplicationAndAtApproval) {
  auto o1 = new_user("ownerone");
  auto o2 = new_user("ownertwo");
  auto o3 = new_user("ownerthree");
  auto o4 = new_user("ownerfour");
  auto a = new_user("applicant");
  std::int64_t r1 = chat_id_of(create_room(*o1, community_args("모임 1")));
  std::int64_t r2 = chat_id_of(create_room(*o2, community_args("모임 2")));
  std::int64_t r3 = chat_id_of(create_room(*o3, community_args("모임 3")));
  std::int64_t r4 = chat_id_of(create_room(*o4, community_args("모임 4")));
  JsonObj answers = JsonObj().set("real_name", "가");
  // Pending applications do not count: three may be pending at once.
  JsonRef a1 = apply(*a, r1, "a", answers);
  JsonRef a2 = apply(*a, r2, "a", answers);
  JsonRef a3 = apply(*a, r3, "a", answers);
  decide(*o1, r1, a1["application_id"].i64(), true);
  decide(*o2, r2, a2["application_id"].i64(), true);
  EXPECT_EQ(o3->error("open.decide", JsonObj().set("chat_id", r3).set("application_id", a3["application_id"].i64()).set(
                                         "approve", true)),
            "membership_cap");
  EXPECT_EQ(a->error("chats.get", JsonObj().set("chat_id", r3)), "chat_not_found");
  EXPECT_EQ(a->error("open.join", JsonObj().set("chat_id", r4).set("profile", nick("a")).set("answers", answers)),
            "membership_cap");
  // Open rooms are not communities: no cap.
  std::int64_t plain = chat_id_of(create_room_titled(*o4, "그냥 방"));
  EXPECT_EQ(chat_id_of(join_room(*a, plain, "a")), plain);
  // Leaving one frees a place.
  a->ok("chats.leave", JsonObj().set("chat_id", r1));
  JsonRef a4 = apply(*a, r4, "a", answers);
  EXPECT_EQ(decide(*o4, r4, a4["application_id"].i64(), true)["state"].str(), "approved");
  // open.my_applications: newest first, each with its room.
  JsonRef mine = a->ok("open.my_applications")["applications"];
  ASSERT_EQ(mine.size(), 4u) << mine.dump();
  EXPECT_EQ(mine[0]["application_id"].i64(), a4["application_id"].i64());
  EXPECT_EQ(mine[0]["room"]["chat_id"].i64(), r4);
  EXPECT_EQ(mine[3]["application_id"].i64(), a1["application_id"].i64());
  EXPECT_EQ(mine[3]["state"].str(), "approved");
}

TEST_F(OpenChatCapTest, ConcurrentApprovalsRespectTheCap) {
  std::vector<Session> owners;
  std::vector<std::int64_t> rooms, apps;
  for (int i = 0; i < 4; ++i) owners.push_back(new_user("owner" + std::to_string(i)));
  auto a = new_user("applicant");
  for (int i = 0; i < 4; ++i) {
    rooms.push_back(chat_id_of(create_room(*owners[i], community_args("모임 " + std::to_string(i)))));
    apps.push_back(apply(*a, rooms[i], "a", JsonObj().set("real_name", "가"))["application_id"].i64());
  }
  std::vector<std::int64_t> requests;
  for (int i = 0; i < 4; ++i)
    requests.push_back(owners[i]->send_request(
        "open.decide", JsonObj().set("chat_id", rooms[i]).set("application_id", apps[i]).set("approve", true)));
  int approved = 0, capped = 0;
  for (int i = 0; i < 4; ++i) {
    Response r = owners[i]->wait_response(requests[i]);
    if (r.ok()) {
      ++approved;
    } else {
      EXPECT_EQ(r.error_code(), "membership_cap") << r.dump();
      ++capped;
    }
  }
  EXPECT_EQ(approved, 2);
  EXPECT_EQ(capped, 2);
  int member_of_rooms = 0;
  for (auto room : rooms) member_of_rooms += a->call("chats.get", JsonObj().set("chat_id", room)).ok() ? 1 : 0;
  EXPECT_EQ(member_of_rooms, 2);
}

TEST_F(OpenChatCapTest, PerCommunityCapOverridesAndLoweringItKeepsMembers) {
  auto o1 = new_user("ownerone");
  auto o2 = new_user("ownertwo");
  auto o3 = new_user("ownerthree");
  auto a = new_user("alice");
  auto b = new_user("bobby");
  auto c = new_user("carol");
  JsonObj answers = JsonObj().set("real_name", "가");
  EXPECT_EQ(o1->error("open.create", community_args("x").set("community_cap", 0).set("profile", nick("o"))), "bad_request");
  EXPECT_EQ(o1->error("open.create", community_args("x").set("community_cap", 1001).set("profile", nick("o"))),
            "bad_request");
  std::int64_t r1 = chat_id_of(create_room(*o1, community_args("모임 1").set_raw("community_cap", "null")));
  std::int64_t r2 = chat_id_of(create_room(*o2, community_args("모임 2")));
  JsonRef r3_chat = create_room(*o3, community_args("모임 3").set("community_cap", 3));
  std::int64_t r3 = chat_id_of(r3_chat);
  EXPECT_EQ(r3_chat["open"]["community_cap"].i64(), 3);
  EXPECT_TRUE(get_chat(*o1, r1)["open"]["community_cap"].is_null());

  apply_and_approve(*a, *o1, r1, "a", answers);
  apply_and_approve(*a, *o2, r2, "a", answers);
  // The server's cap is 2, but this room allows 3.
  std::int64_t a_in_r3 = apply_and_approve(*a, *o3, r3, "a", answers);
  apply_and_approve(*b, *o1, r1, "b", answers);

  // Lowering the cap removes nobody.
  JsonRef updated = o3->ok("open.update", JsonObj().set("chat_id", r3).set("community_cap", 1))["chat"];
  EXPECT_EQ(updated["open"]["community_cap"].i64(), 1);
  for (std::int64_t r : {r1, r2, r3}) EXPECT_EQ(chat_id_of(get_chat(*a, r)), r);
  EXPECT_EQ(member_of(get_chat(*o3, r3), a_in_r3)["role"].str(), "member");
  send_text(*a, r3, "still here");
  // …but new members are held to it: b already belongs to one community.
  EXPECT_EQ(b->error("open.join", JsonObj().set("chat_id", r3).set("profile", nick("b")).set("answers", answers)),
            "membership_cap");
  // c belongs to none: allowed.
  JsonRef app = apply(*c, r3, "c", answers);
  EXPECT_EQ(decide(*o3, r3, app["application_id"].i64(), true)["state"].str(), "approved");
}

// --- roles ----------------------------------------------------------------------------------

TEST_F(OpenChatRolesTest, AdminPermissionsGateKickAndOnlyTheOwnerSetsRoles) {
  auto owner = new_user("owner");
  auto admin = new_user("admin");
  auto target = new_user("target");
  auto bystander = new_user("bystander");
  JsonRef created = create_room_titled(*owner, "역할 방");
  std::int64_t chat = chat_id_of(created);
  std::int64_t owner_mid = self_of(created);
  std::int64_t admin_mid = self_of(join_room(*admin, chat, "부방장"));
  std::int64_t target_mid = self_of(join_room(*target, chat, "대상"));
  std::int64_t bystander_mid = self_of(join_room(*bystander, chat, "구경꾼"));
  bystander->clear_events();

  JsonRef m = owner->ok("open.set_role", JsonObj()
                                              .set("chat_id", chat)
                                              .set("member_id", admin_mid)
                                              .set("role", "admin")
                                              .set("permissions", strings({"notice"})))["member"];
  EXPECT_EQ(m["user_id"].i64(), admin_mid);
  EXPECT_EQ(m["role"].str(), "admin");
  EXPECT_EQ(string_list(m["permissions"]), (std::vector<std::string>{"notice"}));
  JsonRef role = expect_system(*bystander, chat, "role");
  EXPECT_EQ(role["by"].i64(), owner_mid);
  EXPECT_EQ(role["user"].i64(), admin_mid);
  EXPECT_EQ(role["role"].str(), "admin");
  EXPECT_EQ(string_list(role["permissions"]), (std::vector<std::string>{"notice"}));
  JsonRef as_seen = member_of(get_chat(*bystander, chat), admin_mid);
  EXPECT_EQ(as_seen["role"].str(), "admin");
  EXPECT_EQ(string_list(as_seen["permissions"]), (std::vector<std::string>{"notice"}));

  EXPECT_EQ(admin->error("open.kick", JsonObj().set("chat_id", chat).set("member_id", target_mid)), "forbidden");
  EXPECT_EQ(bystander->error("open.kick", JsonObj().set("chat_id", chat).set("member_id", target_mid)), "forbidden");
  EXPECT_EQ(admin->error("open.set_role", JsonObj().set("chat_id", chat).set("member_id", bystander_mid).set("role", "admin")),
            "forbidden")
      << "only the owner sets roles";
  EXPECT_EQ(owner->error("open.set_role", JsonObj().set("chat_id", chat).set("member_id", 987654).set("role", "admin")),
            "member_not_found");
  EXPECT_EQ(owner->error("open.set_role", JsonObj()
                                              .set("chat_id", chat)
                                              .set("member_id", admin_mid)
                                              .set("role", "admin")
                                              .set("permissions", strings({"fly"}))),
            "bad_request");

  owner->ok("open.set_role", JsonObj()
                                 .set("chat_id", chat)
                                 .set("member_id", admin_mid)
                                 .set("role", "admin")
                                 .set("permissions", strings({"kick", "notice"})));
  admin->ok("open.kick", JsonObj().set("chat_id", chat).set("member_id", target_mid).set("reason", "도배"));
  EXPECT_EQ(target->expect_event("chat.removed")["data"]["chat_id"].i64(), chat);
  JsonRef kick = expect_system(*bystander, chat, "kick");
  EXPECT_EQ(kick["by"].i64(), admin_mid);
  EXPECT_EQ(kick["user"].i64(), target_mid);
  EXPECT_EQ(admin->error("open.kick", JsonObj().set("chat_id", chat).set("member_id", target_mid)), "member_not_found");

  // Default permissions: all of them. Demoting takes them away.
  JsonRef full = owner->ok("open.set_role", JsonObj().set("chat_id", chat).set("member_id", bystander_mid).set("role", "admin"))["member"];
  EXPECT_EQ(string_list(full["permissions"]), kAllPermissions);
  // Staff act only on members below their rank: an admin cannot kick or ban another admin,
  // nor the owner.
  EXPECT_EQ(bystander->error("open.kick", JsonObj().set("chat_id", chat).set("member_id", admin_mid)), "forbidden");
  EXPECT_EQ(bystander->error("open.ban", JsonObj().set("chat_id", chat).set("member_id", admin_mid)), "forbidden");
  EXPECT_EQ(bystander->error("open.kick", JsonObj().set("chat_id", chat).set("member_id", owner_mid)), "forbidden");
  EXPECT_EQ(admin->error("open.kick", JsonObj().set("chat_id", chat).set("member_id", bystander_mid)), "forbidden");
  EXPECT_EQ(member_ids(get_chat(*owner, chat)), (std::set<std::int64_t>{owner_mid, admin_mid, bystander_mid}));
  owner->ok("open.set_role", JsonObj().set("chat_id", chat).set("member_id", admin_mid).set("role", "member"));
  EXPECT_EQ(member_of(get_chat(*owner, chat), admin_mid)["role"].str(), "member");
  EXPECT_EQ(admin->error("open.kick", JsonObj().set("chat_id", chat).set("member_id", bystander_mid)), "forbidden");
}

TEST_F(OpenChatRolesTest, TransferMakesTheOldOwnerAnAdmin) {
  auto owner = new_user("owner");
  auto heir = new_user("heir");
  auto other = new_user("other");
  JsonRef created = create_room_titled(*owner, "양도 방");
  std::int64_t chat = chat_id_of(created);
  std::int64_t owner_mid = self_of(created);
  std::int64_t heir_mid = self_of(join_room(*heir, chat, "후계자"));
  std::int64_t other_mid = self_of(join_room(*other, chat, "다른이"));
  other->clear_events();
  EXPECT_EQ(heir->error("open.transfer", JsonObj().set("chat_id", chat).set("member_id", other_mid)), "forbidden");

  owner->ok("open.transfer", JsonObj().set("chat_id", chat).set("member_id", heir_mid));
  JsonRef t = expect_system(*other, chat, "transfer");
  EXPECT_EQ(t["by"].i64(), owner_mid);
  EXPECT_EQ(t["user"].i64(), heir_mid);
  JsonRef now = get_chat(*other, chat);
  EXPECT_EQ(member_of(now, heir_mid)["role"].str(), "owner");
  EXPECT_EQ(member_of(now, owner_mid)["role"].str(), "admin");
  EXPECT_EQ(string_list(member_of(now, owner_mid)["permissions"]), kAllPermissions);
  EXPECT_EQ(owner->error("open.set_role", JsonObj().set("chat_id", chat).set("member_id", other_mid).set("role", "admin")),
            "forbidden");
  heir->ok("open.set_role", JsonObj().set("chat_id", chat).set("member_id", other_mid).set("role", "admin"));
  EXPECT_EQ(member_of(get_chat(*owner, chat), other_mid)["role"].str(), "admin");
  JsonRef audit = heir->ok("open.audit", JsonObj().set("chat_id", chat))["entries"];
  ASSERT_GE(audit.size(), 2u);
  EXPECT_EQ(audit[0]["action"].str(), "set_role") << audit.dump();
  EXPECT_EQ(audit[1]["action"].str(), "transfer") << audit.dump();
  EXPECT_EQ(audit[1]["actor"].i64(), owner_mid);
  EXPECT_EQ(audit[1]["target"].i64(), heir_mid);
}

TEST_F(OpenChatRolesTest, OwnerLeavingHandsTheRoomToTheLongestServingAdmin) {
  auto owner = new_user("owner");
  auto oldest = new_user("oldest");    // the longest-serving member, never an admin
  auto first = new_user("firstadmin");  // joined and promoted before `second`
  auto second = new_user("secondadmin");
  std::int64_t chat = chat_id_of(create_room_titled(*owner, "떠나는 방장"));
  std::int64_t oldest_mid = self_of(join_room(*oldest, chat, "고참"));
  std::int64_t first_mid = self_of(join_room(*first, chat, "첫부방"));
  std::int64_t second_mid = self_of(join_room(*second, chat, "둘부방"));
  owner->ok("open.set_role", JsonObj().set("chat_id", chat).set("member_id", first_mid).set("role", "admin"));
  owner->ok("open.set_role", JsonObj().set("chat_id", chat).set("member_id", second_mid).set("role", "admin"));
  owner->ok("chats.leave", JsonObj().set("chat_id", chat));
  JsonRef now = get_chat(*oldest, chat);
  EXPECT_EQ(member_of(now, first_mid)["role"].str(), "owner") << now.dump();
  EXPECT_EQ(member_of(now, second_mid)["role"].str(), "admin");
  EXPECT_EQ(member_of(now, oldest_mid)["role"].str(), "member");
  EXPECT_EQ(now["member_count"].i64(), 3);
  // The new owner can act as one.
  first->ok("open.set_role", JsonObj().set("chat_id", chat).set("member_id", oldest_mid).set("role", "admin"));

  // With no admin, the longest-serving member takes over.
  auto owner2 = new_user("ownertwo");
  auto m1 = new_user("memberone");
  auto m2 = new_user("membertwo");
  std::int64_t chat2 = chat_id_of(create_room_titled(*owner2, "관리자 없는 방"));
  std::int64_t m1_mid = self_of(join_room(*m1, chat2, "하나"));
  std::int64_t m2_mid = self_of(join_room(*m2, chat2, "둘"));
  owner2->ok("chats.leave", JsonObj().set("chat_id", chat2));
  JsonRef now2 = get_chat(*m2, chat2);
  EXPECT_EQ(member_of(now2, m1_mid)["role"].str(), "owner") << now2.dump();
  EXPECT_EQ(member_of(now2, m2_mid)["role"].str(), "member");
}

TEST_F(OpenChatRolesTest, DeletingTheOwnerAccountHandsTheRoomOver) {
  auto owner = new_user("owner");
  auto member = new_user("member");
  auto admin = new_user("admin");
  JsonRef created = create_room_titled(*owner, "탈퇴하는 방장");
  std::int64_t chat = chat_id_of(created);
  std::int64_t owner_mid = self_of(created);
  std::int64_t member_mid = self_of(join_room(*member, chat, "멤버"));
  std::int64_t admin_mid = self_of(join_room(*admin, chat, "부방장"));
  owner->ok("open.set_role", JsonObj().set("chat_id", chat).set("member_id", admin_mid).set("role", "admin"));
  owner->ok("account.delete", JsonObj().set("password", owner.account.password));
  JsonRef now = get_chat(*member, chat);
  EXPECT_EQ(member_of(now, admin_mid)["role"].str(), "owner") << now.dump();
  EXPECT_EQ(member_of(now, member_mid)["role"].str(), "member");
  EXPECT_FALSE(member_ids(now).count(owner_mid)) << "the deleted owner left the room";
  EXPECT_EQ(now["member_count"].i64(), 2);
  // The handle is freed and the old session is gone.
  auto again = new_user("owner");
  EXPECT_NE(again.id(), owner.id());
  auto fresh = connect();
  std::string code = fresh->error("auth.resume", JsonObj().set("token", owner.account.token));
  EXPECT_TRUE(code == "invalid_credentials" || code == "session_revoked") << code;
}

// --- moderation ---------------------------------------------------------------------------

TEST_F(OpenChatModerationTest, KickedMayRejoinBannedMayNotUntilUnbanned) {
  auto owner = new_user("owner");
  auto kicked = new_user("kicked");
  auto banned = new_user("banned");
  auto bystander = new_user("bystander");
  JsonRef created = create_room_titled(*owner, "징계 방");
  std::int64_t chat = chat_id_of(created);
  std::string code = code_of(created);
  std::int64_t owner_mid = self_of(created);
  std::int64_t kicked_mid = self_of(join_room(*kicked, chat, "강퇴될이"));
  std::int64_t banned_mid = self_of(join_room(*banned, chat, "차단될이"));
  self_of(join_room(*bystander, chat, "구경꾼"));
  std::int64_t before_ban = send_text(*banned, chat, "I was here")["seq"].i64();
  kicked->clear_events();
  banned->clear_events();

  owner->ok("open.kick", JsonObj().set("chat_id", chat).set("member_id", kicked_mid).set("reason", "잠깐 나가"));
  EXPECT_EQ(kicked->expect_event("chat.removed")["data"]["chat_id"].i64(), chat);
  EXPECT_EQ(kicked->error("messages.history", JsonObj().set("chat_id", chat)), "chat_not_found");
  EXPECT_EQ(chat_id_of(join_room(*kicked, chat, "돌아온이")), chat) << "a kicked member may join again";

  JsonRef ban = owner->ok("open.ban", JsonObj().set("chat_id", chat).set("member_id", banned_mid).set("reason", "spam"))["ban"];
  EXPECT_TRUE(ban["ban_id"].is_int());
  EXPECT_EQ(ban["member_id"].i64(), banned_mid);
  EXPECT_EQ(ban["reason"].str(), "spam");
  EXPECT_EQ(banned->expect_event("chat.removed")["data"]["chat_id"].i64(), chat);
  JsonRef ban_msg = expect_system(*bystander, chat, "ban");
  EXPECT_EQ(ban_msg["by"].i64(), owner_mid);
  EXPECT_EQ(ban_msg["user"].i64(), banned_mid);

  EXPECT_EQ(banned->error("open.join", JsonObj().set("chat_id", chat).set("profile", nick("다시"))), "banned");
  EXPECT_EQ(banned->error("open.join", JsonObj().set("code", code).set("profile", nick("다시"))), "banned");
  EXPECT_EQ(banned->error("messages.history", JsonObj().set("chat_id", chat)), "chat_not_found");
  EXPECT_EQ(banned->error("chats.get", JsonObj().set("chat_id", chat)), "chat_not_found");
  EXPECT_EQ(banned->error("messages.send", JsonObj().set("chat_id", chat).set("client_id", next_client_id()).set("text", "x")),
            "chat_not_found");
  EXPECT_EQ(banned->error("messages.read", JsonObj().set("chat_id", chat).set("seq", before_ban)), "chat_not_found");
  JsonRef preview = banned->ok("open.preview", JsonObj().set("code", code));
  EXPECT_TRUE(preview["banned"].boolean());
  EXPECT_FALSE(preview["member"].boolean());

  JsonRef bans = owner->ok("open.bans", JsonObj().set("chat_id", chat))["bans"];
  ASSERT_EQ(bans.size(), 1u) << bans.dump();
  EXPECT_EQ(bans[0]["ban_id"].i64(), ban["ban_id"].i64());
  EXPECT_EQ(bans[0]["member_id"].i64(), banned_mid);
  EXPECT_EQ(bans[0]["reason"].str(), "spam");
  EXPECT_EQ(bans[0]["by"].i64(), owner_mid);
  EXPECT_EQ(bans[0]["profile"]["display_name"].str(), "차단될이");
  EXPECT_TRUE(bans[0]["at"].is_int());
  EXPECT_EQ(bystander->error("open.bans", JsonObj().set("chat_id", chat)), "forbidden");
  EXPECT_EQ(bystander->error("open.unban", JsonObj().set("chat_id", chat).set("ban_id", ban["ban_id"].i64())), "forbidden");

  owner->ok("open.unban", JsonObj().set("chat_id", chat).set("ban_id", ban["ban_id"].i64()));
  EXPECT_EQ(owner->ok("open.bans", JsonObj().set("chat_id", chat))["bans"].size(), 0u);
  JsonRef audit = owner->ok("open.audit", JsonObj().set("chat_id", chat))["entries"];
  ASSERT_GE(audit.size(), 3u);
  EXPECT_EQ(audit[0]["action"].str(), "unban") << audit.dump();
  EXPECT_EQ(audit[1]["action"].str(), "ban") << audit.dump();
  EXPECT_EQ(audit[2]["action"].str(), "kick") << audit.dump();
  EXPECT_FALSE(banned->ok("open.preview", JsonObj().set("code", code))["banned"].boolean());
  EXPECT_EQ(chat_id_of(join_room(*banned, chat, "용서받은이")), chat);
}

TEST_F(OpenChatModerationTest, KickedAndBannedStopReceivingTheRoom) {
  auto owner = new_user("owner");
  auto kicked = new_user("kicked");
  auto banned = new_user("banned");
  std::int64_t chat = chat_id_of(create_room_titled(*owner, "조용해질 방"));
  std::int64_t kicked_mid = self_of(join_room(*kicked, chat, "강퇴"));
  std::int64_t banned_mid = self_of(join_room(*banned, chat, "차단"));
  auto stays = new_user("stays");
  join_room(*stays, chat, "남는이");
  JsonRef before = send_text(*owner, chat, "셋이 안 읽음");
  EXPECT_EQ(before["unread"].i64(), 3);
  owner->ok("open.kick", JsonObj().set("chat_id", chat).set("member_id", kicked_mid));
  owner->ok("open.ban", JsonObj().set("chat_id", chat).set("member_id", banned_mid));
  // Unread counts are over current members: only `stays` is left to read it.
  EXPECT_EQ(history_after(*stays, chat, before["seq"].i64() - 1).at(0)["unread"].i64(), 1);
  kicked->expect_event("chat.removed");
  banned->expect_event("chat.removed");
  kicked->clear_events();
  banned->clear_events();
  send_text(*owner, chat, "이제 안 보여야 함");
  owner->ok("open.notice", JsonObj().set("chat_id", chat).set("text", "공지"));
  owner->ok("messages.read", JsonObj().set("chat_id", chat).set("seq", get_chat(*owner, chat)["last_seq"].i64()));
  for (Session* s : {&kicked, &banned}) {
    (*s)->pump(400ms);
    for (const auto& e : (*s)->buffered_events()) {
      std::string text = e.dump();
      EXPECT_EQ(text.find("이제 안 보여야 함"), std::string::npos) << text;
      bool about_chat = e["data"].has("chat_id") && e["data"]["chat_id"].is_int() && e["data"]["chat_id"].i64() == chat;
      if (e["data"].has("message")) about_chat |= e["data"]["message"]["chat_id"].i64() == chat;
      if (e["data"].has("room")) about_chat |= e["data"]["room"]["chat_id"].i64() == chat;
      if (e["data"].has("chat")) about_chat |= e["data"]["chat"]["chat_id"].i64() == chat;
      EXPECT_FALSE(about_chat) << (*s).account.handle << " still gets the room's events: " << text;
    }
  }
  // Reads and writes of the room: chat_not_found for both.
  for (Session* s : {&kicked, &banned}) {
    EXPECT_EQ((*s)->error("open.report", JsonObj().set("chat_id", chat).set("seq", 1).set("reason", "x")), "chat_not_found");
    EXPECT_EQ((*s)->error("messages.history", JsonObj().set("chat_id", chat)), "chat_not_found");
    // Catching up shows the chat as left, and nothing said after.
    JsonRef synced = (*s)->ok("sync", JsonObj().set("since", 0));
    EXPECT_EQ(synced.dump().find("이제 안 보여야 함"), std::string::npos) << synced.dump();
    bool listed_as_left = false;
    for (const auto& c : synced["chats"].items())
      if (chat_id_of(c) == chat) listed_as_left = c["left"].boolean();
    EXPECT_TRUE(listed_as_left) << synced.dump();
    EXPECT_EQ((*s)->ok("chats.list").dump().find("이제 안 보여야 함"), std::string::npos);
  }
}

TEST_F(OpenChatModerationTest, StaffDeleteOthersMessagesAndTheAuditLogRecordsItAll) {
  auto owner = new_user("owner");
  auto admin = new_user("admin");
  auto weak_admin = new_user("weakadmin");
  auto author = new_user("author");
  auto kicked = new_user("kicked");
  auto banned = new_user("banned");
  auto plain = new_user("plain");
  JsonRef created = create_room_titled(*owner, "감사 기록 방");
  std::int64_t chat = chat_id_of(created);
  std::int64_t owner_mid = self_of(created);
  std::int64_t admin_mid = self_of(join_room(*admin, chat, "부방장"));
  std::int64_t weak_mid = self_of(join_room(*weak_admin, chat, "약한부방"));
  std::int64_t author_mid = self_of(join_room(*author, chat, "작성자"));
  std::int64_t kicked_mid = self_of(join_room(*kicked, chat, "강퇴"));
  std::int64_t banned_mid = self_of(join_room(*banned, chat, "차단"));
  self_of(join_room(*plain, chat, "평범"));
  plain->clear_events();

  owner->ok("open.set_role", JsonObj()
                                 .set("chat_id", chat)
                                 .set("member_id", admin_mid)
                                 .set("role", "admin")
                                 .set("permissions", strings({"delete", "kick", "ban", "notice"})));
  owner->ok("open.set_role", JsonObj()
                                 .set("chat_id", chat)
                                 .set("member_id", weak_mid)
                                 .set("role", "admin")
                                 .set("permissions", strings({"notice"})));
  std::int64_t seq = send_text(*author, chat, "지워질 메시지")["seq"].i64();
  EXPECT_EQ(plain->error("messages.delete", JsonObj().set("chat_id", chat).set("seq", seq)), "forbidden");
  EXPECT_EQ(weak_admin->error("messages.delete", JsonObj().set("chat_id", chat).set("seq", seq)), "forbidden");
  JsonRef deleted = admin->ok("messages.delete", JsonObj().set("chat_id", chat).set("seq", seq))["message"];
  EXPECT_TRUE(deleted["deleted"].boolean());
  EXPECT_EQ(deleted["text"].str(), "");
  JsonRef ev = plain->expect_event_matching("message.deleted", [&](const JsonRef& e) {
    return e["data"]["message"]["seq"].i64() == seq;
  });
  EXPECT_TRUE(ev["data"]["message"]["deleted"].boolean());
  EXPECT_EQ(ev["data"]["message"]["sender_id"].i64(), author_mid);

  admin->ok("open.notice", JsonObj().set("chat_id", chat).set("text", "공지입니다"));
  admin->ok("open.kick", JsonObj().set("chat_id", chat).set("member_id", kicked_mid));
  admin->ok("open.ban", JsonObj().set("chat_id", chat).set("member_id", banned_mid).set("reason", "광고"));

  JsonRef audit = owner->ok("open.audit", JsonObj().set("chat_id", chat).set("limit", 200));
  std::vector<std::string> actions;
  std::vector<JsonRef> entries = audit["entries"].items();
  for (const auto& e : entries) actions.push_back(e["action"].str());
  // Newest first; the room's creation may or may not be at the end.
  std::vector<std::string> expected{"ban", "kick", "notice", "delete_message", "set_role", "set_role"};
  ASSERT_GE(actions.size(), expected.size()) << audit.dump();
  EXPECT_EQ(std::vector<std::string>(actions.begin(), actions.begin() + expected.size()), expected) << audit.dump();
  for (std::size_t i = expected.size(); i < actions.size(); ++i) EXPECT_EQ(actions[i], "create") << audit.dump();
  EXPECT_EQ(entries[0]["actor"].i64(), admin_mid);
  EXPECT_EQ(entries[0]["target"].i64(), banned_mid);
  EXPECT_EQ(entries[0]["detail"]["reason"].str(), "광고");
  EXPECT_EQ(entries[1]["target"].i64(), kicked_mid);
  EXPECT_EQ(entries[2]["actor"].i64(), admin_mid);
  EXPECT_EQ(entries[3]["actor"].i64(), admin_mid);
  EXPECT_EQ(entries[3]["target"].i64(), author_mid);
  EXPECT_EQ(entries[4]["actor"].i64(), owner_mid);
  EXPECT_EQ(entries[4]["target"].i64(), weak_mid);
  EXPECT_EQ(entries[5]["target"].i64(), admin_mid);
  for (std::size_t i = 1; i < entries.size(); ++i)
    EXPECT_GT(entries[i - 1]["entry_id"].i64(), entries[i]["entry_id"].i64()) << "newest first";
  EXPECT_FALSE(audit["has_more"].boolean());

  // Paging.
  JsonRef p1 = owner->ok("open.audit", JsonObj().set("chat_id", chat).set("limit", 2));
  ASSERT_EQ(p1["entries"].size(), 2u);
  EXPECT_TRUE(p1["has_more"].boolean());
  JsonRef p2 = owner->ok("open.audit", JsonObj().set("chat_id", chat).set("limit", 2).set(
                                           "before", p1["entries"][1]["entry_id"].i64()));
  ASSERT_GE(p2["entries"].size(), 1u);
  EXPECT_EQ(p2["entries"][0]["action"].str(), "notice");

  // Every admin may read it; a plain member may not.
  EXPECT_EQ(weak_admin->ok("open.audit", JsonObj().set("chat_id", chat))["entries"][0]["action"].str(), "ban");
  std::string code = plain->error("open.audit", JsonObj().set("chat_id", chat));
  EXPECT_TRUE(code == "forbidden" || code == "chat_not_found") << code;
}

TEST_F(OpenChatModerationTest, SlowModeHoldsMembersButNotStaff) {
  auto owner = new_user("owner");
  auto admin = new_user("admin");
  auto member = new_user("member");
  EXPECT_EQ(owner->error("open.create", JsonObj().set("title", "x").set("slow_mode_seconds", 3601).set("profile", nick("o"))),
            "bad_request");
  JsonRef created = create_room(*owner, JsonObj().set("title", "천천히").set("slow_mode_seconds", 2));
  std::int64_t chat = chat_id_of(created);
  EXPECT_EQ(created["open"]["slow_mode_seconds"].i64(), 2);
  std::int64_t admin_mid = self_of(join_room(*admin, chat, "부방장"));
  join_room(*member, chat, "멤버");
  owner->ok("open.set_role", JsonObj()
                                 .set("chat_id", chat)
                                 .set("member_id", admin_mid)
                                 .set("role", "admin")
                                 .set("permissions", strings({"notice"})));

  send_text(*member, chat, "첫 번째");
  auto started = std::chrono::steady_clock::now();
  EXPECT_EQ(member->error("messages.send", JsonObj().set("chat_id", chat).set("client_id", next_client_id()).set(
                                               "text", "두 번째")),
            "slow_mode");
  for (int i = 0; i < 3; ++i) {
    send_text(*owner, chat, "방장 " + std::to_string(i));
    send_text(*admin, chat, "부방장 " + std::to_string(i));
  }
  // Only the first of the member's two sends is in the room.
  int mine = 0;
  for (const auto& m : history_after(*owner, chat, 0))
    if (m["text"].str() == "두 번째") ++mine;
  EXPECT_EQ(mine, 0);
  std::this_thread::sleep_until(started + 2100ms);
  send_text(*member, chat, "세 번째");
  // Turning it off lifts it.
  owner->ok("open.update", JsonObj().set("chat_id", chat).set("slow_mode_seconds", 0));
  send_text(*member, chat, "네 번째");
}

TEST_F(OpenChatModerationTest, SlowModeHoldsPipelinedSends) {
  auto owner = new_user("owner");
  auto member = new_user("member");
  std::int64_t chat = chat_id_of(create_room(*owner, JsonObj().set("title", "천천히").set("slow_mode_seconds", 60)));
  join_room(*member, chat, "멤버");
  std::vector<std::int64_t> ids;
  for (int i = 0; i < 6; ++i)
    ids.push_back(member->send_request("messages.send", JsonObj().set("chat_id", chat).set("client_id", next_client_id()).set(
                                                            "text", "연속 " + std::to_string(i))));
  int sent = 0, held = 0;
  for (auto id : ids) {
    Response r = member->wait_response(id);
    if (r.ok()) {
      ++sent;
    } else {
      EXPECT_EQ(r.error_code(), "slow_mode") << r.dump();
      ++held;
    }
  }
  EXPECT_EQ(sent, 1);
  EXPECT_EQ(held, 5);
  int in_room = 0;
  for (const auto& m : history_after(*owner, chat, 0))
    if (m["kind"].str() == "text" && m["text"].str().rfind("연속", 0) == 0) ++in_room;
  EXPECT_EQ(in_room, 1);
}

TEST_F(OpenChatModerationTest, SlowModeStillAnswersARetryWithTheSameClientId) {
  auto owner = new_user("owner");
  auto member = new_user("member");
  std::int64_t chat = chat_id_of(create_room(*owner, JsonObj().set("title", "재시도").set("slow_mode_seconds", 60)));
  join_room(*member, chat, "멤버");
  std::string client_id = next_client_id();
  JsonRef first = send_text(*member, chat, "한 번만", client_id);
  // The answer was "lost"; the client retries with the same client_id and gets the original.
  Response retry = member->call("messages.send",
                                JsonObj().set("chat_id", chat).set("client_id", client_id).set("text", "한 번만"));
  ASSERT_TRUE(retry.ok()) << "a retry is not a second message: " << retry.dump();
  EXPECT_EQ(retry.result()["message"]["seq"].i64(), first["seq"].i64());
  EXPECT_EQ(member->error("messages.send", JsonObj().set("chat_id", chat).set("client_id", next_client_id()).set(
                                               "text", "두 번째")),
            "slow_mode");
}

TEST_F(OpenChatModerationTest, ReportsNeedAModeratorAndResolvingNeedsDelete) {
  auto owner = new_user("owner");
  auto kicker = new_user("kicker");
  auto noticer = new_user("noticer");
  auto author = new_user("author");
  auto reporter = new_user("reporter");
  auto outsider = new_user("outsider");
  std::int64_t chat = chat_id_of(create_room(*owner, JsonObj().set("title", "신고 권한").set("report_threshold", 5)));
  std::int64_t kicker_mid = self_of(join_room(*kicker, chat, "킥"));
  std::int64_t noticer_mid = self_of(join_room(*noticer, chat, "공지"));
  join_room(*author, chat, "작성");
  join_room(*reporter, chat, "신고");
  owner->ok("open.set_role", JsonObj().set("chat_id", chat).set("member_id", kicker_mid).set("role", "admin").set(
                                 "permissions", strings({"kick"})));
  owner->ok("open.set_role", JsonObj().set("chat_id", chat).set("member_id", noticer_mid).set("role", "admin").set(
                                 "permissions", strings({"notice"})));
  std::int64_t seq = send_text(*author, chat, "문제 글")["seq"].i64();
  EXPECT_EQ(outsider->error("open.report", JsonObj().set("chat_id", chat).set("seq", seq).set("reason", "x")),
            "chat_not_found");
  EXPECT_EQ(reporter->error("open.report", JsonObj().set("chat_id", chat).set("seq", seq).set("reason", "")), "bad_request");
  EXPECT_EQ(reporter->error("open.report", JsonObj().set("chat_id", chat).set("seq", seq).set("reason", std::string(201, 'x'))),
            "bad_request");
  std::int64_t rid =
      reporter->ok("open.report", JsonObj().set("chat_id", chat).set("seq", seq).set("reason", "욕설"))["report_id"].i64();
  JsonRef seen = kicker->ok("open.reports", JsonObj().set("chat_id", chat))["reports"];
  ASSERT_EQ(seen.size(), 1u);
  EXPECT_EQ(seen[0]["report_id"].i64(), rid);
  EXPECT_EQ(seen[0]["message"]["text"].str(), "문제 글");
  EXPECT_EQ(noticer->error("open.reports", JsonObj().set("chat_id", chat)), "forbidden");
  EXPECT_EQ(kicker->error("open.resolve", JsonObj().set("chat_id", chat).set("report_id", rid).set("action", "dismiss")),
            "forbidden");
  owner->ok("open.resolve", JsonObj().set("chat_id", chat).set("report_id", rid).set("action", "dismiss"));
  EXPECT_EQ(owner->ok("open.reports", JsonObj().set("chat_id", chat))["reports"].size(), 0u);
  EXPECT_EQ(history_after(*reporter, chat, seq - 1).at(0)["text"].str(), "문제 글") << "dismissing changes nothing";
}

TEST_F(OpenChatModerationTest, NoticeIsPinnedAndReachesMembers) {
  auto owner = new_user("owner");
  auto admin = new_user("admin");
  auto member = new_user("member");
  std::int64_t chat = chat_id_of(create_room_titled(*owner, "공지 방"));
  EXPECT_TRUE(get_chat(*owner, chat)["open"]["notice"].is_null());
  std::int64_t admin_mid = self_of(join_room(*admin, chat, "부방장"));
  join_room(*member, chat, "멤버");
  owner->ok("open.set_role", JsonObj()
                                 .set("chat_id", chat)
                                 .set("member_id", admin_mid)
                                 .set("role", "admin")
                                 .set("permissions", strings({"notice"})));
  member->clear_events();

  JsonRef result = admin->ok("open.notice", JsonObj().set("chat_id", chat).set("text", "매주 금요일 모임"))["chat"];
  JsonRef notice = result["open"]["notice"];
  EXPECT_EQ(notice["text"].str(), "매주 금요일 모임");
  EXPECT_EQ(notice["by"].i64(), admin_mid);
  EXPECT_TRUE(notice["at"].is_int());
  JsonRef ev = member->expect_event("open.updated")["data"]["room"];
  EXPECT_EQ(ev["chat_id"].i64(), chat);
  EXPECT_EQ(ev["notice"]["text"].str(), "매주 금요일 모임");
  EXPECT_EQ(ev["notice"]["by"].i64(), admin_mid);
  JsonRef sys = expect_system(*member, chat, "notice");
  EXPECT_EQ(sys["by"].i64(), admin_mid);
  EXPECT_EQ(sys["text"].str(), "매주 금요일 모임");
  EXPECT_EQ(get_chat(*member, chat)["open"]["notice"]["text"].str(), "매주 금요일 모임");

  EXPECT_EQ(member->error("open.notice", JsonObj().set("chat_id", chat).set("text", "내 공지")), "forbidden");
  EXPECT_EQ(admin->error("open.notice", JsonObj().set("chat_id", chat).set("text", std::string(1001, 'x'))), "bad_request");
  owner->ok("open.notice", JsonObj().set("chat_id", chat).set("text", ""));
  EXPECT_TRUE(member->expect_event("open.updated")["data"]["room"]["notice"].is_null());
  EXPECT_TRUE(get_chat(*member, chat)["open"]["notice"].is_null());

  // open.update also reaches members as open.updated.
  owner->ok("open.update", JsonObj().set("chat_id", chat).set("title", "새 이름").set("description", "바뀐 설명"));
  JsonRef room = member->expect_event_matching("open.updated", [](const JsonRef& e) {
    return e["data"]["room"]["title"].str() == "새 이름";
  })["data"]["room"];
  EXPECT_EQ(room["description"].str(), "바뀐 설명");
  EXPECT_EQ(member->error("open.update", JsonObj().set("chat_id", chat).set("title", "멤버가 바꿈")), "forbidden");
  EXPECT_EQ(admin->error("open.update", JsonObj().set("chat_id", chat).set("title", "edit 없음")), "forbidden");
  JsonRef audit = owner->ok("open.audit", JsonObj().set("chat_id", chat))["entries"];
  ASSERT_GE(audit.size(), 3u);
  EXPECT_EQ(audit[0]["action"].str(), "edit") << audit.dump();
  EXPECT_EQ(audit[1]["action"].str(), "notice") << audit.dump();
  EXPECT_EQ(audit[2]["action"].str(), "notice") << audit.dump();
}

TEST_F(OpenChatModerationTest, ReportedMessageIsHiddenAtTheThresholdAndRestored) {
  auto owner = new_user("owner");
  auto spammer = new_user("spammer");
  auto r1 = new_user("reporterone");
  auto r2 = new_user("reportertwo");
  auto watcher = new_user("watcher");
  JsonRef created = create_room(*owner, JsonObj().set("title", "신고 방").set("report_threshold", 2));
  std::int64_t chat = chat_id_of(created);
  EXPECT_EQ(created["open"]["report_threshold"].i64(), 2);
  std::int64_t spammer_mid = self_of(join_room(*spammer, chat, "광고왕"));
  std::int64_t r1_mid = self_of(join_room(*r1, chat, "신고1"));
  std::int64_t r2_mid = self_of(join_room(*r2, chat, "신고2"));
  join_room(*watcher, chat, "구경");
  std::string pos0 = watcher->ok("sync", JsonObj().set("since", 0).set("limit", 500))["pos"].dump();
  const std::string text = "spam spam http://spam.example";
  std::int64_t seq = send_text(*spammer, chat, text)["seq"].i64();
  watcher->clear_events();
  spammer->clear_events();

  auto report = [&](Session& who) {
    return who->ok("open.report", JsonObj().set("chat_id", chat).set("seq", seq).set("reason", "spam"))["report_id"].i64();
  };
  report(r1);
  report(r1);  // the same reporter twice counts once
  EXPECT_TRUE(watcher->events_within("message.updated", 300ms).empty()) << "one reporter is below the threshold";
  auto served = history_after(*watcher, chat, seq - 1);
  ASSERT_FALSE(served.empty());
  EXPECT_EQ(served[0]["text"].str(), text);
  EXPECT_FALSE(served[0].has("hidden") && served[0]["hidden"].boolean());

  report(r2);
  for (Session* s : {&watcher, &spammer, &r1}) {
    JsonRef m = (*s)->expect_event_matching("message.updated", [&](const JsonRef& e) {
      return e["data"]["message"]["seq"].i64() == seq;
    })["data"]["message"];
    EXPECT_TRUE(m["hidden"].boolean()) << m.dump();
    EXPECT_EQ(m["text"].str(), "") << m.dump();
  }
  served = history_after(*watcher, chat, seq - 1);
  ASSERT_FALSE(served.empty());
  EXPECT_TRUE(served[0]["hidden"].boolean());
  EXPECT_EQ(served[0]["text"].str(), "");
  JsonRef synced = watcher->ok("sync", JsonObj().set_raw("since", pos0).set("limit", 500));
  bool found_hidden = false;
  for (const auto& c : synced["chats"].items())
    if (chat_id_of(c) == chat)
      for (const auto& s : c["hidden_seqs"].items()) found_hidden |= s.i64() == seq;
  EXPECT_TRUE(found_hidden) << synced.dump();
  std::string pos1 = synced["pos"].dump();
  // The hidden message is the chat's last one: summaries must not show its text either.
  for (const auto& c : synced["chats"].items())
    if (chat_id_of(c) == chat && c.has("last_message") && !c["last_message"].is_null() &&
        c["last_message"]["seq"].i64() == seq) {
      EXPECT_EQ(c["last_message"]["text"].str(), "") << c.dump();
    }
  JsonRef summary = get_chat(*watcher, chat);
  ASSERT_EQ(summary["last_message"]["seq"].i64(), seq);
  EXPECT_TRUE(summary["last_message"]["hidden"].boolean()) << summary.dump();
  EXPECT_EQ(summary["last_message"]["text"].str(), "") << summary.dump();
  for (const auto& c : watcher->ok("chats.list")["chats"].items())
    if (chat_id_of(c) == chat) {
      EXPECT_EQ(c["last_message"]["text"].str(), "") << c.dump();
    }
  EXPECT_EQ(watcher->ok("messages.history", JsonObj().set("chat_id", chat))["messages"].dump().find("spam.example"),
            std::string::npos);

  // Staff see the reports and the text.
  JsonRef reports = owner->ok("open.reports", JsonObj().set("chat_id", chat))["reports"];
  ASSERT_EQ(reports.size(), 2u) << reports.dump();
  EXPECT_EQ(reports[0]["reporter"].i64(), r2_mid) << "newest first";
  EXPECT_EQ(reports[1]["reporter"].i64(), r1_mid);
  for (const auto& r : reports.items()) {
    EXPECT_EQ(r["target"].i64(), spammer_mid);
    EXPECT_EQ(r["seq"].i64(), seq);
    EXPECT_EQ(r["state"].str(), "open");
    EXPECT_EQ(r["reason"].str(), "spam");
    EXPECT_EQ(r["message"]["text"].str(), text);
    EXPECT_EQ(r["target_reports_total"].i64(), 2);
  }
  EXPECT_EQ(watcher->error("open.reports", JsonObj().set("chat_id", chat)), "forbidden");
  EXPECT_EQ(watcher->error("open.resolve", JsonObj().set("chat_id", chat).set("report_id", reports[0]["report_id"].i64()).set(
                                               "action", "restore")),
            "forbidden");

  owner->ok("open.resolve",
            JsonObj().set("chat_id", chat).set("report_id", reports[1]["report_id"].i64()).set("action", "restore"));
  JsonRef restored = watcher->expect_event_matching("message.updated", [&](const JsonRef& e) {
    return e["data"]["message"]["seq"].i64() == seq;
  })["data"]["message"];
  EXPECT_EQ(restored["text"].str(), text);
  EXPECT_FALSE(restored.has("hidden") && restored["hidden"].boolean());
  served = history_after(*watcher, chat, seq - 1);
  EXPECT_EQ(served[0]["text"].str(), text);
  EXPECT_FALSE(served[0].has("hidden") && served[0]["hidden"].boolean());
  synced = watcher->ok("sync", JsonObj().set_raw("since", pos1).set("limit", 500));
  bool found_restored = false;
  for (const auto& c : synced["chats"].items())
    if (chat_id_of(c) == chat)
      for (const auto& s : c["restored_seqs"].items()) found_restored |= s.i64() == seq;
  EXPECT_TRUE(found_restored) << synced.dump();
  // One resolve settles every report on that message.
  EXPECT_EQ(owner->ok("open.reports", JsonObj().set("chat_id", chat))["reports"].size(), 0u);
  JsonRef resolved = owner->ok("open.reports", JsonObj().set("chat_id", chat).set("state", "resolved"))["reports"];
  EXPECT_EQ(resolved.size(), 2u);
  for (const auto& r : resolved.items()) EXPECT_EQ(r["state"].str(), "resolved");

  // target_reports_total counts across rooms, open and resolved; a report about a member has seq 0.
  auto owner2 = new_user("ownertwo");
  std::int64_t chat2 = chat_id_of(create_room_titled(*owner2, "다른 방"));
  std::int64_t spammer_mid2 = self_of(join_room(*spammer, chat2, "광고왕2"));
  join_room(*r1, chat2, "신고1");
  r1->ok("open.report", JsonObj().set("chat_id", chat2).set("member_id", spammer_mid2).set("reason", "계속 광고"));
  JsonRef reports2 = owner2->ok("open.reports", JsonObj().set("chat_id", chat2))["reports"];
  ASSERT_EQ(reports2.size(), 1u);
  EXPECT_EQ(reports2[0]["seq"].i64(), 0);
  EXPECT_EQ(reports2[0]["target"].i64(), spammer_mid2);
  EXPECT_EQ(reports2[0]["target_reports_total"].i64(), 3);

  // A hidden message resolved with `delete` is deleted for everyone.
  std::int64_t seq2 = send_text(*spammer, chat, "또 광고")["seq"].i64();
  for (Session* s : {&r1, &r2})
    (*s)->ok("open.report", JsonObj().set("chat_id", chat).set("seq", seq2).set("reason", "spam"));
  watcher->expect_event_matching("message.updated", [&](const JsonRef& e) {
    return e["data"]["message"]["seq"].i64() == seq2 && e["data"]["message"]["hidden"].boolean();
  });
  std::int64_t rid = owner->ok("open.reports", JsonObj().set("chat_id", chat))["reports"][0]["report_id"].i64();
  owner->ok("open.resolve", JsonObj().set("chat_id", chat).set("report_id", rid).set("action", "delete"));
  JsonRef gone = watcher->expect_event_matching("message.deleted", [&](const JsonRef& e) {
    return e["data"]["message"]["seq"].i64() == seq2;
  })["data"]["message"];
  EXPECT_TRUE(gone["deleted"].boolean());
  EXPECT_EQ(gone["text"].str(), "");

  // The audit log saw the automatic hide and the resolution.
  std::set<std::string> actions;
  JsonRef audit = owner->ok("open.audit", JsonObj().set("chat_id", chat).set("limit", 200));
  for (const auto& e : audit["entries"].items()) {
    actions.insert(e["action"].str());
    if (e["action"].str() == "hide_message") {
      EXPECT_TRUE(e["actor"].is_null()) << e.dump();
    }
  }
  EXPECT_TRUE(actions.count("hide_message")) << audit.dump();
  EXPECT_TRUE(actions.count("resolve_report")) << audit.dump();
}

// Staff delete members' messages at any age; members only their own, within the window.
class OpenChatDeleteWindowTest : public ModuTest {
 protected:
  std::vector<std::string> server_args() const override {
    auto args = open_chat_server_args();
    args.insert(args.end(), {"--delete-window", "1"});
    return args;
  }
};

TEST_F(OpenChatDeleteWindowTest, StaffDeleteAtAnyAgeMembersOnlyWithinTheWindow) {
  auto owner = new_user("owner");
  auto member = new_user("member");
  std::int64_t chat = chat_id_of(create_room_titled(*owner, "오래된 메시지"));
  join_room(*member, chat, "멤버");
  std::int64_t first = send_text(*member, chat, "하나")["seq"].i64();
  std::int64_t second = send_text(*member, chat, "둘")["seq"].i64();
  std::this_thread::sleep_for(2100ms);
  EXPECT_EQ(member->error("messages.delete", JsonObj().set("chat_id", chat).set("seq", first)), "delete_window_expired");
  JsonRef deleted = owner->ok("messages.delete", JsonObj().set("chat_id", chat).set("seq", second))["message"];
  EXPECT_TRUE(deleted["deleted"].boolean());
  EXPECT_EQ(member->expect_event("message.deleted")["data"]["message"]["seq"].i64(), second);
}

// --- restart ------------------------------------------------------------------------------------

class OpenChatRestartTest : public OpenChatTest {};

TEST_F(OpenChatRestartTest, RoomsMembersBansApplicationsAndHiddenMessagesSurviveARestart) {
  Account owner_acc, member_acc, banned_acc, applicant_acc, newcomer_acc;
  std::int64_t room, community, owner_mid, member_mid, banned_mid, app_id, hidden_seq;
  std::string code;
  {
    auto owner = new_user("owner");
    auto member = new_user("member");
    auto banned = new_user("banned");
    auto applicant = new_user("applicant");
    auto newcomer = new_user("newcomer");
    auto r2 = new_user("reportertwo");
    owner_acc = owner.account;
    member_acc = member.account;
    banned_acc = banned.account;
    applicant_acc = applicant.account;
    newcomer_acc = newcomer.account;
    JsonRef created = create_room(*owner, JsonObj()
                                              .set("title", "재시작 독서모임")
                                              .set("tags", strings({"재시작태그"}))
                                              .set("report_threshold", 2)
                                              .set("slow_mode_seconds", 60));
    room = chat_id_of(created);
    code = code_of(created);
    owner_mid = self_of(created);
    member_mid = self_of(join_room(*member, room, "멤버"));
    banned_mid = self_of(join_room(*banned, room, "차단"));
    std::int64_t r2_mid = self_of(join_room(*r2, room, "신고2"));
    owner->ok("open.set_role", JsonObj().set("chat_id", room).set("member_id", r2_mid).set("role", "admin").set(
                                   "permissions", strings({"notice"})));
    owner->ok("open.notice", JsonObj().set("chat_id", room).set("text", "재시작 공지"));
    owner->ok("open.ban", JsonObj().set("chat_id", room).set("member_id", banned_mid).set("reason", "spam"));
    hidden_seq = send_text(*member, room, "숨겨질 글")["seq"].i64();
    owner->ok("open.report", JsonObj().set("chat_id", room).set("seq", hidden_seq).set("reason", "x"));
    r2->ok("open.report", JsonObj().set("chat_id", room).set("seq", hidden_seq).set("reason", "x"));
    community = chat_id_of(create_room(*owner, community_args("재시작 모임")));
    app_id = apply(*applicant, community, "지원", JsonObj().set("real_name", "가"))["application_id"].i64();
  }
  server().restart();

  auto owner = resume(owner_acc);
  auto member = resume(member_acc);
  auto banned = resume(banned_acc);
  auto newcomer = resume(newcomer_acc);
  EXPECT_TRUE(search(*newcomer, "독서").count(room));
  EXPECT_TRUE(search(*newcomer, "재시작태그").count(room));
  JsonRef chat = get_chat(*member, room);
  EXPECT_EQ(self_of(chat), member_mid);
  EXPECT_EQ(member_of(chat, owner_mid)["role"].str(), "owner");
  EXPECT_EQ(chat["open"]["notice"]["text"].str(), "재시작 공지");
  EXPECT_EQ(chat["open"]["code"].str(), code);
  EXPECT_FALSE(member_ids(chat).count(banned_mid));
  EXPECT_EQ(banned->error("open.join", JsonObj().set("chat_id", room).set("profile", nick("다시"))), "banned");
  JsonRef seen = history_after(*member, room, hidden_seq - 1).at(0);
  EXPECT_TRUE(seen["hidden"].boolean()) << seen.dump();
  EXPECT_EQ(seen["text"].str(), "");
  EXPECT_EQ(owner->ok("open.reports", JsonObj().set("chat_id", room))["reports"].size(), 2u);
  EXPECT_EQ(member->call("messages.send", JsonObj().set("chat_id", room).set("client_id", next_client_id()).set("text", "x"))
                .error_code(),
            "slow_mode")
      << "the member sent less than 60 s ago, before the restart";
  JsonRef pending = owner->ok("open.applications", JsonObj().set("chat_id", community))["applications"];
  ASSERT_EQ(pending.size(), 1u);
  EXPECT_EQ(pending[0]["application_id"].i64(), app_id);
  EXPECT_EQ(pending[0]["answers"]["real_name"].str(), "가");
  // Member ids handed out after the restart are new ones.
  std::set<std::int64_t> before = member_ids(get_chat(*owner, room));
  std::int64_t newcomer_mid = self_of(join_room(*newcomer, room, "새내기"));
  EXPECT_FALSE(before.count(newcomer_mid)) << newcomer_mid;
  EXPECT_NE(newcomer_mid, banned_mid);
  JsonRef later = decide(*owner, community, app_id, true);
  EXPECT_EQ(later["state"].str(), "approved");
  JsonRef audit = owner->ok("open.audit", JsonObj().set("chat_id", room).set("limit", 200))["entries"];
  std::set<std::string> actions;
  for (const auto& e : audit.items()) actions.insert(e["action"].str());
  for (const char* a : {"set_role", "notice", "ban", "hide_message"}) EXPECT_TRUE(actions.count(a)) << a << audit.dump();
}

// --- identity ---------------------------------------------------------------------------------

// Where `needle` occurs in `frames` (the frame text), for failure messages.
std::vector<std::string> frames_containing(const std::vector<std::string>& frames, const std::string& needle) {
  std::vector<std::string> out;
  for (const auto& f : frames)
    if (f.find(needle) != std::string::npos) out.push_back(f);
  return out;
}

// Frames in which `"key":<id>` occurs with `id` not followed by another digit, also inside
// JSON-in-a-string (system message texts, where the quotes are escaped).
std::vector<std::string> frames_naming_id(const std::vector<std::string>& frames, const std::string& key,
                                          std::int64_t id) {
  std::vector<std::string> out;
  std::string digits = std::to_string(id);
  for (const std::string& pattern : {"\"" + key + "\":" + digits, "\\\"" + key + "\\\":" + digits}) {
    for (const auto& f : frames) {
      for (std::size_t at = f.find(pattern); at != std::string::npos; at = f.find(pattern, at + 1)) {
        std::size_t end = at + pattern.size();
        if (end >= f.size() || !std::isdigit(static_cast<unsigned char>(f[end]))) {
          out.push_back(f);
          break;
        }
      }
    }
  }
  return out;
}

TEST_F(OpenChatIdentityTest, NicknameMembersNeverRevealTheirAccount) {
  // Observers first, then 40 unused accounts, so the secret (and the candid) account's id is
  // far above any member id that can occur in this test.
  auto owner = new_user("owner", "방장님");
  auto watcher = new_user("watcher", "관찰자");
  auto other = new_user("other", "다른회원");
  for (int i = 0; i < 40; ++i) new_user(throwaway_handle(i));
  auto candid = new_user("candid_visible_handle", "공개실명김철수");  // joins with the real profile
  const std::string secret_handle = "zq_secret_handle_77";
  const std::string secret_name = "비밀실명홍길동XYZ";
  auto secret = new_user(secret_handle, secret_name);
  const std::int64_t secret_id = secret.id();
  ASSERT_GT(secret_id, 40);
  for (Session* s : {&owner, &watcher, &other, &candid}) (*s)->record_frames();

  JsonRef room_chat = create_room(*owner, JsonObj().set("title", "익명 방").set("report_threshold", 2), "방장닉");
  std::int64_t room = chat_id_of(room_chat);
  std::string room_code = code_of(room_chat);
  std::int64_t community =
      chat_id_of(create_room(*owner, community_args("익명 모임").set("report_threshold", 2), "방장닉"));
  join_room(*watcher, room, "관찰닉");
  join_room(*other, room, "다른닉");
  apply_and_approve(*watcher, *owner, community, "관찰닉", JsonObj().set("real_name", "관찰실명"));
  JsonRef candid_chat = candid->ok("open.join", JsonObj().set("chat_id", room).set("profile", real_profile()))["chat"];
  std::int64_t candid_mid = self_of(candid_chat);
  EXPECT_NE(candid_mid, candid.id());

  // The secret member's session.
  secret->ok("profile.update", JsonObj().set("avatar", "https://img.example/zq_secret_avatar.png"));
  JsonRef joined = join_room(*secret, room, "익명너구리");
  std::int64_t smid = self_of(joined);
  EXPECT_NE(smid, secret_id);
  JsonRef hello = send_text(*secret, room, "안녕하세요 익명입니다");
  std::int64_t seq = hello["seq"].i64();
  EXPECT_EQ(hello["sender_id"].i64(), smid);
  std::int64_t watcher_seq = send_text(*watcher, room, "반가워요")["seq"].i64();
  secret->ok("messages.read", JsonObj().set("chat_id", room).set("seq", watcher_seq));
  watcher->expect_event_matching("chat.read", [&](const JsonRef& e) { return e["data"]["reads"][0]["user_id"].i64() == smid; });
  secret->ok("profile.update", JsonObj().set("status_message", secret_name + " 상태"));
  for (Session* s : {&owner, &watcher, &other, &candid}) {
    JsonRef c = get_chat(**s, room);
    JsonRef m = member_of(c, smid);
    EXPECT_EQ(m["profile"]["display_name"].str(), "익명너구리");
    EXPECT_EQ(m["profile"]["handle"].str(), "");
    EXPECT_EQ(m["profile"]["user_id"].i64(), smid);
    EXPECT_FALSE(m["real"].boolean());
    history_after(**s, room, 0);
    (*s)->ok("chats.list");
    (*s)->ok("sync", JsonObj().set("since", 0).set("limit", 500));
    (*s)->ok("open.preview", JsonObj().set("code", room_code));
    (*s)->ok("open.search", JsonObj().set("query", "익명"));
  }
  // The member who joined with the real profile does show it.
  JsonRef cm = member_of(get_chat(*watcher, room), candid_mid);
  EXPECT_TRUE(cm["real"].boolean());
  EXPECT_EQ(cm["profile"]["handle"].str(), "candid_visible_handle");
  EXPECT_EQ(cm["profile"]["display_name"].str(), "공개실명김철수");

  // Applications: the owner reviews the secret member's application.
  JsonRef app = apply(*secret, community, "모임너구리", JsonObj().set("real_name", "가명").set("intro", "hello"));
  owner->expect_event("open.application");
  owner->ok("open.applications", JsonObj().set("chat_id", community));
  decide(*owner, community, app["application_id"].i64(), true);
  std::int64_t smid2 = self_of(get_chat(*secret, community));
  owner->ok("open.applications", JsonObj().set("chat_id", community).set("state", "approved"));
  send_text(*secret, community, "모임 인사");
  get_chat(*watcher, community);

  // Reports, hiding, restoring.
  watcher->ok("open.report", JsonObj().set("chat_id", room).set("seq", seq).set("reason", "test"));
  other->ok("open.report", JsonObj().set("chat_id", room).set("seq", seq).set("reason", "test"));
  other->ok("open.report", JsonObj().set("chat_id", room).set("member_id", smid).set("reason", "member"));
  watcher->expect_event("message.updated");
  JsonRef reports = owner->ok("open.reports", JsonObj().set("chat_id", room))["reports"];
  std::int64_t message_report = 0, member_report = 0;
  for (const auto& r : reports.items()) (r["seq"].i64() == seq ? message_report : member_report) = r["report_id"].i64();
  ASSERT_NE(message_report, 0) << reports.dump();
  ASSERT_NE(member_report, 0) << reports.dump();
  owner->ok("open.resolve", JsonObj().set("chat_id", room).set("report_id", message_report).set("action", "restore"));
  owner->ok("open.resolve", JsonObj().set("chat_id", room).set("report_id", member_report).set("action", "dismiss"));
  owner->ok("open.reports", JsonObj().set("chat_id", room).set("state", "resolved"));

  // Roles, notice, kick, rejoin, ban, bans, audit, leave.
  owner->ok("open.set_role", JsonObj().set("chat_id", room).set("member_id", smid).set("role", "admin"));
  secret->ok("open.notice", JsonObj().set("chat_id", room).set("text", "익명 공지"));
  owner->ok("open.set_role", JsonObj().set("chat_id", room).set("member_id", smid).set("role", "member"));
  owner->ok("open.kick", JsonObj().set("chat_id", room).set("member_id", smid));
  std::int64_t smid_again = self_of(join_room(*secret, room, "돌아온너구리"));
  send_text(*secret, room, "다시 왔어요");
  JsonRef ban = owner->ok("open.ban", JsonObj().set("chat_id", community).set("member_id", smid2).set("reason", "규칙 위반"))["ban"];
  owner->ok("open.bans", JsonObj().set("chat_id", community));
  owner->ok("open.audit", JsonObj().set("chat_id", room).set("limit", 200));
  owner->ok("open.audit", JsonObj().set("chat_id", community).set("limit", 200));
  owner->ok("open.unban", JsonObj().set("chat_id", community).set("ban_id", ban["ban_id"].i64()));
  secret->ok("chats.leave", JsonObj().set("chat_id", room));
  // Deleting the account leaves every room, announced by member id.
  std::int64_t room2 = chat_id_of(create_room_titled(*owner, "탈퇴 방", "방장닉"));
  join_room(*watcher, room2, "관찰닉");
  std::int64_t smid3 = self_of(join_room(*secret, room2, "삭제될너구리"));
  send_text(*secret, room2, "곧 떠나요");
  // A room the secret account owns: every act of the owner names the member id.
  JsonRef own = create_room(*secret, JsonObj().set("title", "너구리의 방").set("description", "익명 방장"), "방장너구리");
  std::int64_t own_room = chat_id_of(own);
  join_room(*watcher, own_room, "관찰닉");
  std::int64_t other_in_own = self_of(join_room(*other, own_room, "다른닉"));
  secret->ok("open.set_role", JsonObj().set("chat_id", own_room).set("member_id", other_in_own).set("role", "admin").set(
                                  "permissions", strings({"notice"})));
  secret->ok("open.notice", JsonObj().set("chat_id", own_room).set("text", "방장 공지"));
  send_text(*secret, own_room, "방장입니다");
  secret->ok("open.set_role", JsonObj().set("chat_id", own_room).set("member_id", other_in_own).set("role", "member"));
  secret->ok("open.kick", JsonObj().set("chat_id", own_room).set("member_id", other_in_own));
  other_in_own = self_of(join_room(*other, own_room, "다른닉"));
  secret->ok("open.ban", JsonObj().set("chat_id", own_room).set("member_id", other_in_own).set("reason", "테스트"));
  for (Session* s : {&owner, &watcher, &candid}) {
    (*s)->ok("open.search", JsonObj().set("query", "너구리"));
    (*s)->ok("open.popular", JsonObj());
    (*s)->ok("open.preview", JsonObj().set("chat_id", own_room));
  }
  get_chat(*watcher, own_room);
  history_after(*watcher, own_room, 0);
  secret->ok("account.delete", JsonObj().set("password", secret.account.password));
  // The room passes to the watcher, the longest-serving member, who now reads its bans and
  // audit log: both name the deleted owner by member id only.
  JsonRef handed = get_chat(*watcher, own_room);
  EXPECT_EQ(member_of(handed, self_of(handed))["role"].str(), "owner") << handed.dump();
  JsonRef own_bans = watcher->ok("open.bans", JsonObj().set("chat_id", own_room))["bans"];
  ASSERT_EQ(own_bans.size(), 1u);
  EXPECT_EQ(own_bans[0]["by"].i64(), self_of(own));
  JsonRef own_audit = watcher->ok("open.audit", JsonObj().set("chat_id", own_room).set("limit", 200))["entries"];
  bool saw_ban = false;
  for (const auto& e : own_audit.items())
    if (e["action"].str() == "ban") {
      saw_ban = true;
      EXPECT_EQ(e["actor"].i64(), self_of(own)) << e.dump();
    }
  EXPECT_TRUE(saw_ban) << own_audit.dump();
  EXPECT_EQ(expect_system(*watcher, room2, "leave", smid3)["user"].i64(), smid3);
  for (Session* s : {&owner, &watcher, &other, &candid}) {
    (*s)->ok("sync", JsonObj().set("since", 0).set("limit", 500));
    history_after(**s, room, 0);
    (*s)->pump(200ms);
  }
  history_after(*watcher, room2, 0);
  get_chat(*watcher, room2);
  (void)smid_again;

  // Nothing any other member received names the secret account.
  for (Session* s : {&owner, &watcher, &other, &candid}) {
    const auto& frames = (*s)->recorded_frames();
    ASSERT_GT(frames.size(), 20u) << "the recorder saw the session";
    std::string who = (*s).account.handle;
    for (const std::string& needle :
         {secret_handle, std::string("zq_secret"), secret_name, std::string("비밀실명"), std::string("zq_secret_avatar")}) {
      auto hits = frames_containing(frames, needle);
      EXPECT_TRUE(hits.empty()) << who << " received '" << needle << "' in: " << hits.front();
    }
    for (const char* key : {"user_id", "sender_id", "member_id", "user", "by", "actor", "target", "reporter"}) {
      auto hits = frames_naming_id(frames, key, secret_id);
      EXPECT_TRUE(hits.empty()) << who << " received \"" << key << "\":" << secret_id << " in: " << hits.front();
    }
  }
  // The searches can fail: the real-profile member's identity is in the same recordings.
  EXPECT_FALSE(frames_containing(watcher->recorded_frames(), "candid_visible_handle").empty());
  EXPECT_FALSE(frames_containing(watcher->recorded_frames(), "공개실명김철수").empty());
  EXPECT_FALSE(frames_naming_id(watcher->recorded_frames(), "user_id", candid.id()).empty());
  EXPECT_FALSE(frames_naming_id(watcher->recorded_frames(), "sender_id", smid).empty());
  EXPECT_FALSE(frames_containing(watcher->recorded_frames(), "익명너구리").empty());
}

// --- a 1,500-member room (slow) --------------------------------------------------------------

class OpenChatLargeRoomSlow : public ModuTest {
 protected:
  std::vector<std::string> server_args() const override {
    auto args = open_chat_server_args();
    args.insert(args.end(), {"--fsync", "false"});
    return args;
  }
};

TEST_F(OpenChatLargeRoomSlow, OneMessageReachesEveryOnlineMemberOfA1500MemberRoomOnce) {
  constexpr int kMembers = 1500;  // the owner included
  constexpr int kThreads = 4;
  auto owner = new_user("owner");
  JsonRef created = create_room(*owner, JsonObj().set("title", "천오백 명").set("capacity", kMembers));
  std::int64_t chat = chat_id_of(created);
  std::string code = code_of(created);
  owner->close();  // the joins' system messages would pile up unread

  // 1,499 accounts register and join, each on its own short connection.
  std::vector<Account> accounts(kMembers - 1);
  std::atomic<int> failures{0};
  std::mutex error_mutex;
  std::string first_error;
  {
    std::vector<std::thread> threads;
    for (int t = 0; t < kThreads; ++t) {
      threads.emplace_back([&, t] {
        for (int i = t; i < kMembers - 1; i += kThreads) {
          try {
            Client c(port());
            accounts[i] = c.register_user("bulk" + std::to_string(i));
            c.ok("open.join", JsonObj().set("code", code).set("profile", nick("회원" + std::to_string(i))));
          } catch (const std::exception& e) {
            if (failures++ == 0) {
              std::lock_guard lock(error_mutex);
              first_error = e.what();
            }
          }
        }
      });
    }
    for (auto& th : threads) th.join();
  }
  ASSERT_EQ(failures.load(), 0) << first_error;

  auto late = new_user("onetoomany");
  EXPECT_EQ(late->error("open.join", JsonObj().set("code", code).set("profile", nick("늦음"))), "room_full");

  // Everyone comes online.
  std::vector<std::unique_ptr<Client>> online(kMembers - 1);
  {
    std::vector<std::thread> threads;
    for (int t = 0; t < kThreads; ++t) {
      threads.emplace_back([&, t] {
        for (int i = t; i < kMembers - 1; i += kThreads) {
          try {
            online[i] = std::make_unique<Client>(port());
            online[i]->resume(accounts[i]);
          } catch (const std::exception& e) {
            if (failures++ == 0) {
              std::lock_guard lock(error_mutex);
              first_error = e.what();
            }
          }
        }
      });
    }
    for (auto& th : threads) th.join();
  }
  ASSERT_EQ(failures.load(), 0) << first_error;
  auto owner_again = resume(owner.account);
  JsonRef full = get_chat(*owner_again, chat);
  EXPECT_EQ(full["member_count"].i64(), kMembers);
  EXPECT_EQ(full["members"].size(), static_cast<std::size_t>(kMembers));
  EXPECT_EQ(full["open"]["member_count"].i64(), kMembers);

  JsonRef sent = send_text(*owner_again, chat, "모두에게 한 번씩");
  std::int64_t seq = sent["seq"].i64();
  EXPECT_EQ(sent["unread"].i64(), kMembers - 1);

  // Every online member gets it exactly once.
  std::atomic<int> missing{0}, duplicated{0};
  auto is_it = [&](const JsonRef& e) {
    return e["data"]["message"]["chat_id"].i64() == chat && e["data"]["message"]["seq"].i64() == seq;
  };
  auto deadline = std::chrono::steady_clock::now() + 30s;
  auto in_parallel = [&](const std::function<void(int)>& each) {
    std::vector<std::thread> threads;
    for (int t = 0; t < kThreads; ++t)
      threads.emplace_back([&, t] {
        for (int i = t; i < kMembers - 1; i += kThreads) each(i);
      });
    for (auto& th : threads) th.join();
  };
  in_parallel([&](int i) {
    auto left = std::chrono::duration_cast<Millis>(deadline - std::chrono::steady_clock::now());
    try {
      online[i]->expect_event_matching("message.new", is_it, std::max(left, Millis(1)));
    } catch (const std::exception&) {
      ++missing;
    }
  });
  std::this_thread::sleep_for(500ms);  // time for a second copy to arrive
  in_parallel([&](int i) {
    for (const auto& e : online[i]->events_within("message.new", 5ms))
      if (is_it(e)) ++duplicated;
  });
  EXPECT_EQ(missing.load(), 0) << "online members who never got the message";
  EXPECT_EQ(duplicated.load(), 0) << "second copies of the message";
  JsonRef own = owner_again->expect_event_matching("message.new", [&](const JsonRef& e) {
    return e["data"]["message"]["seq"].i64() == seq;
  });
  EXPECT_EQ(own["data"]["message"]["sender_id"].i64(), self_of(full));
}

}  // namespace
}  // namespace modu_it
