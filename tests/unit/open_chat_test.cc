// Open chats below the protocol: the n-gram search text and matching (Korean words with
// particles attached, English in any case), the room store with its FTS index, and the
// rank and permission rules staff act under.
#include <gtest/gtest.h>

#include "modu/store.h"
#include "services/openchat/open_chat_rules.h"
#include "services/openchat/search.h"
#include "test_support.h"

namespace modu {
namespace {

using openchat::index_terms;
using openchat::matches;
using openchat::query_terms;
using openchat::query_words;

TEST(OpenChatSearchTest, KoreanWordsMatchInsideWordsWithParticles) {
  std::string terms = index_terms("강남 독서모임에 오세요", "", {});
  auto has = [&](std::string_view gram) { return (" " + terms + " ").find(" " + std::string(gram) + " ") != std::string::npos; };
  EXPECT_TRUE(has("독서"));
  EXPECT_TRUE(has("모임"));
  EXPECT_TRUE(has("임에"));
  EXPECT_TRUE(has("독"));
  EXPECT_FALSE(has("남독"));  // pairs never cross a space
  EXPECT_TRUE(matches(query_words("독서"), "강남 독서모임에 오세요", "", {}));
  EXPECT_TRUE(matches(query_words("모임 강남"), "강남 독서모임에 오세요", "", {}));
  EXPECT_FALSE(matches(query_words("등산"), "강남 독서모임에 오세요", "", {}));
}

TEST(OpenChatSearchTest, EnglishIsCaseInsensitiveAndPunctuationSeparates) {
  EXPECT_EQ(query_words("  Rust, STUDY! "), (std::vector<std::string>{"rust", "study"}));
  EXPECT_TRUE(matches(query_words("rust study"), "Rust Study Group", "", {}));
  EXPECT_TRUE(matches(query_words("kotlin"), "Study", "we read books", {"Kotlin"}));
  EXPECT_FALSE(matches(query_words("rusty"), "Rust Study Group", "", {}));
  EXPECT_TRUE(query_words("!!! ... ").empty());
}

TEST(OpenChatSearchTest, QueryTermsArePairsOrTheSingleCharacter) {
  EXPECT_EQ(query_terms({"독서"}), (std::vector<std::string>{"독서"}));
  EXPECT_EQ(query_terms({"책"}), (std::vector<std::string>{"책"}));
  EXPECT_EQ(query_terms({"abc"}), (std::vector<std::string>{"ab", "bc"}));
  // Pairs of a word may occur apart in a room ("ab" and "bc" in "ab xbc"): matches() is
  // the final word.
  EXPECT_FALSE(matches({"abc"}, "ab xbc", "", {}));
}

TEST(OpenChatRulesTest, RanksAndPermissions) {
  MemberRecord owner{.role = MemberRole::kOwner};
  MemberRecord admin{.role = MemberRole::kAdmin, .permissions = kPermKick};
  MemberRecord member{.role = MemberRole::kMember, .permissions = kAllPermissions};
  EXPECT_TRUE(openchat::may(owner, kPermBan));
  EXPECT_TRUE(openchat::may(admin, kPermKick));
  EXPECT_FALSE(openchat::may(admin, kPermBan));
  EXPECT_FALSE(openchat::may(member, kPermKick));  // bits mean nothing without the role
  EXPECT_TRUE(openchat::outranks(owner, admin));
  EXPECT_TRUE(openchat::outranks(admin, member));
  EXPECT_FALSE(openchat::outranks(admin, admin));
  EXPECT_FALSE(openchat::outranks(member, owner));
}

// The room store, on both store backends (FTS5 in SQLite, a GIN-indexed terms array in
// PostgreSQL).
class OpenRoomsStoreTest : public ::testing::TestWithParam<test::Backend> {
 protected:
  OpenRoomsStoreTest() : db_(GetParam()), store_(db_.open()) {}

  ChatId add_room(const std::string& title, const std::string& description, std::int64_t members, bool listed) {
    ChatId id;
    EXPECT_TRUE(test::run_job(*store_, [&](WriteTx& tx) {
                  id = tx.insert_chat(ChatRecord{.kind = ChatKind::kOpen, .title = title, .created_at = 1,
                                                 .last_activity_at = 1}, std::nullopt);
                  RoomRecord room{.chat = id, .code = "code" + std::to_string(id.value), .description = description,
                                  .listed = listed, .member_count = members};
                  tx.open_rooms().insert_room(room, index_terms(title, description, {}));
                  return ok_status();
                }).ok());
    return id;
  }

  std::vector<ChatId> search(std::string_view query) {
    std::vector<ChatId> out;
    for (const auto& r : store_->reader().open_rooms().search(query_terms(query_words(query)), 10, 0))
      out.push_back(r.chat.id);
    return out;
  }

  test::TestDatabase db_;
  std::unique_ptr<Store> store_;
};

INSTANTIATE_TEST_SUITE_P(Backends, OpenRoomsStoreTest,
                         ::testing::Values(test::Backend::kSqlite, test::Backend::kSqliteOnLoop,
                                           test::Backend::kPostgres),
                         test::BackendName());

TEST_P(OpenRoomsStoreTest, SearchFindsListedRoomsMostMembersFirst) {
  ChatId small = add_room("독서모임", "", 3, true);
  ChatId big = add_room("주말 독서 클럽", "", 40, true);
  ChatId hidden = add_room("비밀 독서방", "", 99, false);
  add_room("Rust Study", "", 5, true);
  EXPECT_EQ(search("독서"), (std::vector<ChatId>{big, small}));
  EXPECT_EQ(search("STUDY").size(), 1u);
  EXPECT_TRUE(search("등산").empty());
  auto popular = store_->reader().open_rooms().popular(10, 0);
  ASSERT_EQ(popular.size(), 3u);  // the link-only room is never listed
  EXPECT_EQ(popular[0].chat.id, big);
  EXPECT_TRUE(store_->reader().open_rooms().room_by_code("code" + std::to_string(hidden.value)));
}

TEST_P(OpenRoomsStoreTest, UpdatingARoomReindexesIt) {
  ChatId id = add_room("독서모임", "", 1, true);
  ASSERT_TRUE(test::run_job(*store_, [&](WriteTx& tx) {
                auto room = tx.open_rooms().room(id);
                room->description = "hiking on weekends";
                tx.update_chat_title(id, "등산");
                tx.open_rooms().update_room(*room, index_terms("등산", room->description, {}));
                return ok_status();
              }).ok());
  EXPECT_TRUE(search("독서").empty());
  EXPECT_EQ(search("hiking"), (std::vector<ChatId>{id}));
  EXPECT_EQ(search("등산"), (std::vector<ChatId>{id}));
}

TEST_P(OpenRoomsStoreTest, MemberIdsAreHandedOutInOrder) {
  ChatId id = add_room("room", "", 0, true);
  std::vector<std::int64_t> ids;
  ASSERT_TRUE(test::run_job(*store_, [&](WriteTx& tx) {
                for (int i = 0; i < 3; ++i) ids.push_back(tx.open_rooms().next_public_id(id));
                return ok_status();
              }).ok());
  EXPECT_EQ(ids, (std::vector<std::int64_t>{1, 2, 3}));
}

}  // namespace
}  // namespace modu
