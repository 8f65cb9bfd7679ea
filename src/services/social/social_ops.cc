// Profiles and the (one-way, KakaoTalk-style) friend list.
#include "services/social/social_ops.h"

#include <limits>

#include "services/views.h"
#include "services/write.h"

namespace modu {
namespace {

constexpr std::int64_t kMaxId = std::numeric_limits<std::int64_t>::max();

std::string profile_result(JsonKey key, const UserRecord& user) {
  JsonWriter w;
  w.begin_object().key(key);
  write_profile(w, user);
  w.end_object();
  return w.str();
}

std::string friend_event(const UserRecord& user, bool removed) {
  JsonWriter w;
  w.begin_object().key("friend");
  write_profile(w, user);
  w.field("removed", removed).end_object();
  return w.str();
}

void profile_get(Call& call, Services& services) {
  auto id = call.args.opt_int64("user_id", 1, kMaxId);
  auto handle = call.args.opt_string("handle", 1, 64);
  if (args_failed(call)) return;
  if (!id && !handle) return call.reply.fail(ErrorCode::kBadRequest, "give user_id or handle");
  ReadView& view = services.store.reader();
  auto user = id ? view.user_by_id(UserId(*id)) : view.user_by_handle(*handle);
  if (!user) return call.reply.fail(ErrorCode::kUserNotFound, "no such user");
  call.reply.ok(profile_result("profile", *user));
}

void profile_update(Call& call, Services& services) {
  auto name = call.args.opt_string("display_name", 1, 64);
  auto status = call.args.opt_string("status_message", 0, 140);
  auto avatar = call.args.opt_string("avatar", 0, 512);
  if (args_failed(call)) return;
  UserId me = call.conn.user;
  submit_write(services, call.reply, me, [me, name, status, avatar](WriteTx& tx, Effects& fx) -> Result<std::string> {
    auto user = tx.user_by_id(me);
    if (!user) return make_error(ErrorCode::kUserNotFound, "no such user");
    if (name) user->display_name = *name;
    if (status) user->status_message = *status;
    if (avatar) user->avatar = *avatar;
    Pos pos = tx.next_pos();
    user->profile_pos = pos;
    tx.update_profile(*user);
    tx.touch_friend_edges_to(me, pos);
    auto audience = std::make_shared<std::vector<UserId>>(tx.friend_owners_of(me));
    audience->push_back(me);
    fx.publish(std::move(audience), share(event_frame("profile.updated", pos, profile_result("profile", *user), tx.shard())));
    return profile_result("profile", *user);
  });
}

void friends_add(Call& call, Services& services) {
  auto id = call.args.opt_int64("user_id", 1, kMaxId);
  auto handle = call.args.opt_string("handle", 1, 64);
  if (args_failed(call)) return;
  if (!id && !handle) return call.reply.fail(ErrorCode::kBadRequest, "give user_id or handle");
  UserId me = call.conn.user;
  submit_write(services, call.reply, me, [me, id, handle](WriteTx& tx, Effects& fx) -> Result<std::string> {
    auto other = id ? tx.user_by_id(UserId(*id)) : tx.user_by_handle(*handle);
    if (!other) return make_error(ErrorCode::kUserNotFound, "no such user");
    if (other->id == me) return make_error(ErrorCode::kBadRequest, "you cannot add yourself");
    Pos pos = tx.next_pos();
    if (tx.add_friend(me, other->id, pos, now_ms()))
      fx.publish(me, share(event_frame("friends.updated", pos, friend_event(*other, false), tx.shard())));
    return profile_result("friend", *other);
  });
}

void friends_remove(Call& call, Services& services) {
  UserId other(call.args.int64("user_id", 1, kMaxId));
  if (args_failed(call)) return;
  UserId me = call.conn.user;
  submit_write(services, call.reply, me, [me, other](WriteTx& tx, Effects& fx) -> Result<std::string> {
    auto user = tx.user_by_id(other);
    if (!user) return make_error(ErrorCode::kUserNotFound, "no such user");
    Pos pos = tx.next_pos();
    if (tx.remove_friend(me, other, pos))
      fx.publish(me, share(event_frame("friends.updated", pos, friend_event(*user, true), tx.shard())));
    return std::string("{}");
  });
}

void friends_list(Call& call, Services& services) {
  JsonWriter w;
  w.begin_object().key("friends").begin_array();
  for (const auto& f : services.store.reader().friends_of(call.conn.user)) write_profile(w, f);
  w.end_array().end_object();
  call.reply.ok(w);
}

}  // namespace

void register_social_ops(Router& router, Services& services) {
  using A = Router::Access;
  auto& s = services;
  router.add("profile.get", A::kSignedIn, [&s](Call& c) { profile_get(c, s); });
  router.add("profile.update", A::kSignedIn, [&s](Call& c) { profile_update(c, s); });
  router.add("friends.add", A::kSignedIn, [&s](Call& c) { friends_add(c, s); });
  router.add("friends.remove", A::kSignedIn, [&s](Call& c) { friends_remove(c, s); });
  router.add("friends.list", A::kSignedIn, [&s](Call& c) { friends_list(c, s); });
}

}  // namespace modu
