// The cache of recent messages (storage/recent_messages.h): first on its own, then inside
// the embedded store, where every answer it gives must be the database's answer — checked
// against the database's own read after random batches, after a restart, and while a
// writer and a reader race.
#include "storage/recent_messages.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <map>
#include <random>
#include <thread>

#include "test_support.h"

namespace modu {
namespace {

using test::run_job;
using test::TempDir;

MessageRecord text_message(ChatId chat, Seq seq, Pos pos, std::string text = "") {
  return MessageRecord{.chat = chat, .seq = seq, .client_id = "c" + std::to_string(chat.value) + "." + std::to_string(seq), .sender = UserId(7),
                       .text = text.empty() ? "text of " + std::to_string(seq) : text,
                       .reply_to = seq > 1 ? seq - 1 : 0, .created_at = 1000 + seq, .pos = pos};
}

std::vector<Seq> seqs(const std::vector<MessageRecord>& ms) {
  std::vector<Seq> out;
  for (const auto& m : ms) out.push_back(m.seq);
  return out;
}

// Every field, so that a cached answer is compared with the database's whole.
void expect_same(const std::vector<MessageRecord>& got, const std::vector<MessageRecord>& want,
                 const std::string& what) {
  ASSERT_EQ(seqs(got), seqs(want)) << what;
  for (std::size_t i = 0; i < got.size(); ++i) {
    const MessageRecord& a = got[i];
    const MessageRecord& b = want[i];
    EXPECT_EQ(a.chat, b.chat) << what;
    EXPECT_EQ(a.client_id, b.client_id) << what;
    EXPECT_EQ(a.sender, b.sender) << what;
    EXPECT_EQ(a.kind, b.kind) << what;
    EXPECT_EQ(a.text, b.text) << what << ", seq " << a.seq;
    EXPECT_EQ(a.reply_to, b.reply_to) << what;
    EXPECT_EQ(a.created_at, b.created_at) << what;
    EXPECT_EQ(a.deleted, b.deleted) << what << ", seq " << a.seq;
    EXPECT_EQ(a.hidden, b.hidden) << what << ", seq " << a.seq;
    EXPECT_EQ(a.pos, b.pos) << what;
  }
}

// For batches whose chats need no read: each follows its cached part or starts at seq 1.
const RecentMessages::PositionOf no_reads = [](ChatId chat, Seq seq) -> std::optional<Pos> {
  ADD_FAILURE() << "unexpected read of chat " << chat.value << " seq " << seq;
  return std::nullopt;
};

// A batch's COMMIT, as the store brackets it.
void commit(RecentMessages& cache, RecentMessages::Changes& changes,
            const RecentMessages::PositionOf& position_of = no_reads) {
  cache.prepare(changes);
  cache.apply(changes, position_of);
}

// One batch of `n` messages into `chat` after `last`, each at its own position from `pos`,
// then the chat's new position, as the chat engine's flush records it.
void send(RecentMessages& cache, ChatId chat, Seq& last, Pos& pos, int n) {
  RecentMessages::Changes c;
  for (int i = 0; i < n; ++i) {
    ++last;
    ++pos;
    c.inserted(text_message(chat, last, pos));
  }
  c.chat_moved(chat, pos);
  commit(cache, c);
}

TEST(RecentMessagesTest, AnswersOnlyAtTheChatsExactPosition) {
  RecentMessages cache(1 << 20);
  ChatId chat(1);
  Seq last = 0;
  Pos pos = 0;
  send(cache, chat, last, pos, 5);
  auto got = cache.messages_since(chat, pos, 0, 100);
  ASSERT_TRUE(got);
  EXPECT_EQ(seqs(*got), (std::vector<Seq>{1, 2, 3, 4, 5}));
  EXPECT_EQ((*got)[2].text, "text of 3");
  EXPECT_EQ((*got)[2].client_id, "c1.3");
  EXPECT_EQ((*got)[2].reply_to, 2);
  EXPECT_EQ((*got)[2].pos, 3);
  // A view that sees the chat older or newer than the cache reads the database.
  EXPECT_FALSE(cache.messages_since(chat, pos - 1, 0, 100));
  EXPECT_FALSE(cache.messages_since(chat, pos + 1, 0, 100));
  EXPECT_FALSE(cache.messages_since(ChatId(2), pos, 0, 100));
  auto stats = cache.stats();
  EXPECT_EQ(stats.hits, 1);
  EXPECT_EQ(stats.misses, 3);
  EXPECT_EQ(stats.chats, 1);
  EXPECT_EQ(stats.messages, 5);
  EXPECT_GT(stats.bytes, 0);
}

TEST(RecentMessagesTest, AnswersTheSuffixAfterAPositionAndKeepsTheNewestUnderALimit) {
  RecentMessages cache(1 << 20);
  ChatId chat(1);
  Seq last = 0;
  Pos pos = 0;
  send(cache, chat, last, pos, 10);  // positions 1..10
  EXPECT_EQ(seqs(*cache.messages_since(chat, pos, 7, 100)), (std::vector<Seq>{8, 9, 10}));
  EXPECT_EQ(seqs(*cache.messages_since(chat, pos, 0, 3)), (std::vector<Seq>{8, 9, 10}));
  EXPECT_TRUE(cache.messages_since(chat, pos, 10, 100)->empty());
}

TEST(RecentMessagesTest, AChatTakenUpLaterAnswersOnlyWhatItHoldsAll) {
  RecentMessages cache(1 << 20);
  ChatId chat(1);
  // Messages 1..20 were stored before (say, before a restart), message 20 at position 40.
  std::vector<std::pair<ChatId, Seq>> reads;
  std::map<std::pair<ChatId, Seq>, Pos> stored{{{chat, 20}, 40}, {{chat, 29}, 59}};
  RecentMessages::PositionOf position_of = [&](ChatId c, Seq seq) -> std::optional<Pos> {
    reads.emplace_back(c, seq);
    auto it = stored.find({c, seq});
    return it == stored.end() ? std::nullopt : std::optional<Pos>(it->second);
  };
  RecentMessages::Changes c;
  c.inserted(text_message(chat, 21, 41));
  c.inserted(text_message(chat, 22, 42));  // follows 21: no read
  c.chat_moved(chat, 42);
  commit(cache, c, position_of);
  EXPECT_EQ(reads, (std::vector<std::pair<ChatId, Seq>>{{chat, 20}}));
  EXPECT_EQ(seqs(*cache.messages_since(chat, 42, 40, 100)), (std::vector<Seq>{21, 22}));
  EXPECT_EQ(seqs(*cache.messages_since(chat, 42, 41, 100)), (std::vector<Seq>{22}));
  // Since 39, message 20 is missing: unless the limit is met by what it holds.
  EXPECT_FALSE(cache.messages_since(chat, 42, 39, 100));
  EXPECT_EQ(seqs(*cache.messages_since(chat, 42, 39, 2)), (std::vector<Seq>{21, 22}));
  // After a gap (another writer's messages in between), the chat starts over from the new one.
  RecentMessages::Changes e;
  e.inserted(text_message(chat, 30, 60));
  e.chat_moved(chat, 60);
  commit(cache, e, position_of);
  EXPECT_EQ(reads.back(), (std::pair<ChatId, Seq>{chat, 29}));
  EXPECT_EQ(seqs(*cache.messages_since(chat, 60, 59, 100)), (std::vector<Seq>{30}));
  EXPECT_FALSE(cache.messages_since(chat, 60, 42, 100));  // 23..29 are not held
  // Without the position before it (none read), a chat is not taken up at all.
  RecentMessages::Changes d;
  d.inserted(text_message(ChatId(2), 5, 50));
  d.chat_moved(ChatId(2), 50);
  commit(cache, d, position_of);
  EXPECT_FALSE(cache.messages_since(ChatId(2), 50, 49, 1));
  EXPECT_EQ(cache.stats().chats, 1);
}

TEST(RecentMessagesTest, AnswersAPageBeforeASeqWhenItHoldsThePageOrTheWholeChat) {
  RecentMessages cache(64 << 20);
  ChatId chat(1);
  Seq last = 0;
  Pos pos = 0;
  send(cache, chat, last, pos, 10);  // seqs 1..10 at positions 1..10
  EXPECT_EQ(seqs(*cache.messages_before(chat, pos, INT64_MAX, 3)), (std::vector<Seq>{8, 9, 10}));
  EXPECT_EQ(seqs(*cache.messages_before(chat, pos, 8, 2)), (std::vector<Seq>{6, 7}));
  // Fewer than asked, but the chat from its first message: that is all there is.
  EXPECT_EQ(seqs(*cache.messages_before(chat, pos, 5, 100)), (std::vector<Seq>{1, 2, 3, 4}));
  EXPECT_TRUE(cache.messages_before(chat, pos, 1, 50)->empty());
  EXPECT_TRUE(cache.messages_before(chat, pos, 9, 0)->empty());
  EXPECT_FALSE(cache.messages_before(chat, pos, 9, -1));  // "no limit" is the database's
  EXPECT_FALSE(cache.messages_before(chat, pos - 1, INT64_MAX, 3));  // another state
  EXPECT_FALSE(cache.messages_before(ChatId(2), pos, INT64_MAX, 3));

  // Past kMaxPerChat, the oldest are dropped: a page that reaches below them is not held.
  send(cache, chat, last, pos, 240);  // seqs 1..250; 51..250 held
  EXPECT_EQ(seqs(*cache.messages_before(chat, pos, 60, 9)),
            (std::vector<Seq>{51, 52, 53, 54, 55, 56, 57, 58, 59}));
  EXPECT_FALSE(cache.messages_before(chat, pos, 60, 10));
  EXPECT_FALSE(cache.messages_before(chat, pos, 40, 5));
  auto newest = cache.messages_before(chat, pos, INT64_MAX, 51);
  ASSERT_TRUE(newest);
  EXPECT_EQ(newest->front().seq, 200);
  EXPECT_EQ(newest->back().seq, 250);
  EXPECT_EQ(newest->back().text, "text of 250");
}

TEST(RecentMessagesTest, KeepsTheNewestMessagesOfAChatAndKnowsWhereTheyStart) {
  RecentMessages cache(64 << 20);
  ChatId chat(1);
  Seq last = 0;
  Pos pos = 0;
  send(cache, chat, last, pos, 250);  // positions 1..250
  EXPECT_EQ(cache.stats().messages, static_cast<std::int64_t>(RecentMessages::kMaxPerChat));
  auto all = cache.messages_since(chat, pos, 50, 200);  // 51..250: exactly what it holds
  ASSERT_TRUE(all);
  EXPECT_EQ(all->front().seq, 51);
  EXPECT_EQ(all->size(), 200u);
  EXPECT_FALSE(cache.messages_since(chat, pos, 49, 201));  // 50 was dropped
  EXPECT_EQ(cache.messages_since(chat, pos, 0, 200)->front().seq, 51);  // the newest 200
}

TEST(RecentMessagesTest, DeletionsAndHidingAreKeptAsTheStoreKeepsThem) {
  RecentMessages cache(1 << 20);
  ChatId chat(1);
  Seq last = 0;
  Pos pos = 0;
  send(cache, chat, last, pos, 4);
  RecentMessages::Changes c;
  c.deleted(chat, 2);
  c.hidden(chat, 3, true);
  c.chat_moved(chat, ++pos);
  commit(cache, c);
  auto got = cache.messages_since(chat, pos, 0, 10);
  ASSERT_TRUE(got);
  EXPECT_TRUE((*got)[1].deleted);
  EXPECT_EQ((*got)[1].text, "");           // the text is gone
  EXPECT_EQ((*got)[1].client_id, "c1.2");  // the client id stays
  EXPECT_TRUE((*got)[2].hidden);
  EXPECT_EQ((*got)[2].text, "text of 3");  // withheld, kept for review
  RecentMessages::Changes d;
  d.hidden(chat, 3, false);
  d.chat_moved(chat, ++pos);
  commit(cache, d);
  EXPECT_FALSE((*cache.messages_since(chat, pos, 0, 10))[2].hidden);
}

TEST(RecentMessagesTest, AMessageChangeWithoutANewChatPositionMakesTheChatUnknown) {
  RecentMessages cache(1 << 20);
  ChatId chat(1);
  Seq last = 0;
  Pos pos = 0;
  send(cache, chat, last, pos, 3);
  RecentMessages::Changes c;
  c.chat_moved(chat, pos + 1);
  c.deleted(chat, 1);  // after the chat's last new position
  cache.prepare(c);
  // Before COMMIT already: a reader that sees the old position must not get the old text
  // once the deletion is visible.
  EXPECT_FALSE(cache.messages_since(chat, pos, 0, 10));
  cache.apply(c, no_reads);
  EXPECT_FALSE(cache.messages_since(chat, pos, 0, 10));
  EXPECT_FALSE(cache.messages_since(chat, pos + 1, 0, 10));
  // The next batch that moves the chat makes it known again, with every change applied.
  RecentMessages::Changes d;
  d.chat_moved(chat, pos + 2);
  commit(cache, d);
  auto got = cache.messages_since(chat, pos + 2, 0, 10);
  ASSERT_TRUE(got);
  EXPECT_TRUE(got->front().deleted);
}

TEST(RecentMessagesTest, ARolledBackJobLeavesNoTrace) {
  RecentMessages cache(1 << 20);
  ChatId chat(1);
  RecentMessages::Changes c;
  c.inserted(text_message(chat, 1, 1));
  std::size_t mark = c.mark();
  c.inserted(text_message(chat, 2, 2, "rolled back"));
  c.deleted(chat, 1);
  c.roll_back_to(mark);
  c.inserted(text_message(chat, 2, 3, "the retry"));
  c.chat_moved(chat, 3);
  commit(cache, c);
  auto got = cache.messages_since(chat, 3, 0, 10);
  ASSERT_TRUE(got);
  EXPECT_EQ(seqs(*got), (std::vector<Seq>{1, 2}));
  EXPECT_FALSE(got->front().deleted);
  EXPECT_EQ(got->back().text, "the retry");
  EXPECT_EQ(got->back().pos, 3);
}

TEST(RecentMessagesTest, StaysWithinItsBudgetDroppingTheChatsWrittenLeastRecently) {
  constexpr std::size_t kBudget = 256 << 10;
  RecentMessages cache(kBudget);
  std::map<ChatId, Pos> chat_pos;
  Pos pos = 0;
  for (std::int64_t id = 1; id <= 200; ++id) {
    Seq last = 0;
    send(cache, ChatId(id), last, pos, 30);
    chat_pos[ChatId(id)] = pos;
  }
  auto stats = cache.stats();
  EXPECT_LE(stats.bytes, static_cast<std::int64_t>(kBudget));
  EXPECT_GT(stats.chats, 0);
  EXPECT_LT(stats.chats, 200);
  // The last chats written are kept whole; the first are gone.
  auto newest = cache.messages_since(ChatId(200), chat_pos[ChatId(200)], 0, 30);
  ASSERT_TRUE(newest);
  EXPECT_EQ(newest->size(), 30u);
  EXPECT_FALSE(cache.messages_since(ChatId(1), chat_pos[ChatId(1)], 0, 30));
}

TEST(RecentMessagesTest, ForgetsChatsAndKeepsNothingWithoutABudget) {
  RecentMessages cache(1 << 20);
  Seq last = 0;
  Pos pos = 0;
  send(cache, ChatId(1), last, pos, 2);
  cache.forget({ChatId(1)});
  EXPECT_FALSE(cache.messages_since(ChatId(1), pos, 0, 10));
  EXPECT_EQ(cache.stats().chats, 0);
  EXPECT_EQ(cache.stats().bytes, 0);

  RecentMessages none(0);
  last = 0;
  send(none, ChatId(1), last, pos, 2);
  EXPECT_FALSE(none.messages_since(ChatId(1), pos, 0, 10));
  EXPECT_EQ(none.stats().chats, 0);
}

// --- inside the embedded store -----------------------------------------------------------

// A store with chats of one member, written the way the chat engine writes them: messages,
// deletions and hides in jobs, each touched chat's last seq and position once per batch.
class CachedStoreTest : public ::testing::TestWithParam<test::Backend> {
 protected:
  CachedStoreTest() : db_(GetParam()), store_(db_.open()) {}

  void SetUp() override {
    ASSERT_TRUE(run_job(*store_, [&](WriteTx& tx) {
                  user_ = tx.insert_user(UserRecord{.handle = "writer", .display_name = "w", .created_at = 1}, "h");
                  for (int i = 0; i < kChats; ++i) {
                    ChatId id = tx.insert_chat(ChatRecord{.created_by = user_, .created_at = 1}, std::nullopt);
                    tx.upsert_member(MemberRecord{.chat = id, .user = user_, .pos = tx.next_pos()});
                    chats_.push_back(id);
                    last_[id] = 0;
                  }
                  return ok_status();
                }).ok());
  }

  // One batch of random changes; `fail_one` adds a job that writes, then fails.
  void random_batch(std::mt19937& rng, bool fail_one) {
    std::vector<std::promise<Status>> outcomes(fail_one ? 4 : 3);
    std::map<ChatId, Pos> moved;
    auto job = [&](bool fail) {
      return [this, &rng, &moved, fail](WriteTx& tx) -> Status {
        ChatId chat = chats_[rng() % chats_.size()];
        Seq& last = last_[chat];
        int sends = static_cast<int>(rng() % 4);
        Seq was = last;
        for (int i = 0; i < sends; ++i) {
          Pos p = tx.next_pos();
          tx.insert_message(text_message(chat, ++last, p, "m" + std::to_string(rng())));
          moved[chat] = p;
        }
        if (last > 0 && rng() % 3 == 0) {
          Seq target = 1 + static_cast<Seq>(rng() % static_cast<std::uint64_t>(last));
          Pos p = tx.next_pos();
          switch (rng() % 3) {
            case 0: tx.mark_message_deleted(chat, target, p); break;
            case 1: tx.set_message_hidden(chat, target, true, p); break;
            default: tx.set_message_hidden(chat, target, false, p); break;
          }
          moved[chat] = p;
        }
        if (fail) {
          last = was;  // rolled back with the job's savepoint
          return make_error(ErrorCode::kBadRequest, "a job that fails after writing");
        }
        return ok_status();
      };
    };
    for (std::size_t i = 0; i < outcomes.size(); ++i) {
      bool fail = fail_one && i == 1;
      auto apply = job(fail);
      // A failed job's positions are skipped, but its chats must not be moved.
      store_->submit(WriteJob{[&, apply, fail](WriteTx& tx) -> Status {
                                auto before = moved;
                                Status s = apply(tx);
                                if (fail) moved = before;
                                return s;
                              },
                              test::fulfil(outcomes[i])});
    }
    // The engine's flush, as the last job of the batch (jobs of one submission share it or
    // follow it; either way each chat's position is written after its changes).
    std::promise<Status> flushed;
    store_->submit(WriteJob{[&](WriteTx& tx) {
                              for (auto [chat, p] : moved) tx.update_chat_last(chat, last_[chat], 2000, p);
                              moved.clear();
                              return ok_status();
                            },
                            test::fulfil(flushed)});
    for (std::size_t i = 0; i < outcomes.size(); ++i)
      EXPECT_EQ(outcomes[i].get_future().get().ok(), !(fail_one && i == 1)) << "job " << i;
    ASSERT_TRUE(flushed.get_future().get().ok());
  }

  // Up to `limit` messages of `chat` with seq < before, from the database: the whole chat
  // through messages_after, which the cache never answers, cut to the page.
  static std::vector<MessageRecord> stored_before(ReadView& r, ChatId chat, Seq before, std::int64_t limit) {
    auto all = r.messages_after(chat, 0, INT64_MAX);
    std::erase_if(all, [&](const MessageRecord& m) { return m.seq >= before; });
    if (static_cast<std::int64_t>(all.size()) > limit) all.erase(all.begin(), all.end() - limit);
    return all;
  }

  // messages_since and messages_before (the cache when it can) against the database.
  void check_one(ReadView& r, ChatId chat, Pos since, Seq before, std::int64_t limit, const std::string& when) {
    std::string what = when + ": chat " + std::to_string(chat.value) + " limit " + std::to_string(limit);
    auto newest = stored_before(r, chat, INT64_MAX, limit);
    std::erase_if(newest, [&](const MessageRecord& m) { return m.pos <= since; });
    expect_same(r.messages_since(chat, since, limit), newest, what + " since " + std::to_string(since));
    expect_same(r.messages_before(chat, before, limit), stored_before(r, chat, before, limit),
                what + " before " + std::to_string(before));
  }

  void check_all(std::mt19937& rng, const std::string& when) {
    ReadView& r = store_->reader();
    ReadSnapshot snapshot(r);
    Pos now = r.current_pos();
    for (ChatId chat : chats_) {
      for (int k = 0; k < 3; ++k) {
        Pos since = static_cast<Pos>(rng() % static_cast<std::uint64_t>(now + 1));
        Seq last = last_[chat];
        Seq before = k == 0 ? INT64_MAX : 1 + static_cast<Seq>(rng() % static_cast<std::uint64_t>(last + 2));
        std::int64_t limit = 1 + static_cast<std::int64_t>(rng() % 60);
        check_one(r, chat, since, before, limit, when);
        if (HasFatalFailure()) return;
      }
    }
  }

  static constexpr int kChats = 6;
  test::TestDatabase db_;
  std::unique_ptr<Store> store_;
  UserId user_;
  std::vector<ChatId> chats_;
  std::map<ChatId, Seq> last_;
};

INSTANTIATE_TEST_SUITE_P(Embedded, CachedStoreTest,
                         ::testing::Values(test::Backend::kSqlite, test::Backend::kSqliteOnLoop),
                         test::BackendName());

TEST_P(CachedStoreTest, AnswersAsTheDatabaseDoesAfterRandomBatches) {
  std::mt19937 rng(20261205);
  for (int batch = 0; batch < 120; ++batch) {
    random_batch(rng, batch % 7 == 3);
    check_all(rng, "after batch " + std::to_string(batch));
    if (HasFatalFailure()) return;
  }
  auto stats = store_->recent_messages();
  EXPECT_GT(stats.hits, stats.misses) << "the cache answered most reads";
  EXPECT_GT(stats.messages, 0);
  EXPECT_TRUE(store_->reader().check_integrity().empty());
}

TEST_P(CachedStoreTest, AfterARestartChatsAreTakenUpFromTheirNextMessage) {
  std::mt19937 rng(7);
  for (int batch = 0; batch < 20; ++batch) random_batch(rng, false);
  store_->stop();
  store_.reset();
  store_ = db_.open();
  EXPECT_EQ(store_->recent_messages().chats, 0);
  check_all(rng, "after the restart");  // from the database
  for (int batch = 0; batch < 20; ++batch) {
    random_batch(rng, false);
    check_all(rng, "after batch " + std::to_string(batch) + " since the restart");
    if (HasFatalFailure()) return;
  }
  EXPECT_GT(store_->recent_messages().hits, 0);
}

TEST_P(CachedStoreTest, AReaderRacingTheWriterAlwaysGetsWhatItsSnapshotHolds) {
  std::atomic<bool> done{false};
  std::atomic<int> checks{0};
  std::thread reader([&] {
    std::mt19937 rng(99);
    ReadView& r = store_->reader();
    while (!done.load()) {
      ReadSnapshot snapshot(r);
      ChatId chat = chats_[rng() % chats_.size()];
      Pos since = static_cast<Pos>(rng() % static_cast<std::uint64_t>(r.current_pos() + 1));
      Seq before = rng() % 2 ? INT64_MAX : 1 + static_cast<Seq>(rng() % 300);
      check_one(r, chat, since, before, 50, "racing");
      if (HasFailure()) return;
      checks.fetch_add(1);
    }
  });
  std::mt19937 rng(5);
  for (int batch = 0; batch < 300 && !HasFailure(); ++batch) random_batch(rng, batch % 11 == 5);
  done = true;
  reader.join();
  EXPECT_GT(checks.load(), 0);
  EXPECT_GT(store_->recent_messages().hits, 0);
}

TEST(CachedStoreOptionsTest, NoBudgetKeepsNothingAndAnswersFromTheDatabase) {
  TempDir dir;
  auto store = test::open_store(SqliteOptions{.directory = dir.str(), .recent_messages_bytes = 0});
  ChatId chat;
  ASSERT_TRUE(run_job(*store, [&](WriteTx& tx) {
                UserId u = tx.insert_user(UserRecord{.handle = "u", .display_name = "u", .created_at = 1}, "h");
                chat = tx.insert_chat(ChatRecord{.created_by = u, .created_at = 1}, std::nullopt);
                Pos p = tx.next_pos();
                tx.insert_message(text_message(chat, 1, p));
                tx.update_chat_last(chat, 1, 1001, p);
                return ok_status();
              }).ok());
  EXPECT_EQ(seqs(store->reader().messages_since(chat, 0, 10)), (std::vector<Seq>{1}));
  EXPECT_EQ(seqs(store->reader().messages_before(chat, INT64_MAX, 10)), (std::vector<Seq>{1}));
  auto stats = store->recent_messages();
  EXPECT_EQ(stats.hits + stats.misses, 0);
  EXPECT_EQ(stats.chats, 0);
}

}  // namespace
}  // namespace modu
