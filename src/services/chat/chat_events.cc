#include "services/chat/chat_events.h"

#include <fmt/format.h>

#include <unordered_set>

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

namespace {

// One member's read pointer move; merged per chat per batch into one chat.read.
class ReadReceipt final : public Hub::Mergeable {
 public:
  ReadReceipt(ChatId chat, std::int64_t reader, Seq read_seq, Pos pos, int shard)
      : chat_(chat), reader_(reader), read_seq_(read_seq), pos_(pos), shard_(shard) {}

  SharedFrame merged_frame(const std::vector<std::shared_ptr<const Mergeable>>& parts) const override {
    // A reader's later receipt in the batch supersedes an earlier one; the newest come last.
    std::vector<const ReadReceipt*> newest;
    std::unordered_set<std::int64_t> readers;
    for (auto it = parts.rbegin(); it != parts.rend(); ++it) {
      const auto* r = static_cast<const ReadReceipt*>(it->get());
      if (readers.insert(r->reader_).second) newest.push_back(r);
    }
    JsonWriter w;
    w.begin_object().field("chat_id", chat_.value).key("reads").begin_array();
    for (auto it = newest.rbegin(); it != newest.rend(); ++it)
      w.begin_object().field("user_id", (*it)->reader_).field("read_seq", (*it)->read_seq_).end_object();
    w.end_array().end_object();
    return share(event_frame("chat.read", pos_, w.view(), shard_));
  }

 private:
  ChatId chat_;
  std::int64_t reader_;
  Seq read_seq_;
  Pos pos_;
  int shard_;
};

constexpr int kReadReceipts = 1;  // Hub::MergeKey::kind

}  // namespace

void publish_read(WriteTx& tx, Effects& fx, const ChatState& chat, std::int64_t reader, Seq read_seq, Pos pos) {
  fx.publish_merged(Hub::MergeKey{kReadReceipts, chat.chat.id.value}, chat.member_ids,
                    std::make_shared<ReadReceipt>(chat.chat.id, reader, read_seq, pos, tx.shard()));
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
