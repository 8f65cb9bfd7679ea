// The PostgreSQL store split into shards (store.h, "Shards"; ids.h): two databases of the
// test instance as shards 0 and 1 of one store. Ids carry their shard, rows live where their
// ids say and reads route there (or ask every shard and merge), each shard commits its own
// part of a batch with its own positions (chaining across nodes), a failing, lost or
// cross-shard-writing part fails only its own jobs, friends span shards, and a database
// refuses to serve as another shard number than it recorded.
#include <gtest/gtest.h>
#include <libpq-fe.h>

#include <algorithm>
#include <atomic>
#include <future>
#include <map>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "common/pg_database.h"
#include "modu/store.h"
#include "test_support.h"

namespace modu {
namespace {

using modu_testing::PgTestDatabase;
using test::Gate;

// Runs one statement on `dsn` and returns its first column of the first row as an integer.
std::int64_t pg_count(const std::string& dsn, const std::string& sql) {
  PGconn* conn = PQconnectdb(dsn.c_str());
  if (PQstatus(conn) != CONNECTION_OK) {
    std::string message = PQerrorMessage(conn);
    PQfinish(conn);
    throw std::runtime_error("cannot connect: " + message);
  }
  PGresult* r = PQexec(conn, sql.c_str());
  if (PQresultStatus(r) != PGRES_TUPLES_OK) {
    std::string message = PQresultErrorMessage(r);
    PQclear(r);
    PQfinish(conn);
    throw std::runtime_error(sql + ": " + message);
  }
  std::int64_t value = PQntuples(r) > 0 ? std::stoll(PQgetvalue(r, 0, 0)) : 0;
  PQclear(r);
  PQfinish(conn);
  return value;
}

Result<std::unique_ptr<Store>> open_shards(const std::vector<std::string>& dsns) {
  PostgresOptions options{.dsn = dsns.at(0)};
  options.more_shards.assign(dsns.begin() + 1, dsns.end());
  return open_postgres_store(options);
}

Status run_on(Store& store, std::int64_t placement, std::function<Status(WriteTx&)> apply) {
  std::promise<Status> outcome;
  auto future = outcome.get_future();
  store.submit(WriteJob{std::move(apply), [&outcome](const Status& s) { outcome.set_value(s); }, placement});
  return future.get();
}

// What the hooks saw, from the committer thread.
struct ShardHookLog {
  std::mutex mu;
  std::vector<std::tuple<int, Pos, Pos>> parts;  // (shard, from, to) of every batch part
  int aborts = 0;

  CommitHooks hooks() {
    return CommitHooks{.after_abort =
                           [this] {
                             std::lock_guard lock(mu);
                             ++aborts;
                           },
                       .before_done = [this](int shard, Pos from, Pos to) {
                         std::lock_guard lock(mu);
                         parts.emplace_back(shard, from, to);
                       }};
  }
};

class PostgresShardStoreTest : public ::testing::Test {
 protected:
  PostgresShardStoreTest() : a_("modu_shard"), b_("modu_shard") {
    auto store = open_shards({a_.dsn(), b_.dsn()});
    if (!store.ok()) throw std::runtime_error("open: " + store.error().message);
    store_ = std::move(store).value();
  }
  ~PostgresShardStoreTest() override {
    if (store_) store_->stop();
  }

  // A handle whose account the store places on `shard`.
  std::string handle_on(int shard, const std::string& prefix) {
    for (int i = 0;; ++i) {
      std::string handle = prefix + std::to_string(i);
      if (shard_of_id(store_->new_user_placement(handle)) == shard) return handle;
    }
  }

  UserId add_user(const std::string& handle, const std::string& name = "name") {
    UserId id;
    EXPECT_TRUE(run_on(*store_, store_->new_user_placement(handle), [&](WriteTx& tx) {
                  id = tx.insert_user(UserRecord{.handle = handle, .display_name = name, .created_at = 1},
                                      "hash-" + handle);
                  return ok_status();
                }).ok());
    return id;
  }

  // A group chat on `creator`'s home shard with these members, last active at `activity`.
  ChatId add_chat(UserId creator, const std::vector<UserId>& members, TimeMs activity) {
    ChatId id;
    EXPECT_TRUE(run_on(*store_, creator.value, [&](WriteTx& tx) {
                  Pos pos = tx.next_pos();
                  id = tx.insert_chat(ChatRecord{.kind = ChatKind::kGroup, .title = "t", .created_by = creator,
                                                 .created_at = activity, .last_activity_at = activity},
                                      std::nullopt);
                  for (UserId m : members) tx.upsert_member(MemberRecord{.chat = id, .user = m, .pos = pos});
                  tx.update_chat_last(id, 0, activity, pos);
                  return ok_status();
                }).ok());
    return id;
  }

  Status send(ChatId chat, UserId sender, Seq seq, const std::string& client_id) {
    return run_on(*store_, chat.value, [&](WriteTx& tx) {
      Pos pos = tx.next_pos();
      tx.insert_message(MessageRecord{.chat = chat, .seq = seq, .client_id = client_id, .sender = sender,
                                      .text = "hi", .created_at = 10});
      tx.update_chat_last(chat, seq, 10 + seq, pos);
      tx.touch_members(chat, pos);
      return ok_status();
    });
  }

  PgTestDatabase a_, b_;
  std::unique_ptr<Store> store_;
};

TEST_F(PostgresShardStoreTest, IdsCarryTheShardOfTheirPlacement) {
  ReadView& r = store_->reader();
  EXPECT_EQ(r.shard_count(), 2);
  UserId zero = add_user(handle_on(0, "zero")), one = add_user(handle_on(1, "one"));
  EXPECT_EQ(shard_of(zero), 0);
  EXPECT_EQ(zero.value, 1);  // shard 0 keeps plain counts
  EXPECT_EQ(shard_of(one), 1);
  EXPECT_EQ(one.value, first_id_of_shard(1));
  EXPECT_EQ(r.home_shard(one), 1);

  ChatId chat = add_chat(one, {one, zero}, 100);
  EXPECT_EQ(shard_of(chat), 1);
  EXPECT_EQ(shard_of(add_chat(zero, {zero}, 100)), 0);

  // Every other id of the schema too: devices, and the open chat records.
  std::int64_t device = 0, application = 0, ban = 0, report = 0, audit = 0;
  ASSERT_TRUE(run_on(*store_, one.value, [&](WriteTx& tx) {
                device = tx.insert_device(DeviceRecord{.user = one, .name = "pc"}, "token-one").value;
                return ok_status();
              }).ok());
  ASSERT_TRUE(run_on(*store_, chat.value, [&](WriteTx& tx) {
                tx.open_rooms().insert_room(RoomRecord{.chat = chat, .code = "room-one"}, "ro om");
                application = tx.open_rooms().insert_application(
                    ApplicationRecord{.chat = chat, .user = zero, .answers_json = "{}"});
                ban = tx.open_rooms().insert_ban(BanRecord{.chat = chat, .user = zero, .by = one});
                report = tx.open_rooms().insert_report(ReportRecord{.chat = chat, .reporter = one, .target = zero});
                audit = tx.open_rooms().insert_audit(AuditRecord{.chat = chat, .action = "x", .detail_json = "{}"});
                return ok_status();
              }).ok());
  for (std::int64_t id : {device, application, ban, report, audit}) EXPECT_EQ(id, first_id_of_shard(1));
  EXPECT_EQ(r.device_by_id(DeviceId(device))->user, one);
  EXPECT_EQ(r.open_rooms().application(application)->user, zero);
  EXPECT_EQ(r.open_rooms().ban_by_id(ban)->user, zero);
  EXPECT_EQ(r.open_rooms().report(report)->target, zero);
  EXPECT_EQ(r.open_rooms().room_by_code("room-one")->chat, chat);  // asks every shard
  EXPECT_EQ(r.open_rooms().applications_of(zero, 10).size(), 1u);
  EXPECT_EQ(r.open_rooms().reports_against(zero), 1);

  // Placement is a stable hash of the handle.
  EXPECT_EQ(store_->new_user_placement("someone"), store_->new_user_placement("someone"));
}

TEST_F(PostgresShardStoreTest, AChatsRowsLiveOnItsShardAndReadsRouteThere) {
  UserId zero = add_user(handle_on(0, "zero")), one = add_user(handle_on(1, "one"));
  ChatId chat = add_chat(one, {one, zero}, 100);
  ASSERT_EQ(shard_of(chat), 1);
  ASSERT_TRUE(send(chat, zero, 1, "c1").ok());
  ASSERT_TRUE(send(chat, one, 2, "c2").ok());

  EXPECT_EQ(pg_count(b_.dsn(), "SELECT count(*) FROM messages"), 2);
  EXPECT_EQ(pg_count(b_.dsn(), "SELECT count(*) FROM members"), 2);
  EXPECT_EQ(pg_count(a_.dsn(), "SELECT count(*) FROM messages"), 0);
  EXPECT_EQ(pg_count(a_.dsn(), "SELECT count(*) FROM chats"), 0);
  EXPECT_EQ(pg_count(a_.dsn(), "SELECT count(*) FROM users"), 1);

  ReadView& r = store_->reader();
  EXPECT_EQ(r.chat(chat)->last_seq, 2);
  EXPECT_EQ(r.active_members(chat).size(), 2u);
  EXPECT_TRUE(r.membership(chat, zero));
  EXPECT_EQ(r.messages_after(chat, 0, 10).size(), 2u);
  EXPECT_EQ(r.messages_before(chat, 3, 10).size(), 2u);
  EXPECT_EQ(r.message(chat, 1)->sender, zero);
  EXPECT_EQ(r.message_by_client_id(zero, "c1")->seq, 1);  // asks every shard
  EXPECT_FALSE(r.chat(ChatId(first_id_of_shard(7))));   // beyond the map: absent, not an error
  EXPECT_EQ(r.stats().messages, 2);
  EXPECT_EQ(r.stats().users, 2);
  EXPECT_TRUE(r.check_integrity().empty());

  std::string one_handle = r.user_by_id(one)->handle;
  // Inside a job on shard 0: rows of shard 1 are read through shard 1, the batch's own
  // writes through the transaction; a client id is looked up on the job's shard only.
  ASSERT_TRUE(run_on(*store_, zero.value, [&](WriteTx& tx) {
                EXPECT_EQ(tx.shard(), 0);
                EXPECT_EQ(tx.user_by_id(one)->id, one);
                EXPECT_EQ(tx.message(chat, 2)->sender, one);
                EXPECT_EQ(tx.user_by_handle(one_handle)->id, one);
                EXPECT_FALSE(tx.message_by_client_id(zero, "c1"));
                tx.update_profile(UserRecord{.id = zero, .display_name = "new", .profile_pos = tx.next_pos()});
                EXPECT_EQ(tx.user_by_id(zero)->display_name, "new");
                return ok_status();
              }).ok());
  ASSERT_TRUE(run_on(*store_, chat.value, [&](WriteTx& tx) {
                EXPECT_EQ(tx.shard(), 1);
                EXPECT_EQ(tx.message_by_client_id(zero, "c1")->seq, 1);
                return ok_status();
              }).ok());
}

TEST_F(PostgresShardStoreTest, FanOutReadsMergeAcrossShards) {
  std::string h0 = handle_on(0, "zero"), h1 = handle_on(1, "one");
  UserId zero = add_user(h0), one = add_user(h1), two = add_user(handle_on(1, "two"));
  ReadView& r = store_->reader();
  EXPECT_EQ(r.user_by_handle(h1)->id, one);
  EXPECT_EQ(r.user_by_handle(h0)->id, zero);
  EXPECT_EQ(r.credentials_by_handle(h1)->password_hash, "hash-" + h1);
  EXPECT_FALSE(r.user_by_handle("nobody"));

  ASSERT_TRUE(run_on(*store_, one.value, [&](WriteTx& tx) {
                tx.insert_device(DeviceRecord{.user = one, .name = "pc"}, "token-one");
                return ok_status();
              }).ok());
  ASSERT_TRUE(run_on(*store_, zero.value, [&](WriteTx& tx) {
                tx.insert_device(DeviceRecord{.user = zero, .name = "pc"}, "token-zero");
                return ok_status();
              }).ok());
  EXPECT_EQ(r.session_by_token_hash("token-one")->device.user, one);
  EXPECT_EQ(r.session_by_token_hash("token-zero")->user.id, zero);  // the user, from the same shard
  EXPECT_EQ(r.devices_of(one).size(), 1u);

  // list_users pages by id across shards.
  auto all = r.list_users(10, UserId());
  ASSERT_EQ(all.size(), 3u);
  EXPECT_EQ(all[0].id, zero);
  EXPECT_EQ(all[1].id, one);
  EXPECT_EQ(all[2].id, two);
  auto page = r.list_users(1, zero);
  ASSERT_EQ(page.size(), 1u);
  EXPECT_EQ(page[0].id, one);
  EXPECT_EQ(r.list_users(5, one).size(), 1u);
  auto some = r.users_by_ids({two, UserId(999), zero});
  ASSERT_EQ(some.size(), 2u);  // in the order asked, missing ones left out
  EXPECT_EQ(some[0].id, two);
  EXPECT_EQ(some[1].id, zero);

  // chat_list merges every shard by (last activity, id), newest first, and pages.
  ChatId c0a = add_chat(zero, {zero}, 100), c1a = add_chat(one, {one, zero}, 300);
  ChatId c0b = add_chat(zero, {zero}, 200), c1b = add_chat(one, {one, zero}, 50);
  ChatId c1c = add_chat(one, {one, zero}, 200);  // ties with c0b: the higher id first
  auto ids = [](const std::vector<ChatListEntry>& list) {
    std::vector<ChatId> out;
    for (const auto& e : list) out.push_back(e.chat.id);
    return out;
  };
  EXPECT_EQ(ids(r.chat_list(zero, 10, std::nullopt)), (std::vector<ChatId>{c1a, c1c, c0b, c0a, c1b}));
  auto first = r.chat_list(zero, 2, std::nullopt);
  EXPECT_EQ(ids(first), (std::vector<ChatId>{c1a, c1c}));
  auto second = r.chat_list(zero, 2, ChatListCursor{first.back().chat.last_activity_at, first.back().chat.id});
  EXPECT_EQ(ids(second), (std::vector<ChatId>{c0b, c0a}));
  EXPECT_EQ(ids(r.chat_list(one, 10, std::nullopt)), (std::vector<ChatId>{c1a, c1c, c1b}));

  // Friend owners on every shard.
  ASSERT_TRUE(run_on(*store_, zero.value, [&](WriteTx& tx) {
                tx.add_friend(zero, two, tx.next_pos(), 1);
                return ok_status();
              }).ok());
  ASSERT_TRUE(run_on(*store_, one.value, [&](WriteTx& tx) {
                tx.add_friend(one, two, tx.next_pos(), 1);
                return ok_status();
              }).ok());
  auto owners = r.friend_owners_of(two);
  EXPECT_EQ(std::set<UserId>(owners.begin(), owners.end()), (std::set<UserId>{zero, one}));
  EXPECT_TRUE(r.is_friend(one, two));
  EXPECT_FALSE(r.is_friend(two, one));

  // A snapshot pins both shards.
  {
    ReadSnapshot snapshot(r);
    EXPECT_EQ(r.chat_list(zero, 10, std::nullopt).size(), 5u);
    add_chat(one, {zero}, 400);
    EXPECT_EQ(r.chat_list(zero, 10, std::nullopt).size(), 5u);
  }
  EXPECT_EQ(r.chat_list(zero, 10, std::nullopt).size(), 6u);
}

TEST_F(PostgresShardStoreTest, EachShardCommitsItsPartWithItsOwnPositions) {
  UserId zero = add_user(handle_on(0, "zero")), one = add_user(handle_on(1, "one"));
  ChatId c0 = add_chat(zero, {zero}, 1), c1 = add_chat(one, {one}, 1);
  store_->stop();
  store_.reset();
  auto reopened = open_shards({a_.dsn(), b_.dsn()});
  ASSERT_TRUE(reopened.ok());
  store_ = std::move(reopened).value();
  ShardHookLog log;
  store_->set_hooks(log.hooks());
  ReadView& r = store_->reader();
  Pos p0 = r.current_pos(0), p1 = r.current_pos(1);
  EXPECT_EQ(p0, 1);
  EXPECT_EQ(p1, 1);

  Gate gate;
  store_->submit(gate.job());
  gate.wait_entered();
  std::vector<std::promise<Status>> outcomes(6);
  std::vector<int> done_order;
  std::mutex mu;
  // Interleaved: shard 1, 0, 1, 0, 1, 0; each takes two positions of its shard.
  for (int i = 0; i < 6; ++i) {
    ChatId chat = i % 2 == 0 ? c1 : c0;
    store_->submit(WriteJob{[chat](WriteTx& tx) {
                              EXPECT_EQ(tx.shard(), shard_of(chat));
                              tx.next_pos();
                              Pos pos = tx.next_pos();
                              EXPECT_EQ(tx.current_pos(tx.shard()), pos);
                              tx.touch_members(chat, pos);
                              return ok_status();
                            },
                            [&, i](const Status& s) {
                              {
                                std::lock_guard lock(mu);
                                done_order.push_back(i);
                              }
                              outcomes[static_cast<std::size_t>(i)].set_value(s);
                            },
                            chat.value});
  }
  gate.release();
  for (auto& o : outcomes) EXPECT_TRUE(o.get_future().get().ok());

  std::lock_guard lock(log.mu);
  // The gate's batch (shard 0, no positions), then one part per shard, shard 0 first.
  ASSERT_EQ(log.parts.size(), 3u);
  EXPECT_EQ(log.parts[0], std::make_tuple(0, p0, p0));
  EXPECT_EQ(log.parts[1], std::make_tuple(0, p0, p0 + 6));
  EXPECT_EQ(log.parts[2], std::make_tuple(1, p1, p1 + 6));
  // Each part's callbacks in submission order, part after part.
  EXPECT_EQ(done_order, (std::vector<int>{1, 3, 5, 0, 2, 4}));
  EXPECT_EQ(r.current_pos(0), p0 + 6);
  EXPECT_EQ(r.current_pos(1), p1 + 6);
  EXPECT_EQ(r.changed_chats(1, one, p1, 10).size(), 1u);
  EXPECT_EQ(r.changed_chats(0, one, 0, 10).size(), 0u);
  EXPECT_EQ(pg_count(a_.dsn(), "SELECT value FROM meta WHERE key = 'pos'"), p0 + 6);
  EXPECT_EQ(pg_count(b_.dsn(), "SELECT value FROM meta WHERE key = 'pos'"), p1 + 6);
}

TEST_F(PostgresShardStoreTest, AFailingPartFailsOnlyItsShardsJobs) {
  UserId zero = add_user(handle_on(0, "zero")), one = add_user(handle_on(1, "one"));
  ChatId c0 = add_chat(zero, {zero}, 1), c1 = add_chat(one, {one}, 1);
  Gate gate;
  store_->submit(gate.job());
  gate.wait_entered();
  std::promise<Status> ok0, broken0, ok1, refused1;
  store_->submit(WriteJob{[&](WriteTx& tx) {
                            tx.update_chat_title(c0, "lost with its part");
                            return ok_status();
                          },
                          test::fulfil(ok0), c0.value});
  store_->submit(WriteJob{[&](WriteTx&) -> Status { throw StorageError("disk on fire"); },
                          test::fulfil(broken0), c0.value});
  store_->submit(WriteJob{[&](WriteTx& tx) {
                            tx.update_chat_title(c1, "kept");
                            return ok_status();
                          },
                          test::fulfil(ok1), c1.value});
  store_->submit(WriteJob{[&](WriteTx& tx) -> Status {
                            tx.update_chat_title(c1, "rolled back");
                            return make_error(ErrorCode::kForbidden, "no");
                          },
                          test::fulfil(refused1), c1.value});
  gate.release();
  EXPECT_EQ(ok0.get_future().get().error().code, ErrorCode::kUnavailable);
  EXPECT_EQ(broken0.get_future().get().error().code, ErrorCode::kUnavailable);
  EXPECT_TRUE(ok1.get_future().get().ok());
  EXPECT_EQ(refused1.get_future().get().error().code, ErrorCode::kForbidden);
  ReadView& r = store_->reader();
  EXPECT_EQ(r.chat(c0)->title, "t");
  EXPECT_EQ(r.chat(c1)->title, "kept");
  EXPECT_TRUE(store_->unavailable_reason().empty());
  // The failed shard goes on with its next batch.
  EXPECT_TRUE(run_on(*store_, c0.value, [&](WriteTx& tx) {
                tx.update_chat_title(c0, "again");
                return ok_status();
              }).ok());
  EXPECT_EQ(r.chat(c0)->title, "again");
}

TEST_F(PostgresShardStoreTest, ACrossShardWriteThrowsAndFailsItsPart) {
  UserId zero = add_user(handle_on(0, "zero")), one = add_user(handle_on(1, "one"));
  ChatId c0 = add_chat(zero, {zero}, 1), c1 = add_chat(one, {one, zero}, 1);
  ShardHookLog log;
  store_->stop();
  store_.reset();
  store_ = std::move(open_shards({a_.dsn(), b_.dsn()})).value();
  store_->set_hooks(log.hooks());

  Gate gate;
  store_->submit(gate.job());
  gate.wait_entered();
  std::promise<Status> same_part, cross, other_shard;
  std::string what;
  store_->submit(WriteJob{[&](WriteTx& tx) {
                            tx.update_chat_title(c0, "same part");
                            return ok_status();
                          },
                          test::fulfil(same_part), zero.value});
  store_->submit(WriteJob{[&](WriteTx& tx) -> Status {
                            try {
                              tx.insert_message(MessageRecord{.chat = c1, .seq = 1, .client_id = "x",
                                                              .sender = zero, .text = "hi"});
                            } catch (const StorageError& e) {
                              what = e.what();
                              throw;
                            }
                            return ok_status();
                          },
                          test::fulfil(cross), zero.value});
  store_->submit(WriteJob{[&](WriteTx& tx) {
                            tx.update_chat_title(c1, "other shard");
                            return ok_status();
                          },
                          test::fulfil(other_shard), one.value});
  gate.release();
  EXPECT_EQ(same_part.get_future().get().error().code, ErrorCode::kUnavailable);
  EXPECT_EQ(cross.get_future().get().error().code, ErrorCode::kUnavailable);
  EXPECT_TRUE(other_shard.get_future().get().ok());
  EXPECT_NE(what.find("cross-shard write"), std::string::npos) << what;
  ReadView& r = store_->reader();
  EXPECT_FALSE(r.message(c1, 1));
  EXPECT_EQ(r.chat(c0)->title, "t");
  EXPECT_EQ(r.chat(c1)->title, "other shard");
  {
    std::lock_guard lock(log.mu);
    EXPECT_EQ(log.aborts, 1);
    ASSERT_EQ(log.parts.size(), 3u);
    EXPECT_EQ(std::get<0>(log.parts[1]), 0);
    EXPECT_EQ(std::get<1>(log.parts[1]), std::get<2>(log.parts[1]));  // failed: from == to
    EXPECT_EQ(std::get<0>(log.parts[2]), 1);
  }

  // Other cross-shard writes: a profile, a device, a friend edge, an open room row.
  for (auto write : std::vector<std::function<void(WriteTx&)>>{
           [&](WriteTx& tx) { tx.update_profile(UserRecord{.id = one, .display_name = "x"}); },
           [&](WriteTx& tx) { tx.insert_device(DeviceRecord{.user = one}, "t"); },
           [&](WriteTx& tx) { tx.add_friend(one, zero, tx.next_pos(), 1); },
           [&](WriteTx& tx) { tx.open_rooms().set_last_send(c1, zero, 5); },
           [&](WriteTx& tx) { tx.open_rooms().set_saved_nickname(one, SavedNickname{"n", ""}); }}) {
    EXPECT_EQ(run_on(*store_, zero.value, [&](WriteTx& tx) {
                write(tx);
                return ok_status();
              }).error().code,
              ErrorCode::kUnavailable);
  }
}

TEST_F(PostgresShardStoreTest, APlacementBeyondTheMapRunsOnShardZeroAndFindsNothing) {
  ChatId made_up(first_id_of_shard(7) + 5);  // say, a client's guess
  Status status = run_on(*store_, made_up.value, [&](WriteTx& tx) -> Status {
    EXPECT_EQ(tx.shard(), 0);
    if (!tx.chat(made_up) && !tx.membership(made_up, UserId(1)) && tx.active_members(made_up).empty())
      return make_error(ErrorCode::kChatNotFound, "no such chat");
    return ok_status();
  });
  EXPECT_EQ(status.error().code, ErrorCode::kChatNotFound);
  EXPECT_EQ(run_on(*store_, -1, [&](WriteTx& tx) {
              tx.update_chat_title(made_up, "x");  // a write of a row beyond the map
              return ok_status();
            }).error().code,
            ErrorCode::kUnavailable);
}

TEST_F(PostgresShardStoreTest, ALostShardFailsOnlyItsJobsAndReconnects) {
  UserId zero = add_user(handle_on(0, "zero")), one = add_user(handle_on(1, "one"));
  ChatId c0 = add_chat(zero, {zero}, 1), c1 = add_chat(one, {one}, 1);
  ReadView& r = store_->reader();
  ASSERT_TRUE(r.chat(c1));
  EXPECT_EQ(store_->unavailable_reason(), "");

  // Shard 1's server drops every connection (a restart or failover).
  modu_testing::pg_run(b_.dsn(),
                       "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                       "WHERE datname = current_database() AND pid <> pg_backend_pid()");
  auto rename = [&](ChatId chat, const std::string& title) {
    return run_on(*store_, chat.value, [chat, title](WriteTx& tx) {
      tx.update_chat_title(chat, title);
      return ok_status();
    });
  };
  Status lost = rename(c1, "lost");
  EXPECT_EQ(lost.error().code, ErrorCode::kUnavailable);
  EXPECT_NE(store_->unavailable_reason().find("shard 1: database unreachable"), std::string::npos)
      << store_->unavailable_reason();
  EXPECT_EQ(store_->unavailable_reason().find("shard 0"), std::string::npos);
  EXPECT_TRUE(rename(c0, "fine").ok());  // shard 0 goes on meanwhile
  EXPECT_THROW(r.chat(c1), StorageError);  // the read met the loss
  EXPECT_EQ(r.chat(c0)->title, "fine");

  // After its backoff, shard 1 reconnects; so does the view.
  Status again = rename(c1, "again");
  for (int i = 0; i < 50 && !again.ok(); ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
    again = rename(c1, "again");
  }
  EXPECT_TRUE(again.ok());
  EXPECT_EQ(store_->unavailable_reason(), "");
  EXPECT_EQ(r.chat(c1)->title, "again");
}

TEST_F(PostgresShardStoreTest, BatchesOfSeveralNodesChainPerShard) {
  static constexpr int kNodes = 2, kJobsPerNode = 200;
  UserId owners[2] = {add_user(handle_on(0, "zero")), add_user(handle_on(1, "one"))};
  std::vector<std::unique_ptr<Store>> nodes;
  std::vector<std::unique_ptr<ShardHookLog>> logs;
  for (int i = 0; i < kNodes; ++i) {
    auto node = open_shards({a_.dsn(), b_.dsn()});
    ASSERT_TRUE(node.ok());
    nodes.push_back(std::move(node).value());
    logs.push_back(std::make_unique<ShardHookLog>());
    nodes.back()->set_hooks(logs.back()->hooks());
  }
  // Every job takes a position of its shard (alternating shards) and leaves a friend edge.
  std::vector<std::thread> writers;
  std::atomic<int> failed{0};
  for (int n = 0; n < kNodes; ++n)
    writers.emplace_back([&, n] {
      std::vector<std::promise<Status>> outcomes(kJobsPerNode);
      for (int j = 0; j < kJobsPerNode; ++j) {
        UserId owner = owners[j % 2];
        nodes[static_cast<std::size_t>(n)]->submit(
            WriteJob{[owner, n, j](WriteTx& tx) {
                       Pos pos = tx.next_pos();
                       tx.add_friend(owner, UserId(1000 + n * kJobsPerNode + j), pos, pos);
                       return ok_status();
                     },
                     test::fulfil(outcomes[static_cast<std::size_t>(j)]), owner.value});
      }
      for (auto& o : outcomes)
        if (!o.get_future().get().ok()) failed.fetch_add(1);
    });
  for (auto& w : writers) w.join();
  for (auto& node : nodes) node->stop();
  EXPECT_EQ(failed.load(), 0);

  for (int shard = 0; shard < 2; ++shard) {
    std::vector<std::pair<Pos, Pos>> all;
    for (auto& log : logs)
      for (auto [k, from, to] : log->parts)
        if (k == shard && from != to) all.emplace_back(from, to);
    std::sort(all.begin(), all.end());
    ASSERT_FALSE(all.empty());
    EXPECT_EQ(all.front().first, 0);
    for (std::size_t i = 1; i < all.size(); ++i)
      EXPECT_EQ(all[i].first, all[i - 1].second) << "shard " << shard << ": batch " << i << " does not chain";
    EXPECT_EQ(all.back().second, kNodes * kJobsPerNode / 2);
    EXPECT_EQ(store_->reader().current_pos(shard), kNodes * kJobsPerNode / 2);
  }
  EXPECT_EQ(pg_count(a_.dsn(), "SELECT count(*) FROM friends"), kNodes * kJobsPerNode / 2);
  EXPECT_EQ(pg_count(b_.dsn(), "SELECT count(*) FROM friends"), kNodes * kJobsPerNode / 2);
  EXPECT_TRUE(store_->reader().check_integrity().empty());
}

TEST_F(PostgresShardStoreTest, FriendChangesSpanShards) {
  UserId owner = add_user(handle_on(0, "owner"));
  UserId far = add_user(handle_on(1, "far"), "b far");    // on the other shard
  UserId near = add_user(handle_on(0, "near"), "a near");  // on the owner's shard
  ASSERT_EQ(shard_of(far), 1);
  ASSERT_EQ(shard_of(near), 0);
  ASSERT_TRUE(run_on(*store_, owner.value, [&](WriteTx& tx) {
                Pos pos = tx.next_pos();
                tx.add_friend(owner, far, pos, 1);
                tx.add_friend(owner, near, pos, 1);
                return ok_status();
              }).ok());
  ReadView& r = store_->reader();
  auto friends = r.friends_of(owner);
  ASSERT_EQ(friends.size(), 2u);
  EXPECT_EQ(friends[0].id, near);  // by display name
  EXPECT_EQ(friends[1].id, far);
  EXPECT_TRUE(r.friend_changes(owner, Cursor{}, Cursor{r.current_pos(0), r.current_pos(1)}).size() == 2);

  auto cursor = [&] { return Cursor{r.current_pos(0), r.current_pos(1)}; };
  Cursor c0 = cursor();
  // The far friend changes their profile on their own shard: no edge of the owner moves,
  // the change is found by profile_pos on shard 1.
  ASSERT_TRUE(run_on(*store_, far.value, [&](WriteTx& tx) {
                Pos pos = tx.next_pos();
                tx.update_profile(UserRecord{.id = far, .display_name = "b far 2", .profile_pos = pos});
                tx.touch_friend_edges_to(far, pos);
                return ok_status();
              }).ok());
  Cursor c1 = cursor();
  EXPECT_EQ(c1[0], c0[0]);
  EXPECT_GT(c1[1], c0[1]);
  auto changes = r.friend_changes(owner, c0, c1);
  ASSERT_EQ(changes.size(), 1u);
  EXPECT_EQ(changes[0].profile.id, far);
  EXPECT_EQ(changes[0].profile.display_name, "b far 2");
  EXPECT_FALSE(changes[0].removed);
  EXPECT_TRUE(r.friend_changes(owner, c1, c1).empty());
  EXPECT_TRUE(r.friend_changes(owner, c1, cursor()).empty());

  // The near friend's profile: the touched edge and profile_pos both say so; reported once.
  ASSERT_TRUE(run_on(*store_, near.value, [&](WriteTx& tx) {
                Pos pos = tx.next_pos();
                tx.update_profile(UserRecord{.id = near, .display_name = "a near 2", .profile_pos = pos});
                tx.touch_friend_edges_to(near, pos);
                return ok_status();
              }).ok());
  Cursor c2 = cursor();
  changes = r.friend_changes(owner, c1, c2);
  ASSERT_EQ(changes.size(), 1u);
  EXPECT_EQ(changes[0].profile.id, near);

  // Removing the far friend: the edge on the owner's home shard says so.
  ASSERT_TRUE(run_on(*store_, owner.value, [&](WriteTx& tx) {
                EXPECT_TRUE(tx.remove_friend(owner, far, tx.next_pos()));
                return ok_status();
              }).ok());
  Cursor c3 = cursor();
  changes = r.friend_changes(owner, c2, c3);
  ASSERT_EQ(changes.size(), 1u);
  EXPECT_EQ(changes[0].profile.id, far);
  EXPECT_TRUE(changes[0].removed);
  // A later profile change of a removed friend is not the owner's business.
  ASSERT_TRUE(run_on(*store_, far.value, [&](WriteTx& tx) {
                tx.update_profile(UserRecord{.id = far, .display_name = "b far 3", .profile_pos = tx.next_pos()});
                return ok_status();
              }).ok());
  EXPECT_TRUE(r.friend_changes(owner, c3, cursor()).empty());
  EXPECT_EQ(r.friends_of(owner).size(), 1u);
  // Everything since the start: each friend once.
  changes = r.friend_changes(owner, Cursor{}, cursor());
  EXPECT_EQ(changes.size(), 2u);
}

TEST_F(PostgresShardStoreTest, ADatabaseServesOnlyAsTheShardItRecorded) {
  add_user(handle_on(1, "one"));
  store_->stop();
  store_.reset();
  auto swapped = open_shards({b_.dsn(), a_.dsn()});
  ASSERT_FALSE(swapped.ok());
  EXPECT_NE(swapped.error().message.find(b_.name() + " is shard 1 of the map, not shard 0"), std::string::npos)
      << swapped.error().message;

  // A database with data from before the shard map can only be shard 0.
  PgTestDatabase old("modu_shard");
  {
    auto single = open_shards({old.dsn()});
    ASSERT_TRUE(single.ok());
    ASSERT_TRUE(run_on(*single.value(), 0, [&](WriteTx& tx) {
                  tx.insert_user(UserRecord{.handle = "old", .display_name = "o"}, "h");
                  return ok_status();
                }).ok());
    single.value()->stop();
  }
  {
    // (forget its recorded number, as a database from an older build would have none)
    PGconn* conn = PQconnectdb(old.dsn().c_str());
    PQclear(PQexec(conn, "DELETE FROM meta WHERE key = 'shard'"));
    PQfinish(conn);
  }
  auto as_one = open_shards({a_.dsn(), old.dsn()});
  ASSERT_FALSE(as_one.ok());
  EXPECT_NE(as_one.error().message.find("can only be shard 0"), std::string::npos) << as_one.error().message;

  // Appending a shard: the old ones keep their data, the new one numbers from its range.
  PgTestDatabase c("modu_shard");
  auto three = open_shards({a_.dsn(), b_.dsn(), c.dsn()});
  ASSERT_TRUE(three.ok()) << three.error().message;
  store_ = std::move(three).value();
  EXPECT_EQ(store_->reader().shard_count(), 3);
  EXPECT_EQ(store_->reader().list_users(10, UserId()).size(), 1u);
  UserId third = add_user(handle_on(2, "three"));
  EXPECT_EQ(third.value, first_id_of_shard(2));
  EXPECT_EQ(pg_count(c.dsn(), "SELECT value FROM meta WHERE key = 'shard'"), 2);
}

}  // namespace
}  // namespace modu
