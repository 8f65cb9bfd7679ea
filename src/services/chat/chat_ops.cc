// Chat operations. Reads (lists, history, sync) run on the connection's loop against the
// loop's read view; every change is a write job on the committer thread (chat_engine.h).
#include "services/chat/chat_ops.h"

#include <fmt/format.h>

#include <boost/asio/steady_timer.hpp>

#include <algorithm>
#include <chrono>
#include <iterator>
#include <charconv>
#include <limits>

#include "services/chat/chat_events.h"
#include "services/views.h"
#include "services/write.h"

namespace modu {
namespace {

constexpr std::int64_t kMaxId = std::numeric_limits<std::int64_t>::max();
constexpr std::size_t kMaxTitleBytes = 100;
constexpr std::size_t kMaxClientIdBytes = 64;
// Deleted or hidden seqs reported per chat in one sync page.
constexpr std::int64_t kMaxModeratedPerSync = 1000;
// Messages one sync page carries in all, when a device asks for them: chats past this many
// carry none, and the device pages them with messages.history.
constexpr std::int64_t kMaxMessagesPerSync = 10000;
// A message's JSON beyond its text and client id (keys, numbers, quotes): a history page
// reserves this much per message, so its buffer grows once.
constexpr std::size_t kMessageJsonOverhead = 192;
// How often a big chat's unread counts go out at most (CountsPacing): a "1" falls within
// this of the read, and a busy room of 1,000 gets five count events a second, not one per batch.
constexpr std::chrono::milliseconds kCountsInterval{200};

Error chat_not_found() { return make_error(ErrorCode::kChatNotFound, "no such chat"); }

// About the JSON size of `messages`, so their writer grows its buffer once.
std::size_t json_bytes_of(const std::vector<MessageRecord>& messages) {
  std::size_t bytes = 0;
  for (const auto& m : messages) bytes += m.text.size() + m.client_id.size() + kMessageJsonOverhead;
  return bytes;
}

// --- reads on the connection's loop --------------------------------------------------------

std::optional<MemberRecord> active_membership(ReadView& view, ChatId chat, UserId user) {
  auto m = view.membership(chat, user);
  if (!m || !m->active) return std::nullopt;
  return m;
}

void reply_summary(Call& call, ReadView& view, ChatId chat_id) {
  ReadSnapshot snapshot(view);
  auto me = active_membership(view, chat_id, call.conn.user);
  auto chat = me ? view.chat(chat_id) : std::nullopt;
  if (!chat) return call.reply.fail(chat_not_found());
  auto members = view.active_members(chat_id);
  JsonWriter w;
  w.begin_object().key("chat");
  write_chat_summary(w, view, *chat, members, *me, true);
  w.end_object();
  call.reply.ok(w);
}

std::optional<ChatListCursor> parse_list_cursor(const std::string& s) {
  ChatListCursor c;
  auto colon = s.find(':');
  if (colon == std::string::npos) return std::nullopt;
  std::int64_t chat = 0;
  auto r1 = std::from_chars(s.data(), s.data() + colon, c.last_activity_at);
  auto r2 = std::from_chars(s.data() + colon + 1, s.data() + s.size(), chat);
  if (r1.ec != std::errc() || r2.ec != std::errc() || r2.ptr != s.data() + s.size()) return std::nullopt;
  c.chat = ChatId(chat);
  return c;
}

void chats_list(Call& call, Services& services) {
  auto limit = call.args.opt_int64("limit", 1, 200).value_or(50);
  auto before = call.args.opt_string("before", 1, 64);
  if (args_failed(call)) return;
  std::optional<ChatListCursor> cursor;
  if (before) {
    cursor = parse_list_cursor(*before);
    if (!cursor) return call.reply.fail(ErrorCode::kBadRequest, "field 'before' is not a cursor from chats.list");
  }
  ReadView& view = services.store.reader();
  ReadSnapshot snapshot(view);
  auto rows = view.chat_list(call.conn.user, limit + 1, cursor);
  bool more = static_cast<std::int64_t>(rows.size()) > limit;
  if (more) rows.resize(static_cast<std::size_t>(limit));
  JsonWriter w;
  w.begin_object().key("chats").begin_array();
  for (const auto& row : rows) {
    auto members = view.active_members(row.chat.id);
    write_chat_summary(w, view, row.chat, members, row.me, members.size() <= kSummaryMemberLimit);
  }
  w.end_array().key("next");
  if (more) w.value(fmt::format("{}:{}", rows.back().chat.last_activity_at, rows.back().chat.id.value));
  else w.null();
  w.end_object();
  call.reply.ok(w);
}

void messages_history(Call& call, Services& services) {
  ChatId chat_id(call.args.int64("chat_id", 1, kMaxId));
  auto before = call.args.opt_int64("before_seq", 1, kMaxId);
  auto after = call.args.opt_int64("after_seq", 0, kMaxId);
  auto limit = call.args.opt_int64("limit", 1, 200).value_or(50);
  if (args_failed(call)) return;
  if (before && after) return call.reply.fail(ErrorCode::kBadRequest, "give before_seq or after_seq, not both");
  ReadView& view = services.store.reader();
  ReadSnapshot snapshot(view);
  auto me = active_membership(view, chat_id, call.conn.user);
  if (!me) return call.reply.fail(chat_not_found());
  // Members see the timeline from the moment they joined (rooms that show new members the
  // whole history record them as joined at 0).
  Seq floor = me->joined_seq;
  std::vector<MessageRecord> page;
  bool more = false;
  if (after) {
    page = view.messages_after(chat_id, std::max(*after, floor), limit + 1);
    more = static_cast<std::int64_t>(page.size()) > limit;
    if (more) page.pop_back();
  } else {
    page = view.messages_before(chat_id, before.value_or(kMaxId), limit + 1);
    std::erase_if(page, [&](const MessageRecord& m) { return m.seq <= floor; });
    more = static_cast<std::int64_t>(page.size()) > limit;
    if (more) page.erase(page.begin());
  }
  ReadPointers pointers(view.active_members(chat_id));
  auto chat = view.chat(chat_id);
  if (!chat) return call.reply.fail(chat_not_found());
  ShownIds shown(view, *chat);
  JsonWriter w;
  w.reserve(json_bytes_of(page) + 64);
  w.begin_object().key("messages").begin_array();
  for (const auto& m : page) write_message(w, m, pointers.unread(m.seq), shown.of(m.sender));
  w.end_array().field("has_more", more).end_object();
  call.reply.ok(w);
}

void sync(Call& call, Services& services) {
  ReadView& view = services.store.reader();
  const int shards = view.shard_count();
  // One position per shard; a plain number is shard 0's (all of a one-shard server).
  Cursor since = call.args.int64_or_list("since", 0, kMaxId, static_cast<std::size_t>(kMaxShards));
  auto limit = call.args.opt_int64("limit", 1, 500).value_or(200);
  auto per_chat = call.args.opt_int64("messages", 0, 200).value_or(0);
  if (args_failed(call)) return;
  since.resize(static_cast<std::size_t>(shards), 0);  // a shard added since: from its start
  ReadSnapshot snapshot(view);
  // Each shard pages on its own: a page is cut only between two positions of one shard, and
  // a shard left out of a full page keeps its position, so nothing is skipped.
  Cursor until(static_cast<std::size_t>(shards), 0);
  std::vector<ChatListEntry> rows;
  bool more = false;
  for (int k = 0; k < shards; ++k) {
    auto at = static_cast<std::size_t>(k);
    auto budget = limit - static_cast<std::int64_t>(rows.size());
    until[at] = std::max(view.current_pos(k), since[at]);
    auto page = view.changed_chats(k, call.conn.user, since[at], std::max<std::int64_t>(budget, 0) + 1);
    if (static_cast<std::int64_t>(page.size()) > budget) {
      more = true;
      page.resize(static_cast<std::size_t>(std::max<std::int64_t>(budget, 0)));
      // positions are unique per user and chat: an exact cut
      until[at] = page.empty() ? since[at] : page.back().me.pos;
    }
    std::move(page.begin(), page.end(), std::back_inserter(rows));
  }
  // What each summary adds: visibility changes since `since`, and the messages asked for.
  struct Changes {
    std::vector<MemberRecord> members;
    std::vector<ModeratedMessage> moderated;
    std::vector<MessageRecord> messages;
    bool with_messages = false;
  };
  std::vector<Changes> changes(rows.size());
  std::int64_t message_budget = kMaxMessagesPerSync;
  std::size_t message_bytes = 0;
  for (std::size_t i = 0; i < rows.size(); ++i) {
    const auto& row = rows[i];
    if (!row.me.active) continue;
    Changes& c = changes[i];
    c.members = view.active_members(row.chat.id);
    auto at = static_cast<std::size_t>(shards == 1 ? 0 : shard_of(row.chat.id));  // rows live on their chat's shard
    Pos chat_since = since[at];
    // Deletions and hides cannot be seen by paging forward, so the summary lists them, the
    // earliest changes first. A chat with more than a page of them ends this page's shard
    // position at the last one listed: the next page lists the chat again, with the rest.
    c.moderated = view.moderated_since(row.chat.id, chat_since, kMaxModeratedPerSync);
    if (static_cast<std::int64_t>(c.moderated.size()) == kMaxModeratedPerSync) {
      until[at] = std::min(until[at], c.moderated.back().pos);
      more = true;
    }
    std::sort(c.moderated.begin(), c.moderated.end(),
              [](const ModeratedMessage& a, const ModeratedMessage& b) { return a.seq < b.seq; });
    if (per_chat > 0 && message_budget > 0) {
      c.with_messages = true;
      c.messages = view.messages_since(row.chat.id, chat_since, std::min(per_chat, message_budget));
      // Members see the timeline from the moment they joined (see messages.history).
      std::erase_if(c.messages, [&](const MessageRecord& m) { return m.seq <= row.me.joined_seq; });
      message_budget -= static_cast<std::int64_t>(c.messages.size());
      message_bytes += json_bytes_of(c.messages);
    }
  }
  JsonWriter w;
  w.reserve(message_bytes);
  w.begin_object().key("pos");
  if (shards == 1) {
    w.value(until[0]);
  } else {
    w.begin_array();
    for (Pos p : until) w.value(p);
    w.end_array();
  }
  w.key("chats").begin_array();
  for (std::size_t i = 0; i < rows.size(); ++i) {
    const auto& row = rows[i];
    const Changes& c = changes[i];
    write_chat_summary(w, view, row.chat, c.members, row.me, c.members.size() <= kSummaryMemberLimit,
                       {.moderated = &c.moderated, .messages = c.with_messages ? &c.messages : nullptr});
  }
  w.end_array().key("friends").begin_array();
  for (const auto& change : view.friend_changes(call.conn.user, since, until)) {
    w.begin_object().key("friend");
    write_profile(w, change.profile);
    w.field("removed", change.removed).end_object();
  }
  w.end_array().key("me");
  auto self = view.user_by_id(call.conn.user);
  int home = view.home_shard(call.conn.user);
  if (self && self->profile_pos > cursor_at(since, home) && self->profile_pos <= cursor_at(until, home))
    write_profile(w, *self);
  else
    w.null();
  w.field("has_more", more).end_object();
  call.reply.ok(w);
}

// --- writes --------------------------------------------------------------------------------

void messages_send(Call& call, Services& services, ChatEngine& engine) {
  ChatId chat_id(call.args.int64("chat_id", 1, kMaxId));
  std::string client_id = call.args.string("client_id", 1, kMaxClientIdBytes);
  std::string text = call.args.binary_safe_string("text", 1, std::numeric_limits<std::size_t>::max());
  Seq reply_to = call.args.opt_int64("reply_to", 1, kMaxId).value_or(0);
  if (args_failed(call)) return;
  if (text.size() > services.options.max_text_bytes)
    return call.reply.fail(ErrorCode::kTooLarge,
                           fmt::format("the text is over {} bytes", services.options.max_text_bytes));
  if (client_id.front() == '~')
    return call.reply.fail(ErrorCode::kBadRequest, "client_id must not start with '~'");
  UserId me = call.conn.user;
  std::string key_client_id = client_id;  // the lambda takes the original
  submit_write(services, call.reply, chat_id,
               [&engine, me, chat_id, client_id = std::move(client_id), text = std::move(text),
                reply_to](WriteTx& tx, Effects& fx) -> Result<std::string> {
    // Idempotency is decided in the transaction that would store the message: a retry gets
    // what its first try stored. The key's unique index decides as the message goes in, so
    // only a send that is refused, or whose key is taken, looks for an earlier one; a retry
    // is answered with it whatever the checks say now (the sender may have left since).
    auto or_earlier = [&](Result<std::string> otherwise) -> Result<std::string> {
      auto prior = tx.message_by_client_id(me, client_id);
      if (!prior) return otherwise;
      bool same = prior->chat == chat_id && prior->reply_to == reply_to &&
                  (prior->text == text || prior->deleted);
      if (!same)
        return make_error(ErrorCode::kDuplicateClientId,
                          "client_id was already used for a different message");
      ChatState* chat = engine.load(tx, prior->chat);
      if (!chat) return make_error(ErrorCode::kInternal, "the chat of a stored message vanished");
      return message_json(tx, *chat, *prior);
    };
    ChatState* chat = engine.load_for_member(tx, chat_id, me);
    if (!chat) return or_earlier(chat_not_found());
    if (reply_to > chat->chat.last_seq)
      return or_earlier(make_error(ErrorCode::kMessageNotFound, "reply_to names no message in this chat"));
    TimeMs now = now_ms();
    const ChatKindRules* rules = engine.rules(chat->chat.kind);
    if (rules && rules->check_send)
      if (auto refused = rules->check_send(tx, chat->chat, *chat->member(me), now))
        return or_earlier(*refused);
    Pos pos = tx.next_pos();
    std::optional<MessageRecord> stored = engine.append_once(
        tx, *chat, me, MessageKind::kText, client_id, text, reply_to, now, pos);
    if (!stored)
      return or_earlier(make_error(ErrorCode::kInternal, "a taken client_id found no message"));
    const MessageRecord& m = *stored;
    if (rules && rules->sent) rules->sent(tx, chat->chat, *chat->member(me), now);
    // Encoded once: the same JSON is the event's data and the sender's answer.
    std::string json = message_json(tx, *chat, m);
    fx.publish(chat->member_ids, share(event_frame("message.new", pos, json, tx.shard())));
    publish_unread_counts(tx, fx, engine, *chat, pos);
    fx.count_stored_message();
    return json;
  }, nullptr, {.client_key = ClientKey{me, key_client_id}, .checks_before_writing = true});
}

void messages_read(Call& call, Services& services, ChatEngine& engine) {
  ChatId chat_id(call.args.int64("chat_id", 1, kMaxId));
  Seq seq = call.args.int64("seq", 0, kMaxId);
  if (args_failed(call)) return;
  UserId me = call.conn.user;
  submit_write(services, call.reply, chat_id, [&engine, me, chat_id, seq](WriteTx& tx, Effects& fx) -> Result<std::string> {
    ChatState* chat = engine.load_for_member(tx, chat_id, me);
    if (!chat) return chat_not_found();
    Seq target = std::min(seq, chat->chat.last_seq);
    if (target > chat->member(me)->read_seq) {
      Pos pos = tx.next_pos();
      engine.advance_read(*chat, me, target, pos);
      publish_read(tx, fx, engine, *chat, me, pos);
    }
    return fmt::format(R"({{"read_seq":{}}})", chat->member(me)->read_seq);
  }, nullptr, {.checks_before_writing = true});
}

void messages_delete(Call& call, Services& services, ChatEngine& engine) {
  ChatId chat_id(call.args.int64("chat_id", 1, kMaxId));
  Seq seq = call.args.int64("seq", 1, kMaxId);
  if (args_failed(call)) return;
  UserId me = call.conn.user;
  TimeMs window_ms = services.options.delete_window_seconds * 1000;
  submit_write(services, call.reply, chat_id, [&engine, me, chat_id, seq, window_ms](WriteTx& tx, Effects& fx) -> Result<std::string> {
    ChatState* chat = engine.load_for_member(tx, chat_id, me);
    if (!chat) return chat_not_found();
    auto m = tx.message(chat_id, seq);
    if (!m || seq <= chat->member(me)->joined_seq)
      return make_error(ErrorCode::kMessageNotFound, "no such message in this chat");
    const MemberRecord& actor = *chat->member(me);
    const ChatKindRules* rules = engine.rules(chat->chat.kind);
    bool moderator = m->sender != me && rules && rules->moderates_messages && rules->moderates_messages(actor);
    if (m->kind != MessageKind::kText || (m->sender != me && !moderator))
      return make_error(ErrorCode::kForbidden, "only your own messages can be deleted");
    if (!m->deleted) {
      if (!moderator && now_ms() - m->created_at > window_ms)
        return make_error(ErrorCode::kDeleteWindowExpired, "the message is too old to delete for everyone");
      Pos pos = tx.next_pos();
      tx.mark_message_deleted(chat_id, seq, pos);
      m->deleted = true;
      m->hidden = false;
      m->text.clear();
      engine.mark_changed(*chat, pos);
      if (moderator && rules->moderator_deleted) rules->moderator_deleted(tx, chat->chat, actor, *m);
      fx.publish(chat->member_ids, share(event_frame("message.deleted", pos, message_json(tx, *chat, *m), tx.shard())));
    }
    return message_json(tx, *chat, *m);
  });
}

std::vector<UserId> distinct_users(const std::vector<std::int64_t>& ids, UserId except) {
  std::vector<UserId> out;
  for (auto v : ids)
    if (UserId(v) != except && std::find(out.begin(), out.end(), UserId(v)) == out.end())
      out.push_back(UserId(v));
  return out;
}

// Fails with user_not_found naming the first id that is not a user.
std::optional<Error> check_users_exist(WriteTx& tx, const std::vector<UserId>& ids) {
  for (UserId u : ids)
    if (!tx.user_by_id(u)) return make_error(ErrorCode::kUserNotFound, fmt::format("no user {}", u.value));
  return std::nullopt;
}

void chats_direct(Call& call, Services& services, ChatEngine& engine) {
  UserId other(call.args.int64("user_id", 1, kMaxId));
  if (args_failed(call)) return;
  UserId me = call.conn.user;
  std::string key = other == me ? memo_chat_key(me) : direct_chat_key(me, other);
  ReadView& view = services.store.reader();
  if (auto id = view.chat_by_direct_key(key); id && active_membership(view, *id, me))
    return reply_summary(call, view, *id);
  submit_write(services, call.reply, std::min(me, other), [&engine, me, other, key](WriteTx& tx, Effects& fx) -> Result<std::string> {
    if (!tx.user_by_id(other)) return make_error(ErrorCode::kUserNotFound, "no such user");
    if (auto id = tx.chat_by_direct_key(key)) {
      ChatState* chat = engine.load(tx, *id);
      if (!chat) return make_error(ErrorCode::kInternal, "direct chat vanished");
      return summary_result(tx, *chat, me);
    }
    Pos pos = tx.next_pos();
    TimeMs now = now_ms();
    ChatRecord record{.kind = other == me ? ChatKind::kMemo : ChatKind::kDirect, .created_by = me,
                      .created_at = now, .last_activity_at = now};
    std::vector<UserId> members{me};
    if (other != me) members.push_back(other);
    ChatState& chat = engine.create(tx, record, members, key, pos);
    publish_chat_updated(tx, fx, chat, pos);
    return summary_result(tx, chat, me);
  });
}

void chats_create_group(Call& call, Services& services, ChatEngine& engine) {
  std::string title = call.args.opt_string("title", 0, kMaxTitleBytes).value_or("");
  auto ids = call.args.int64_list("user_ids", services.options.max_group_members);
  if (args_failed(call)) return;
  UserId me = call.conn.user;
  auto invitees = distinct_users(ids, me);
  if (invitees.empty()) return call.reply.fail(ErrorCode::kBadRequest, "field 'user_ids' must name someone besides you");
  submit_write(services, call.reply, me, [&engine, me, title = std::move(title), invitees](WriteTx& tx, Effects& fx) -> Result<std::string> {
    if (auto e = check_users_exist(tx, invitees)) return *e;
    Pos pos = tx.next_pos();
    TimeMs now = now_ms();
    std::vector<UserId> members{me};
    members.insert(members.end(), invitees.begin(), invitees.end());
    ChatRecord record{.kind = ChatKind::kGroup, .title = title, .created_by = me,
                      .created_at = now, .last_activity_at = now};
    ChatState& chat = engine.create(tx, record, members, std::nullopt, pos);
    publish_chat_updated(tx, fx, chat, pos);
    return summary_result(tx, chat, me);
  });
}

void chats_invite(Call& call, Services& services, ChatEngine& engine) {
  ChatId chat_id(call.args.int64("chat_id", 1, kMaxId));
  auto ids = call.args.int64_list("user_ids", services.options.max_group_members);
  if (args_failed(call)) return;
  UserId me = call.conn.user;
  auto invitees = distinct_users(ids, me);
  std::size_t cap = services.options.max_group_members;
  submit_write(services, call.reply, chat_id, [&engine, me, chat_id, invitees, cap](WriteTx& tx, Effects& fx) -> Result<std::string> {
    ChatState* chat = engine.load_for_member(tx, chat_id, me);
    if (!chat) return chat_not_found();
    if (chat->chat.kind != ChatKind::kGroup)
      return make_error(ErrorCode::kInvalidState, "only group chats take new members");
    if (auto e = check_users_exist(tx, invitees)) return *e;
    std::vector<UserId> added;
    for (UserId u : invitees)
      if (!chat->member(u)) added.push_back(u);
    if (added.empty()) return summary_result(tx, *chat, me);
    if (chat->members.size() + added.size() > cap)
      return make_error(ErrorCode::kInvalidState, fmt::format("a group holds at most {} members", cap));
    Pos pos = tx.next_pos();
    for (UserId u : added) engine.add_member(tx, *chat, u, MemberRole::kMember, pos);
    JsonWriter body;
    body.begin_object().field("type", "invite").field("by", me.value).key("users").begin_array();
    for (UserId u : added) body.value(u.value);
    body.end_array().end_object();
    MessageRecord m = append_system(tx, engine, *chat, me, body, now_ms(), pos);
    publish_chat_updated(tx, fx, *chat, pos);
    publish_message(tx, fx, engine, *chat, m, pos);
    return summary_result(tx, *chat, me);
  });
}

void chats_rename(Call& call, Services& services, ChatEngine& engine) {
  ChatId chat_id(call.args.int64("chat_id", 1, kMaxId));
  std::string title = call.args.string("title", 0, kMaxTitleBytes);
  if (args_failed(call)) return;
  UserId me = call.conn.user;
  submit_write(services, call.reply, chat_id, [&engine, me, chat_id, title = std::move(title)](WriteTx& tx, Effects& fx) -> Result<std::string> {
    ChatState* chat = engine.load_for_member(tx, chat_id, me);
    if (!chat) return chat_not_found();
    if (chat->chat.kind != ChatKind::kGroup)
      return make_error(ErrorCode::kInvalidState, "only group chats can be renamed");
    if (chat->chat.title == title) return summary_result(tx, *chat, me);
    Pos pos = tx.next_pos();
    engine.rename(tx, *chat, title, pos);
    JsonWriter body;
    body.begin_object().field("type", "rename").field("by", me.value).field("title", title).end_object();
    MessageRecord m = append_system(tx, engine, *chat, me, body, now_ms(), pos);
    publish_chat_updated(tx, fx, *chat, pos);
    publish_message(tx, fx, engine, *chat, m, pos);
    return summary_result(tx, *chat, me);
  });
}

void chats_leave(Call& call, Services& services, ChatEngine& engine) {
  ChatId chat_id(call.args.int64("chat_id", 1, kMaxId));
  if (args_failed(call)) return;
  UserId me = call.conn.user;
  submit_write(services, call.reply, chat_id, [&engine, me, chat_id](WriteTx& tx, Effects& fx) -> Result<std::string> {
    ChatState* chat = engine.load_for_member(tx, chat_id, me);
    if (!chat) return chat_not_found();
    if (chat->chat.kind != ChatKind::kGroup && chat->chat.kind != ChatKind::kOpen)
      return make_error(ErrorCode::kInvalidState, "only group and open chats can be left");
    leave_chat(tx, fx, engine, *chat, me, tx.next_pos());
    return std::string("{}");
  });
}

// Big chats' unread counts go out at most every kCountsInterval; what batches held back in
// between is published by a write job of its own when the interval is up, unless a later
// batch's counts carry it first.
void pace_unread_counts(Services& services, ChatEngine& engine) {
  engine.pace_counts(CountsPacing{
      .interval = kCountsInterval,
      .wake = [&services, &engine](ChatId chat, std::chrono::milliseconds delay) {
        // The timer lives in its handler. After the pool is joined (shutting down) it never
        // fires, and the counts held back are dropped with the connections.
        auto timer = std::make_shared<boost::asio::steady_timer>(services.blocking, delay);
        timer->async_wait([timer, &services, &engine, chat](const boost::system::error_code& ec) {
          if (ec) return;
          submit_unanswered_write(services, chat, [&engine, chat](WriteTx& tx, Effects& fx) {
            publish_paced_counts(tx, fx, engine, chat);
          });
        });
      },
  });
}

}  // namespace

void register_chat_ops(Router& router, Services& services, ChatEngine& engine) {
  pace_unread_counts(services, engine);
  using A = Router::Access;
  auto& s = services;
  auto& e = engine;
  router.add("chats.list", A::kSignedIn, [&s](Call& c) { chats_list(c, s); });
  router.add("chats.get", A::kSignedIn, [&s](Call& c) {
    ChatId id(c.args.int64("chat_id", 1, kMaxId));
    if (args_failed(c)) return;
    reply_summary(c, s.store.reader(), id);
  });
  router.add("chats.memo", A::kSignedIn, [&s](Call& c) {
    // Every account is created with its memo chat (services/accounts/accounts.h).
    ReadView& view = s.store.reader();
    if (auto id = view.chat_by_direct_key(memo_chat_key(c.conn.user))) return reply_summary(c, view, *id);
    c.reply.fail(ErrorCode::kInternal, "memo chat missing");
  });
  router.add("chats.direct", A::kSignedIn, [&s, &e](Call& c) { chats_direct(c, s, e); });
  router.add("chats.create_group", A::kSignedIn, [&s, &e](Call& c) { chats_create_group(c, s, e); });
  router.add("chats.invite", A::kSignedIn, [&s, &e](Call& c) { chats_invite(c, s, e); });
  router.add("chats.rename", A::kSignedIn, [&s, &e](Call& c) { chats_rename(c, s, e); });
  router.add("chats.leave", A::kSignedIn, [&s, &e](Call& c) { chats_leave(c, s, e); });
  router.add("messages.send", A::kSignedIn, [&s, &e](Call& c) { messages_send(c, s, e); });
  router.add("messages.history", A::kSignedIn, [&s](Call& c) { messages_history(c, s); });
  router.add("messages.read", A::kSignedIn, [&s, &e](Call& c) { messages_read(c, s, e); });
  router.add("messages.delete", A::kSignedIn, [&s, &e](Call& c) { messages_delete(c, s, e); });
  router.add("sync", A::kSignedIn, [&s](Call& c) { sync(c, s); });
}

}  // namespace modu
