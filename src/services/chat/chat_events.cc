#include "services/chat/chat_events.h"

#include <fmt/format.h>

#include "services/views.h"

namespace modu {

std::string message_json(const MessageRecord& m, std::int64_t unread, std::int64_t sender_id) {
  JsonWriter w;
  w.begin_object().key("message");
  write_message(w, m, unread, sender_id);
  w.end_object();
  return w.str();
}

std::string message_json(WriteTx& tx, ChatState& chat, const MessageRecord& m) {
  return message_json(m, chat.unread_count(m.seq), chat.shown_id(tx, m.sender));
}

void publish_message(WriteTx& tx, Effects& fx, ChatState& chat, const MessageRecord& m, Pos pos) {
  fx.publish(chat.member_ids, share(event_frame("message.new", pos, message_json(tx, chat, m), tx.shard())));
}

void publish_chat_updated(WriteTx& tx, Effects& fx, const ChatState& chat, Pos pos) {
  bool with_members = chat.members.size() <= kSummaryMemberLimit;
  for (const auto& me : chat.members) {
    JsonWriter w;
    w.begin_object().key("chat");
    write_chat_summary(w, tx, chat.chat, chat.members, me, with_members);
    w.end_object();
    fx.publish(me.user, share(event_frame("chat.updated", pos, w.view(), tx.shard())));
  }
}

void publish_chat_updated_to(WriteTx& tx, Effects& fx, const ChatState& chat, UserId user, Pos pos) {
  for (const auto& me : chat.members) {
    if (me.user != user) continue;
    JsonWriter w;
    w.begin_object().key("chat");
    write_chat_summary(w, tx, chat.chat, chat.members, me, chat.members.size() <= kSummaryMemberLimit);
    w.end_object();
    fx.publish(me.user, share(event_frame("chat.updated", pos, w.view(), tx.shard())));
  }
}

std::string summary_result(WriteTx& tx, const ChatState& chat, UserId viewer) {
  const MemberRecord* me = nullptr;
  for (const auto& m : chat.members)
    if (m.user == viewer) me = &m;
  JsonWriter w;
  w.begin_object().key("chat");
  write_chat_summary(w, tx, chat.chat, chat.members, *me, true);
  w.end_object();
  return w.str();
}

MessageRecord append_system(WriteTx& tx, ChatEngine& engine, ChatState& chat, UserId by,
                            const JsonWriter& body, TimeMs now, Pos pos) {
  return engine.append(tx, chat, by, MessageKind::kSystem, fmt::format("~sys:{}", pos),
                       std::string(body.view()), 0, now, pos);
}

void leave_chat(WriteTx& tx, Effects& fx, ChatEngine& engine, ChatState& chat, UserId user, Pos pos) {
  JsonWriter body;
  body.begin_object().field("type", "leave").field("user", chat.member(user)->shown_id()).end_object();
  MessageRecord m = append_system(tx, engine, chat, user, body, now_ms(), pos);
  engine.remove_member(tx, chat, user, pos);  // hands ownership on if the owner leaves
  publish_message(tx, fx, chat, m, pos);
  // Open chats announce membership by the system message alone (one frame for the room).
  if (chat.chat.kind != ChatKind::kOpen) publish_chat_updated(tx, fx, chat, pos);
  fx.publish(user, share(event_frame("chat.removed", pos, fmt::format(R"({{"chat_id":{}}})", chat.chat.id.value), tx.shard())));
}

}  // namespace modu
