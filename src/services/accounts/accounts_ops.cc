// Registration, login, resuming a session, logout, and the device list.
//
// Password work runs on the blocking pool; the event loop only parses and answers. A
// successful sign-in is applied on the connection's own loop (Connection::sign_in) before
// the answer is sent, so every event committed after the answer reaches the device.
#include "services/accounts/accounts_ops.h"

#include <boost/asio/post.hpp>
#include <fmt/format.h>

#include <algorithm>
#include <cctype>
#include <limits>

#include "services/accounts/accounts.h"
#include "services/accounts/credentials.h"
#include "services/accounts/last_seen.h"
#include "services/chat/chat_events.h"
#include "services/views.h"
#include "services/write.h"

namespace modu {
namespace {

constexpr std::int64_t kMaxId = std::numeric_limits<std::int64_t>::max();
// How late a device's "last seen" may reach the store (services/accounts/last_seen.h).
constexpr std::chrono::milliseconds kLastSeenPeriod{250};

struct DeviceArgs {
  DeviceKind kind = DeviceKind::kWeb;
  std::string name;
};

std::optional<DeviceArgs> read_device(Call& call) {
  Args device = call.args.object("device", true);
  if (call.args.error()) {
    call.reply.fail(*call.args.error());
    return std::nullopt;
  }
  auto kind_name = device.string("kind", 1, 16);
  auto name = device.string("name", 0, 64);
  if (device.error()) {
    call.reply.fail(*device.error());
    return std::nullopt;
  }
  auto kind = parse_device_kind(kind_name);
  if (!kind) {
    call.reply.fail(ErrorCode::kBadRequest, "device.kind must be phone, tablet, pc or web");
    return std::nullopt;
  }
  return DeviceArgs{*kind, std::move(name)};
}

// Creates the device session inside a write job; returns the auth result JSON.
std::string open_session(WriteTx& tx, const UserRecord& user, const DeviceArgs& device,
                         DeviceId& out_device) {
  NewToken token = make_session_token();
  TimeMs now = now_ms();
  DeviceRecord record{.user = user.id, .kind = device.kind, .name = device.name,
                      .created_at = now, .last_seen_at = now};
  out_device = tx.insert_device(record, token.hash);
  JsonWriter w;
  w.begin_object().field("token", token.token).field("device_id", out_device.value).key("profile");
  write_profile(w, user);
  w.end_object();
  return w.str();
}

// Signs the connection in on its loop, then answers.
AfterFn sign_in_then_reply(std::shared_ptr<std::pair<UserId, DeviceId>> who) {
  return [who](const Reply& reply, const std::string& result) {
    auto conn = reply.conn_ptr();
    conn->run_on_loop([conn, who, reply, result] {
      conn->sign_in(who->first, who->second);
      reply.ok(result);
    });
  };
}

void auth_register(Call& call, Services& services, ChatEngine& engine) {
  if (call.conn.signed_in()) return call.reply.fail(ErrorCode::kAlreadyAuthenticated, "already signed in");
  auto raw_handle = call.args.string("handle", 1, 64);
  auto password = call.args.string("password", 0, 64 * 1024);
  auto display_name = call.args.opt_string("display_name", 1, 64);
  if (args_failed(call)) return;
  auto device = read_device(call);
  if (!device) return;
  auto handle = normalize_handle(raw_handle);
  if (!handle) return call.reply.fail(ErrorCode::kInvalidHandle, "handles are 3-32 characters: a-z, 0-9, '_' and '.'");
  if (password.size() < kMinPasswordBytes || password.size() > kMaxPasswordBytes)
    return call.reply.fail(ErrorCode::kWeakPassword, "passwords are 8-256 bytes");
  if (services.store.reader().user_by_handle(*handle))
    return call.reply.fail(ErrorCode::kHandleTaken, "that handle is taken");

  PasswordCost cost{services.options.password_ops, services.options.password_memory_kib * 1024};
  boost::asio::post(services.blocking, [&services, &engine, reply = call.reply, handle = *handle,
                                        password = std::move(password), cost,
                                        name = display_name.value_or(*handle), device = *device] {
    auto hash = hash_password(password, cost);
    if (!hash) return reply.fail(ErrorCode::kUnavailable, "the server is out of memory; retry");
    auto who = std::make_shared<std::pair<UserId, DeviceId>>();
    submit_write(services, reply, Placement::of_id(services.store.new_user_placement(handle)), [&engine, handle, hash = std::move(*hash), name, device, who](
                                      WriteTx& tx, Effects&) -> Result<std::string> {
      auto user = create_account(tx, engine, handle, hash, name, now_ms());
      if (!user.ok()) return user.take_error();
      who->first = user->id;
      return open_session(tx, *user, device, who->second);
    }, sign_in_then_reply(who));
  });
}

void auth_login(Call& call, Services& services) {
  if (call.conn.signed_in()) return call.reply.fail(ErrorCode::kAlreadyAuthenticated, "already signed in");
  auto raw_handle = call.args.string("handle", 1, 64);
  auto password = call.args.string("password", 0, kMaxPasswordBytes);
  if (args_failed(call)) return;
  auto device = read_device(call);
  if (!device) return;
  // Handles are lower case; accept any case at login.
  std::transform(raw_handle.begin(), raw_handle.end(), raw_handle.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  auto handle = normalize_handle(raw_handle);
  auto creds = handle ? services.store.reader().credentials_by_handle(*handle) : std::nullopt;
  if (!creds) return call.reply.fail(ErrorCode::kInvalidCredentials, "wrong handle or password");
  boost::asio::post(services.blocking, [&services, reply = call.reply, creds = *creds,
                                        password = std::move(password), device = *device] {
    if (!verify_password(password, creds.password_hash))
      return reply.fail(ErrorCode::kInvalidCredentials, "wrong handle or password");
    auto who = std::make_shared<std::pair<UserId, DeviceId>>(creds.id, DeviceId());
    submit_write(services, reply, creds.id, [device, who](WriteTx& tx, Effects&) -> Result<std::string> {
      auto user = tx.user_by_id(who->first);
      if (!user) return make_error(ErrorCode::kInvalidCredentials, "wrong handle or password");
      return open_session(tx, *user, device, who->second);
    }, sign_in_then_reply(who));
  });
}

void auth_resume(Call& call, Services& services, LastSeenWriter& last_seen) {
  if (call.conn.signed_in()) return call.reply.fail(ErrorCode::kAlreadyAuthenticated, "already signed in");
  auto token = call.args.string("token", 1, 128);
  if (args_failed(call)) return;
  auto hash = hash_session_token(token);
  auto session = hash ? services.store.reader().session_by_token_hash(*hash) : std::nullopt;
  if (!session) return call.reply.fail(ErrorCode::kInvalidCredentials, "unknown session token");
  const auto& [device, user] = *session;
  if (device.revoked) return call.reply.fail(ErrorCode::kSessionRevoked, "this device was signed out");
  call.conn.sign_in(user.id, device.id);
  JsonWriter w;
  w.begin_object().field("device_id", device.id.value).key("profile");
  write_profile(w, user);
  w.end_object();
  call.reply.ok(w);
  last_seen.seen(device.id, now_ms());
}

SharedFrame revoked_notice(DeviceId device) {
  return share(event_frame("session.revoked", 0, fmt::format(R"({{"device_id":{}}})", device.value)));
}

void auth_logout(Call& call, Services& services) {
  UserId me = call.conn.user;
  DeviceId device = call.conn.device;
  submit_write(services, call.reply, me, [me, device](WriteTx& tx, Effects&) -> Result<std::string> {
    tx.revoke_device(me, device);
    return std::string("{}");
  }, [&services, me, device](const Reply& reply, const std::string& result) {
    reply.ok(result);
    // After the answer, every connection of this device (this one included) is told and
    // closed; both go through the hub, so the answer leaves first.
    services.hub.disconnect_device(me, device, revoked_notice(device));
  });
}

void devices_list(Call& call, Services& services) {
  JsonWriter w;
  w.begin_object().key("devices").begin_array();
  for (const auto& d : services.store.reader().devices_of(call.conn.user))
    write_device(w, d, d.id == call.conn.device);
  w.end_array().end_object();
  call.reply.ok(w);
}

void devices_revoke(Call& call, Services& services) {
  DeviceId device(call.args.int64("device_id", 1, kMaxId));
  if (args_failed(call)) return;
  UserId me = call.conn.user;
  submit_write(services, call.reply, me, [me, device](WriteTx& tx, Effects& fx) -> Result<std::string> {
    if (!tx.revoke_device(me, device)) return make_error(ErrorCode::kBadRequest, "no such device");
    fx.disconnect(me, device, revoked_notice(device));
    return std::string("{}");
  });
}

// The shards a deleted account is cleared from, in the order they are visited (taken from
// the back): every other shard first, the home shard last.
std::vector<int> account_shards(ReadView& view, UserId me) {
  std::vector<int> order{view.home_shard(me)};
  for (int k = view.shard_count() - 1; k >= 0; --k)
    if (k != order.front()) order.push_back(k);
  return order;
}

// One transaction per shard (a write job writes one shard): leaves the account's group and
// open chats on that shard; the last one, on the home shard, also signs out every device and
// blanks the profile. A failed step fails the request; repeating it resumes where it stopped
// (chats already left are no longer in the list).
void delete_account_step(Services& services, ChatEngine& engine, Reply reply, UserId me,
                         std::vector<int> shards_left) {
  int shard = shards_left.back();
  shards_left.pop_back();
  bool home = shards_left.empty();
  AfterFn next;
  if (!home)
    next = [&services, &engine, me, shards_left](const Reply& r, const std::string&) {
      delete_account_step(services, engine, r, me, shards_left);
    };
  submit_write(services, std::move(reply), Placement::of_id(first_id_of_shard(shard)),
               [&engine, me, home](WriteTx& tx, Effects& fx) -> Result<std::string> {
    std::optional<ChatListCursor> cursor;
    for (;;) {
      auto page = tx.chat_list(me, 200, cursor);
      for (const auto& entry : page) {
        if (entry.chat.kind != ChatKind::kGroup && entry.chat.kind != ChatKind::kOpen) continue;
        if (tx.shard_count() > 1 && shard_of(entry.chat.id) != tx.shard()) continue;
        if (ChatState* chat = engine.load_for_member(tx, entry.chat.id, me))
          leave_chat(tx, fx, engine, *chat, me, tx.next_pos());
      }
      if (page.size() < 200) break;
      cursor = ChatListCursor{page.back().chat.last_activity_at, page.back().chat.id};
    }
    if (home) {
      for (const auto& device : tx.devices_of(me)) fx.disconnect(me, device.id, revoked_notice(device.id));
      tx.scrub_user(me, tx.next_pos());
    }
    return std::string("{}");
  }, std::move(next));
}

// Deletes the caller's account: leaves every group and open chat (ownership passes on),
// signs out every device and blanks the profile. 1:1 chats stay for the other person.
void account_delete(Call& call, Services& services, ChatEngine& engine) {
  auto password = call.args.string("password", 0, kMaxPasswordBytes);
  if (args_failed(call)) return;
  UserId me = call.conn.user;
  ReadView& view = services.store.reader();
  auto user = view.user_by_id(me);
  auto creds = user ? view.credentials_by_handle(user->handle) : std::nullopt;
  if (!creds) return call.reply.fail(ErrorCode::kInvalidCredentials, "wrong password");
  boost::asio::post(services.blocking, [&services, &engine, reply = call.reply, creds = *creds,
                                        password = std::move(password), me] {
    if (!verify_password(password, creds.password_hash))
      return reply.fail(ErrorCode::kInvalidCredentials, "wrong password");
    delete_account_step(services, engine, reply, me, account_shards(services.store.reader(), me));
  });
}

}  // namespace

void register_account_ops(Router& router, Services& services, ChatEngine& engine) {
  using A = Router::Access;
  auto& s = services;
  router.add("ping", A::kPublic, [](Call& c) { c.reply.ok_empty(); });
  router.add("auth.register", A::kPublic, [&s, &engine](Call& c) { auth_register(c, s, engine); });
  router.add("auth.login", A::kPublic, [&s](Call& c) { auth_login(c, s); });
  auto last_seen = std::make_shared<LastSeenWriter>(services.store, services.blocking, kLastSeenPeriod);
  router.add("auth.resume", A::kPublic, [&s, last_seen](Call& c) { auth_resume(c, s, *last_seen); });
  router.add("auth.logout", A::kSignedIn, [&s](Call& c) { auth_logout(c, s); });
  router.add("devices.list", A::kSignedIn, [&s](Call& c) { devices_list(c, s); });
  router.add("devices.revoke", A::kSignedIn, [&s](Call& c) { devices_revoke(c, s); });
  router.add("account.delete", A::kSignedIn, [&s, &engine](Call& c) { account_delete(c, s, engine); });
}

}  // namespace modu
