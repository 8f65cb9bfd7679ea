// The chat engine (src/services/chat/chat_engine.h) over a real store: every operation
// runs inside a write job on the committer thread, with the engine's flush and
// forget_all wired as the store's hooks, as the server does.
#include "services/chat/chat_engine.h"

#include <gtest/gtest.h>

#include <future>

#include "test_support.h"

namespace modu {
namespace {

using test::open_store;
using test::run_job;
using test::TempDir;

const UserId kAnn(1), kBo(2), kCho(3), kDan(4), kStranger(99);

void expect_same_member(const MemberRecord& a, const MemberRecord& b) {
  EXPECT_EQ(a.chat, b.chat);
  EXPECT_EQ(a.user, b.user);
  EXPECT_EQ(a.role, b.role) << "user " << a.user.value;
  EXPECT_EQ(a.joined_seq, b.joined_seq) << "user " << a.user.value;
  EXPECT_EQ(a.read_seq, b.read_seq) << "user " << a.user.value;
  EXPECT_EQ(a.active, b.active) << "user " << a.user.value;
  EXPECT_EQ(a.pos, b.pos) << "user " << a.user.value;
}

void expect_same_chat(const ChatRecord& a, const ChatRecord& b) {
  EXPECT_EQ(a.id, b.id);
  EXPECT_EQ(a.kind, b.kind);
  EXPECT_EQ(a.title, b.title);
  EXPECT_EQ(a.created_by, b.created_by);
  EXPECT_EQ(a.created_at, b.created_at);
  EXPECT_EQ(a.last_seq, b.last_seq);
  EXPECT_EQ(a.last_activity_at, b.last_activity_at);
  EXPECT_EQ(a.wide, b.wide);
}

class ChatEngineTest : public ::testing::Test {
 protected:
  ChatEngineTest() : store_(open_store(dir_.path())) {
    store_->set_hooks(CommitHooks{.before_commit = [this](WriteTx& tx) { engine_.flush(tx); },
                                  .after_abort = [this] { engine_.forget_all(); }});
  }
  ~ChatEngineTest() override {
    if (store_) store_->stop();
  }

  // Runs `fn` as a write job (on the committer thread, where the engine lives) and
  // expects it to commit.
  void job(const std::function<void(WriteTx&)>& fn) {
    Status s = run_job(*store_, [&](WriteTx& tx) {
      fn(tx);
      return ok_status();
    });
    ASSERT_TRUE(s.ok()) << s.error().message;
  }

  // A group of `members` created by the first one; returns its id.
  ChatId create_group(const std::vector<UserId>& members, TimeMs now = 100) {
    ChatId id;
    job([&](WriteTx& tx) {
      ChatRecord record{.kind = ChatKind::kGroup, .title = "주말 등산", .created_by = members.front(),
                        .created_at = now, .last_activity_at = now};
      id = engine_.create(tx, record, members, std::nullopt, tx.next_pos()).chat.id;
    });
    return id;
  }

  // Appends one message per sender, in one job; returns the seqs.
  std::vector<Seq> send(ChatId chat, const std::vector<UserId>& senders, TimeMs now = 1000) {
    std::vector<Seq> seqs;
    job([&](WriteTx& tx) {
      ChatState* state = engine_.load(tx, chat);
      ASSERT_NE(state, nullptr);
      for (UserId sender : senders) {
        Seq next = state->chat.last_seq + 1;
        seqs.push_back(engine_.append(tx, *state, sender, MessageKind::kText,
                                      "c" + std::to_string(sender.value) + "-" + std::to_string(next),
                                      "hello", 0, now++, tx.next_pos()).seq);
      }
    });
    return seqs;
  }

  // The engine's current view of a chat (copied out on the committer thread).
  ChatState snapshot(ChatId chat) {
    ChatState copy;
    job([&](WriteTx& tx) {
      ChatState* state = engine_.load(tx, chat);
      ASSERT_NE(state, nullptr);
      copy = *state;
    });
    return copy;
  }

  ReadView& reader() { return store_->reader(); }

  TempDir dir_;
  ChatEngine engine_;  // declared before the store: the store (and its hooks) go first
  std::unique_ptr<Store> store_;
};

TEST_F(ChatEngineTest, CreateGroup) {
  ChatId id;
  Pos pos = 0;
  std::vector<MemberRecord> members;
  std::vector<UserId> member_ids;
  bool stranger_is_member = true;
  job([&](WriteTx& tx) {
    pos = tx.next_pos();
    ChatRecord record{.kind = ChatKind::kGroup, .title = "등산", .created_by = kBo,
                      .created_at = 100, .last_activity_at = 100};
    ChatState& state = engine_.create(tx, record, {kCho, kAnn, kBo}, std::nullopt, pos);
    id = state.chat.id;
    members = state.members;
    member_ids = *state.member_ids;
    stranger_is_member = state.member(kStranger) != nullptr;
  });
  ASSERT_TRUE(id);
  ASSERT_EQ(members.size(), 3u);
  EXPECT_EQ(members[0].user, kAnn);  // sorted by user id
  EXPECT_EQ(members[1].user, kBo);
  EXPECT_EQ(members[2].user, kCho);
  EXPECT_EQ(members[1].role, MemberRole::kOwner);  // the creator
  EXPECT_EQ(members[0].role, MemberRole::kMember);
  EXPECT_EQ(member_ids, (std::vector<UserId>{kAnn, kBo, kCho}));
  EXPECT_FALSE(stranger_is_member);

  auto chat = reader().chat(id);
  ASSERT_TRUE(chat);
  EXPECT_EQ(chat->title, "등산");
  EXPECT_EQ(chat->kind, ChatKind::kGroup);
  EXPECT_EQ(chat->last_seq, 0);
  auto stored = reader().active_members(id);
  ASSERT_EQ(stored.size(), 3u);
  for (std::size_t i = 0; i < 3; ++i) {
    expect_same_member(stored[i], members[i]);
    EXPECT_EQ(stored[i].pos, pos);
  }
  EXPECT_EQ(reader().chat_list(kCho, 10, std::nullopt).size(), 1u);
  EXPECT_TRUE(reader().check_integrity().empty());
}

TEST_F(ChatEngineTest, LoadUnknownChatOrAsNonMember) {
  ChatId id = create_group({kAnn, kBo});
  bool unknown = false, non_member = false, member = false;
  job([&](WriteTx& tx) {
    unknown = engine_.load(tx, ChatId(id.value + 100)) == nullptr;
    non_member = engine_.load_for_member(tx, id, kStranger) == nullptr;
    member = engine_.load_for_member(tx, id, kBo) != nullptr;
  });
  EXPECT_TRUE(unknown);
  EXPECT_TRUE(non_member);
  EXPECT_TRUE(member);
}

TEST_F(ChatEngineTest, DirectChatIsFoundByKey) {
  ChatId id;
  job([&](WriteTx& tx) {
    ChatRecord record{.kind = ChatKind::kDirect, .created_by = kAnn, .created_at = 1, .last_activity_at = 1};
    id = engine_.create(tx, record, {kAnn, kBo}, std::string_view("1:2"), tx.next_pos()).chat.id;
  });
  EXPECT_EQ(reader().chat_by_direct_key("1:2"), std::optional<ChatId>(id));
  EXPECT_EQ(reader().chat(id)->kind, ChatKind::kDirect);
}

TEST_F(ChatEngineTest, AppendAssignsGapFreeSeqsAndMovesTheSendersReadPointer) {
  ChatId id = create_group({kAnn, kBo, kCho});
  EXPECT_EQ(send(id, {kAnn, kBo, kAnn}, 5000), (std::vector<Seq>{1, 2, 3}));
  ChatState s = snapshot(id);
  EXPECT_EQ(s.chat.last_seq, 3);
  EXPECT_EQ(s.chat.last_activity_at, 5002);
  EXPECT_EQ(s.member(kAnn)->read_seq, 3);
  EXPECT_EQ(s.member(kBo)->read_seq, 2);
  EXPECT_EQ(s.member(kCho)->read_seq, 0);
  // Unread counts: members whose pointer is below the seq.
  EXPECT_EQ(s.unread_count(1), 1);  // Cho
  EXPECT_EQ(s.unread_count(2), 1);  // Cho
  EXPECT_EQ(s.unread_count(3), 2);  // Bo and Cho
  EXPECT_EQ(s.unread_count(4), 3);

  // Next batch continues the sequence.
  EXPECT_EQ(send(id, {kCho}), (std::vector<Seq>{4}));
  auto stored = reader().messages_after(id, 0, 10);
  ASSERT_EQ(stored.size(), 4u);
  for (std::size_t i = 0; i < stored.size(); ++i) EXPECT_EQ(stored[i].seq, static_cast<Seq>(i + 1));
  EXPECT_EQ(stored[1].sender, kBo);
  EXPECT_EQ(stored[3].sender, kCho);
  EXPECT_TRUE(reader().check_integrity().empty());
}

TEST_F(ChatEngineTest, FlushWritesLastSeqReadPointersAndMemberPositions) {
  ChatId id = create_group({kAnn, kBo, kCho});
  Pos last_pos = 0;
  job([&](WriteTx& tx) {
    ChatState* s = engine_.load(tx, id);
    engine_.append(tx, *s, kBo, MessageKind::kText, "a", "x", 0, 7000, tx.next_pos());
    last_pos = tx.next_pos();
    engine_.append(tx, *s, kCho, MessageKind::kText, "b", "y", 1, 7001, last_pos);
    // Not flushed yet: the chat row is written once per batch, before commit.
    auto row = tx.chat(id);
    if (row && row->last_seq != 0) ADD_FAILURE() << "chat row written before flush";
  });
  auto chat = reader().chat(id);
  ASSERT_TRUE(chat);
  EXPECT_EQ(chat->last_seq, 2);
  EXPECT_EQ(chat->last_activity_at, 7001);
  EXPECT_EQ(reader().membership(id, kBo)->read_seq, 1);
  EXPECT_EQ(reader().membership(id, kCho)->read_seq, 2);
  EXPECT_EQ(reader().membership(id, kAnn)->read_seq, 0);
  for (const auto& m : reader().active_members(id)) EXPECT_EQ(m.pos, last_pos) << m.user.value;
  EXPECT_EQ(reader().current_pos(), last_pos);
  // Every member sees the chat as changed at the last position.
  for (UserId u : {kAnn, kBo, kCho}) {
    auto changed = reader().changed_chats(u, last_pos - 1, 10);
    ASSERT_EQ(changed.size(), 1u);
    EXPECT_EQ(changed[0].chat.last_seq, 2);
  }
  EXPECT_TRUE(reader().check_integrity().empty());
}

TEST_F(ChatEngineTest, BigChatsAreWideAndTheirSendsRewriteNoMembership) {
  std::vector<UserId> members;
  for (std::size_t i = 0; i < ChatEngine::kWideFrom; ++i) members.push_back(UserId(1000 + static_cast<std::int64_t>(i)));
  ChatId id = create_group(members);
  ASSERT_TRUE(reader().chat(id)->wide);
  const Pos created = reader().membership(id, members[5])->pos;

  // A send writes the chat row and the sender's read pointer; every member sees the change.
  Seq seq = send(id, {members[1]}).at(0);
  auto changed = reader().changed_chats(members[5], created, 10);
  ASSERT_EQ(changed.size(), 1u);
  const Pos sent = changed[0].me.pos;
  EXPECT_GT(sent, created);
  EXPECT_EQ(changed[0].chat.last_seq, seq);
  EXPECT_EQ(reader().membership(id, members[5])->pos, created) << "membership rewritten by a send";
  EXPECT_EQ(reader().membership(id, members[1])->read_seq, seq);
  EXPECT_TRUE(reader().check_integrity().empty());

  // Members leave. Between the thresholds the chat stays wide; below the lower one it is
  // narrow, and every membership carries the chat's last change.
  auto leave = [&](std::size_t from, std::size_t to) {
    job([&](WriteTx& tx) {
      ChatState* s = engine_.load(tx, id);
      for (std::size_t i = from; i < to; ++i) engine_.remove_member(tx, *s, members[i], tx.next_pos());
    });
  };
  const std::size_t keep_narrow = ChatEngine::kNarrowBelow - 1;
  leave(keep_narrow + 1, members.size());
  EXPECT_TRUE(reader().chat(id)->wide) << "at the lower threshold";
  EXPECT_TRUE(reader().check_integrity().empty());
  leave(keep_narrow, keep_narrow + 1);
  EXPECT_FALSE(reader().chat(id)->wide);
  auto active = reader().active_members(id);
  ASSERT_EQ(active.size(), keep_narrow);
  for (const auto& m : active) EXPECT_GT(m.pos, sent) << m.user.value;
  EXPECT_TRUE(reader().check_integrity().empty());

  // Narrow again: a send moves every member's own position.
  send(id, {members[2]});
  auto after = reader().changed_chats(members[5], active[0].pos, 10);
  ASSERT_EQ(after.size(), 1u);
  EXPECT_EQ(reader().membership(id, members[5])->pos, after[0].me.pos);
  EXPECT_TRUE(reader().check_integrity().empty());

  // And wide again only from the upper threshold.
  job([&](WriteTx& tx) {
    ChatState* s = engine_.load(tx, id);
    for (std::size_t i = keep_narrow; i < ChatEngine::kWideFrom - 1; ++i)
      engine_.add_member(tx, *s, members[i], MemberRole::kMember, tx.next_pos());
  });
  EXPECT_FALSE(reader().chat(id)->wide);
  job([&](WriteTx& tx) {
    ChatState* s = engine_.load(tx, id);
    engine_.add_member(tx, *s, members.back(), MemberRole::kMember, tx.next_pos());
  });
  EXPECT_TRUE(reader().chat(id)->wide);
  EXPECT_TRUE(reader().check_integrity().empty());
}

TEST_F(ChatEngineTest, ManyJobsInOneBatchCoalesce) {
  ChatId id = create_group({kAnn, kBo});
  // Hold the committer so that the sends below share one batch.
  std::promise<void> entered, release;
  store_->submit(WriteJob{[&](WriteTx&) {
                            entered.set_value();
                            release.get_future().wait();
                            return ok_status();
                          },
                          [](const Status&) {}});
  entered.get_future().wait();
  std::vector<std::promise<Status>> done(10);
  std::vector<Seq> seqs(10);
  std::vector<Pos> positions(10);
  for (int i = 0; i < 10; ++i) {
    store_->submit(WriteJob{[&, i](WriteTx& tx) {
                              ChatState* s = engine_.load_for_member(tx, id, i % 2 ? kBo : kAnn);
                              positions[i] = tx.next_pos();
                              seqs[i] = engine_.append(tx, *s, i % 2 ? kBo : kAnn, MessageKind::kText,
                                                       "m" + std::to_string(i), "t", 0, 100 + i, positions[i]).seq;
                              return ok_status();
                            },
                            test::fulfil(done[i])});
  }
  release.set_value();
  for (auto& d : done) ASSERT_TRUE(d.get_future().get().ok());
  for (int i = 0; i < 10; ++i) EXPECT_EQ(seqs[i], i + 1);
  EXPECT_EQ(reader().chat(id)->last_seq, 10);
  EXPECT_EQ(reader().membership(id, kAnn)->read_seq, 9);
  EXPECT_EQ(reader().membership(id, kBo)->read_seq, 10);
  for (const auto& m : reader().active_members(id)) EXPECT_EQ(m.pos, positions[9]);
  EXPECT_TRUE(reader().check_integrity().empty());
}

TEST_F(ChatEngineTest, AdvanceReadNeverMovesBack) {
  ChatId id = create_group({kAnn, kBo, kCho});
  send(id, {kAnn, kAnn, kAnn});
  bool to2 = false, back_to1 = true, again2 = true, stranger = true;
  Seq after = -1;
  job([&](WriteTx& tx) {
    ChatState* s = engine_.load(tx, id);
    to2 = engine_.advance_read(*s, kBo, 2, tx.next_pos());
    back_to1 = engine_.advance_read(*s, kBo, 1, tx.next_pos());
    again2 = engine_.advance_read(*s, kBo, 2, tx.next_pos());
    stranger = engine_.advance_read(*s, kStranger, 3, tx.next_pos());
    after = s->member(kBo)->read_seq;
  });
  EXPECT_TRUE(to2);
  EXPECT_FALSE(back_to1);
  EXPECT_FALSE(again2);
  EXPECT_FALSE(stranger);
  EXPECT_EQ(after, 2);
  EXPECT_EQ(reader().membership(id, kBo)->read_seq, 2);
  EXPECT_EQ(reader().membership(id, kCho)->read_seq, 0);
  EXPECT_EQ(snapshot(id).unread_count(3), 2);  // Bo (at 2) and Cho (at 0)
}

TEST_F(ChatEngineTest, AdvanceReadIsClampedToTheLastSeq) {
  ChatId id = create_group({kAnn, kBo});
  send(id, {kAnn, kAnn, kAnn});
  bool moved = false;
  Seq read = -1;
  job([&](WriteTx& tx) {
    ChatState* s = engine_.load(tx, id);
    moved = engine_.advance_read(*s, kBo, 1000, tx.next_pos());
    read = s->member(kBo)->read_seq;
  });
  EXPECT_TRUE(moved);
  EXPECT_EQ(read, 3);
  EXPECT_EQ(reader().membership(id, kBo)->read_seq, 3);
}

// Contract: "Returns false if it did not move." A reader already at the last seq who asks
// for a later one does not move.
// (advance_read clamps to last_seq before comparing.)
TEST_F(ChatEngineTest, AdvanceReadPastTheEndWhenAlreadyThereDoesNotMove) {
  ChatId id = create_group({kAnn, kBo});
  send(id, {kAnn, kAnn});
  bool moved = true;
  Seq read = -1;
  Pos member_pos_before = reader().membership(id, kBo)->pos;
  job([&](WriteTx& tx) {
    ChatState* s = engine_.load(tx, id);
    engine_.advance_read(*s, kBo, 2, tx.next_pos());
  });
  Pos pos_at_end = reader().membership(id, kBo)->pos;
  EXPECT_GT(pos_at_end, member_pos_before);
  job([&](WriteTx& tx) {
    ChatState* s = engine_.load(tx, id);
    moved = engine_.advance_read(*s, kBo, 5, tx.next_pos());
    read = s->member(kBo)->read_seq;
  });
  EXPECT_EQ(read, 2);
  EXPECT_FALSE(moved) << "advance_read reported a move from 2 to 2";
}

TEST_F(ChatEngineTest, AddMemberStartsAtTheLastSeq) {
  ChatId id = create_group({kAnn, kBo});
  send(id, {kAnn, kAnn});
  Pos pos = 0;
  std::vector<UserId> ids;
  std::int64_t unread_2 = -1, unread_3 = -1;
  job([&](WriteTx& tx) {
    ChatState* s = engine_.load(tx, id);
    pos = tx.next_pos();
    engine_.add_member(tx, *s, kCho, MemberRole::kMember, pos);
    ids = *s->member_ids;
    unread_2 = s->unread_count(2);
    unread_3 = s->unread_count(3);
  });
  EXPECT_EQ(ids, (std::vector<UserId>{kAnn, kBo, kCho}));
  EXPECT_EQ(unread_2, 1);  // Bo only: the newcomer does not count for older messages
  EXPECT_EQ(unread_3, 3);  // a message not sent yet: nobody has read it, Cho included
  auto m = reader().membership(id, kCho);
  ASSERT_TRUE(m);
  EXPECT_TRUE(m->active);
  EXPECT_EQ(m->joined_seq, 2);
  EXPECT_EQ(m->read_seq, 2);
  EXPECT_EQ(m->role, MemberRole::kMember);
  EXPECT_EQ(m->pos, pos);
  EXPECT_EQ(send(id, {kCho}), (std::vector<Seq>{3}));
  EXPECT_EQ(reader().membership(id, kCho)->read_seq, 3);
}

TEST_F(ChatEngineTest, RemoveMemberPersistsTheReadPointerAndLeaves) {
  ChatId id = create_group({kAnn, kBo, kCho});
  send(id, {kAnn, kAnn, kAnn});
  Pos left_at = 0;
  std::vector<UserId> ids;
  bool still_member = true;
  std::int64_t unread = -1;
  job([&](WriteTx& tx) {
    ChatState* s = engine_.load(tx, id);
    engine_.advance_read(*s, kBo, 2, tx.next_pos());  // pending in the same batch
    left_at = tx.next_pos();
    engine_.remove_member(tx, *s, kBo, left_at);
    ids = *s->member_ids;
    still_member = s->member(kBo) != nullptr;
    unread = s->unread_count(3);
  });
  EXPECT_EQ(ids, (std::vector<UserId>{kAnn, kCho}));
  EXPECT_FALSE(still_member);
  EXPECT_EQ(unread, 1);  // only Cho now
  auto m = reader().membership(id, kBo);
  ASSERT_TRUE(m);
  EXPECT_FALSE(m->active);
  EXPECT_EQ(m->read_seq, 2);
  EXPECT_EQ(m->pos, left_at);
  EXPECT_EQ(reader().active_members(id).size(), 2u);
  EXPECT_TRUE(reader().chat_list(kBo, 10, std::nullopt).empty());
  auto changed = reader().changed_chats(kBo, left_at - 1, 10);
  ASSERT_EQ(changed.size(), 1u);
  EXPECT_FALSE(changed[0].me.active);

  // A message after leaving does not touch the leaver.
  send(id, {kCho});
  EXPECT_EQ(reader().membership(id, kBo)->pos, left_at);
  EXPECT_EQ(reader().membership(id, kBo)->read_seq, 2);

  // Rejoining reactivates the membership from the current seq.
  job([&](WriteTx& tx) {
    ChatState* s = engine_.load(tx, id);
    engine_.add_member(tx, *s, kBo, MemberRole::kMember, tx.next_pos());
  });
  m = reader().membership(id, kBo);
  EXPECT_TRUE(m->active);
  EXPECT_EQ(m->joined_seq, 4);
  EXPECT_EQ(m->read_seq, 4);
  EXPECT_TRUE(reader().check_integrity().empty());
}

TEST_F(ChatEngineTest, RenameIsStored) {
  ChatId id = create_group({kAnn, kBo});
  Pos pos = 0;
  job([&](WriteTx& tx) {
    ChatState* s = engine_.load(tx, id);
    pos = tx.next_pos();
    engine_.rename(tx, *s, "새 이름", pos);
  });
  EXPECT_EQ(reader().chat(id)->title, "새 이름");
  EXPECT_EQ(snapshot(id).chat.title, "새 이름");
  EXPECT_EQ(reader().membership(id, kAnn)->pos, pos);
}

TEST_F(ChatEngineTest, ForgetAllThenReloadGivesTheSameState) {
  ChatId id = create_group({kAnn, kBo, kCho});
  send(id, {kAnn, kBo, kAnn});
  job([&](WriteTx& tx) {
    ChatState* s = engine_.load(tx, id);
    engine_.advance_read(*s, kCho, 1, tx.next_pos());
    engine_.add_member(tx, *s, kDan, MemberRole::kAdmin, tx.next_pos());
    engine_.rename(tx, *s, "renamed", tx.next_pos());
  });
  send(id, {kDan});
  job([&](WriteTx& tx) {
    ChatState* s = engine_.load(tx, id);
    engine_.remove_member(tx, *s, kBo, tx.next_pos());
  });

  ChatState before = snapshot(id);
  ChatState after;
  job([&](WriteTx& tx) {
    engine_.forget_all();
    ChatState* s = engine_.load(tx, id);
    ASSERT_NE(s, nullptr);
    after = *s;
  });
  expect_same_chat(after.chat, before.chat);
  ASSERT_EQ(after.members.size(), before.members.size());
  for (std::size_t i = 0; i < before.members.size(); ++i) expect_same_member(after.members[i], before.members[i]);
  ASSERT_TRUE(after.member_ids && before.member_ids);
  EXPECT_EQ(*after.member_ids, *before.member_ids);
  EXPECT_EQ(before.chat.last_seq, 4);
  EXPECT_EQ(before.member(kDan)->role, MemberRole::kAdmin);

  // The same after a restart with a fresh engine.
  store_->stop();
  store_.reset();
  ChatState reloaded;
  {
    ChatEngine fresh;
    auto store = open_store(dir_.path());
    Status s = run_job(*store, [&](WriteTx& tx) {
      ChatState* state = fresh.load(tx, id);
      if (!state) return Status(make_error(ErrorCode::kChatNotFound, "gone"));
      reloaded = *state;
      return ok_status();
    });
    store->stop();
    ASSERT_TRUE(s.ok());
  }
  expect_same_chat(reloaded.chat, before.chat);
  ASSERT_EQ(reloaded.members.size(), before.members.size());
  for (std::size_t i = 0; i < before.members.size(); ++i) expect_same_member(reloaded.members[i], before.members[i]);
  store_ = open_store(dir_.path());  // for the fixture's teardown
}

TEST_F(ChatEngineTest, AbortedBatchIsForgottenAndSeqsStayGapFree) {
  ChatId id = create_group({kAnn, kBo});
  EXPECT_EQ(send(id, {kAnn, kBo}), (std::vector<Seq>{1, 2}));
  Status s = run_job(*store_, [&](WriteTx& tx) -> Status {
    ChatState* state = engine_.load(tx, id);
    engine_.append(tx, *state, kAnn, MessageKind::kText, "lost", "lost", 0, 9, tx.next_pos());
    throw StorageError("simulated disk failure after the insert");
  });
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.error().code, ErrorCode::kUnavailable);
  EXPECT_FALSE(reader().message(id, 3));
  EXPECT_FALSE(reader().message_by_client_id(kAnn, "lost"));

  ChatState state = snapshot(id);  // reloaded from committed state
  EXPECT_EQ(state.chat.last_seq, 2);
  EXPECT_EQ(state.member(kAnn)->read_seq, 1);
  EXPECT_EQ(send(id, {kAnn}), (std::vector<Seq>{3}));
  EXPECT_TRUE(reader().check_integrity().empty());
}

// The counts a batch hands out (chat.read in big chats) must equal unread_count at every seq
// they cover, and cover every seq whose count the batch changed.
void expect_counts_match(const UnreadCounts& counts, const ChatState& chat, Seq from, Seq to) {
  ASSERT_FALSE(counts.steps.empty());
  EXPECT_EQ(counts.steps.front().first, from);
  EXPECT_EQ(counts.until_seq, to);
  std::size_t step = 0;
  for (Seq seq = from; seq <= to; ++seq) {
    while (step + 1 < counts.steps.size() && counts.steps[step + 1].first <= seq) ++step;
    EXPECT_EQ(counts.steps[step].second, chat.unread_count(seq)) << "seq " << seq;
  }
  for (std::size_t i = 1; i < counts.steps.size(); ++i) {
    EXPECT_LT(counts.steps[i - 1].first, counts.steps[i].first) << "steps ascend";
    EXPECT_LT(counts.steps[i - 1].second, counts.steps[i].second) << "each step is a change";
  }
}

TEST_F(ChatEngineTest, UnreadCountsCoverWhatABatchOfReadsSendsAndLeavesChanged) {
  const UserId kEun(5), kFin(6);
  ChatId id = create_group({kAnn, kBo, kCho, kDan, kEun, kFin});
  send(id, {kAnn, kAnn, kBo, kAnn, kCho, kAnn, kAnn, kAnn});  // seqs 1..8; Ann at 8, Bo 3, Cho 5
  // One batch: Bo reads to 6, Dan to 2, Eun to 7, then Cho sends seq 9 (so read up to 8).
  std::shared_ptr<const UnreadCounts> counts, untouched;
  job([&](WriteTx& tx) {
    ChatState* s = engine_.load(tx, id);
    untouched = engine_.unread_counts(*s);
    Pos pos = tx.next_pos();
    EXPECT_TRUE(engine_.advance_read(*s, kBo, 6, pos));
    EXPECT_TRUE(engine_.advance_read(*s, kDan, 2, pos));
    counts = engine_.unread_counts(*s);
    EXPECT_TRUE(engine_.advance_read(*s, kEun, 7, pos));
    engine_.append(tx, *s, kCho, MessageKind::kText, "cho-9", "x", 0, 9000, pos);
    EXPECT_EQ(engine_.unread_counts(*s), counts) << "one object per chat per batch";
  });
  EXPECT_EQ(untouched, nullptr) << "nothing had changed yet";
  ASSERT_NE(counts, nullptr);
  // Dan moved from 0 and Cho up to 8: seqs 1..8. Seq 9's count is in its message.new.
  ChatState s = snapshot(id);
  expect_counts_match(*counts, s, 1, 8);
  EXPECT_EQ(s.unread_count(1), 1) << "only Fin has read nothing";

  // A sender who had read everything before changes no other message's count.
  std::shared_ptr<const UnreadCounts> none;
  job([&](WriteTx& tx) {
    ChatState* s2 = engine_.load(tx, id);
    engine_.append(tx, *s2, kCho, MessageKind::kText, "cho-10", "x", 0, 9001, tx.next_pos());
    none = engine_.unread_counts(*s2);
  });
  EXPECT_EQ(none, nullptr);

  // A leaver who had read up to 2 no longer counts for seqs 3..10.
  job([&](WriteTx& tx) {
    ChatState* s3 = engine_.load(tx, id);
    engine_.remove_member(tx, *s3, kDan, tx.next_pos());
    counts = engine_.unread_counts(*s3);
  });
  ASSERT_NE(counts, nullptr);
  expect_counts_match(*counts, snapshot(id), 3, 10);
}

TEST_F(ChatEngineTest, PacedCountsAreHeldBackThenGoOutTogether) {
  using std::chrono::milliseconds;
  auto now = std::chrono::steady_clock::time_point() + std::chrono::hours(1);
  std::vector<std::pair<ChatId, milliseconds>> wakes;
  engine_.pace_counts(CountsPacing{.interval = milliseconds(200),
                                   .wake = [&](ChatId c, milliseconds d) { wakes.emplace_back(c, d); },
                                   .now = [&] { return now; }});
  ChatId id = create_group({kAnn, kBo, kCho, kDan});
  send(id, {kAnn, kAnn, kAnn});  // seqs 1..3, nobody else has read them
  auto read = [&](UserId who, Seq seq) {
    std::shared_ptr<const UnreadCounts> counts;
    job([&](WriteTx& tx) {
      ChatState* s = engine_.load(tx, id);
      EXPECT_TRUE(engine_.advance_read(*s, who, seq, tx.next_pos()));
      counts = engine_.unread_counts(*s);
    });
    return counts;
  };

  auto first = read(kBo, 2);
  ASSERT_NE(first, nullptr) << "a chat's first counts go out at once";
  expect_counts_match(*first, snapshot(id), 1, 2);
  EXPECT_TRUE(wakes.empty());

  now += milliseconds(50);
  EXPECT_EQ(read(kCho, 3), nullptr) << "held back: the last went out 50 ms ago";
  ASSERT_EQ(wakes.size(), 1u);
  EXPECT_EQ(wakes[0].first, id);
  EXPECT_EQ(wakes[0].second, milliseconds(150)) << "woken when the interval is up";
  now += milliseconds(50);
  EXPECT_EQ(read(kDan, 1), nullptr);
  EXPECT_EQ(wakes.size(), 1u) << "one wake per held-back stretch";

  // The wake's job: everything held back goes out in one event.
  now += milliseconds(110);
  std::shared_ptr<const UnreadCounts> released;
  job([&](WriteTx& tx) {
    ChatState* s = engine_.load(tx, id);
    engine_.release_paced_counts(*s);
    released = engine_.unread_counts(*s);
  });
  ASSERT_NE(released, nullptr);
  expect_counts_match(*released, snapshot(id), 1, 3);  // Cho's (0, 3] and Dan's (0, 1]

  now += milliseconds(10);
  EXPECT_EQ(read(kDan, 3), nullptr) << "the interval starts again at the release";
  ASSERT_EQ(wakes.size(), 2u);
  EXPECT_EQ(wakes[1].second, milliseconds(190));
  // A send after the interval carries what was held back with its own change.
  now += milliseconds(200);
  std::shared_ptr<const UnreadCounts> with_send;
  job([&](WriteTx& tx) {
    ChatState* s = engine_.load(tx, id);
    engine_.append(tx, *s, kBo, MessageKind::kText, "bo-4", "x", 0, 2000, tx.next_pos());
    with_send = engine_.unread_counts(*s);
  });
  ASSERT_NE(with_send, nullptr);
  expect_counts_match(*with_send, snapshot(id), 2, 3);  // Dan's (1, 3] and Bo's (2, 3]
}

TEST_F(ChatEngineTest, CountsCoverAtMostTheNewestWindowOfMessages) {
  ChatId id = create_group({kAnn, kBo, kCho});
  send(id, std::vector<UserId>(kCountsWindow + 40, kAnn));
  std::shared_ptr<const UnreadCounts> counts;
  job([&](WriteTx& tx) {
    ChatState* s = engine_.load(tx, id);
    EXPECT_TRUE(engine_.advance_read(*s, kBo, kCountsWindow + 40, tx.next_pos()));
    counts = engine_.unread_counts(*s);
  });
  ASSERT_NE(counts, nullptr);
  expect_counts_match(*counts, snapshot(id), 41, kCountsWindow + 40);
}

TEST_F(ChatEngineTest, SystemMessagesAndRepliesAreStoredAsGiven) {
  ChatId id = create_group({kAnn, kBo});
  send(id, {kAnn});
  job([&](WriteTx& tx) {
    ChatState* s = engine_.load(tx, id);
    engine_.append(tx, *s, kBo, MessageKind::kText, "r", "답장", 1, 50, tx.next_pos());
    engine_.append(tx, *s, kAnn, MessageKind::kSystem, "sys", R"({"type":"leave","user":2})", 0, 51, tx.next_pos());
  });
  auto reply = reader().message(id, 2);
  ASSERT_TRUE(reply);
  EXPECT_EQ(reply->reply_to, 1);
  EXPECT_EQ(reply->text, "답장");
  EXPECT_EQ(reply->client_id, "r");
  auto sys = reader().message(id, 3);
  ASSERT_TRUE(sys);
  EXPECT_EQ(sys->kind, MessageKind::kSystem);
  EXPECT_EQ(reader().message_by_client_id(kBo, "r")->seq, 2);
}

}  // namespace
}  // namespace modu
