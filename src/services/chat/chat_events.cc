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

namespace {

// One change to a chat's read state, merged per chat per batch into one chat.read: a
// member's pointer move (small chats), or the batch's unread counts (big chats).
class ReadReceipt final : public Hub::Mergeable {
 public:
  ReadReceipt(ChatId chat, std::int64_t reader, Seq read_seq, std::shared_ptr<const UnreadCounts> counts,
              Pos pos, int shard)
      : chat_(chat), reader_(reader), read_seq_(read_seq), counts_(std::move(counts)), pos_(pos), shard_(shard) {}

  SharedFrame merged_frame(const std::vector<std::shared_ptr<const Mergeable>>& parts) const override {
    JsonWriter w;
    w.begin_object().field("chat_id", chat_.value);
    if (counts_) {
      // Filled by the batch's flush, before the commit that precedes this call.
      w.key("unread").begin_object().field("until_seq", counts_->until_seq).key("steps").begin_array();
      for (auto [seq, unread] : counts_->steps) w.begin_array().value(seq).value(unread).end_array();
      w.end_array().end_object();
    } else {
      // A reader's later receipt in the batch supersedes an earlier one; the newest come last.
      std::vector<const ReadReceipt*> newest;
      std::unordered_set<std::int64_t> readers;
      for (auto it = parts.rbegin(); it != parts.rend(); ++it) {
        const auto* r = static_cast<const ReadReceipt*>(it->get());
        if (r->reader_ && readers.insert(r->reader_).second) newest.push_back(r);
      }
      w.key("reads").begin_array();
      for (auto it = newest.rbegin(); it != newest.rend(); ++it)
        w.begin_object().field("user_id", (*it)->reader_).field("read_seq", (*it)->read_seq_).end_object();
      w.end_array();
    }
    w.end_object();
    return share(event_frame("chat.read", pos_, w.view(), shard_));
  }

 private:
  ChatId chat_;
  std::int64_t reader_;  // 0 in big chats
  Seq read_seq_;
  std::shared_ptr<const UnreadCounts> counts_;  // set in big chats
  Pos pos_;
  int shard_;
};

constexpr int kReadReceipts = 1;  // Hub::MergeKey::kind

void publish_receipt(Effects& fx, const ChatState& chat, std::shared_ptr<const ReadReceipt> part) {
  fx.publish_merged(Hub::MergeKey{kReadReceipts, chat.chat.id.value}, chat.member_ids, std::move(part));
}

}  // namespace

void publish_message(WriteTx& tx, Effects& fx, ChatEngine& engine, ChatState& chat, const MessageRecord& m, Pos pos) {
  fx.publish(chat.member_ids, share(event_frame("message.new", pos, message_json(tx, chat, m), tx.shard())));
  publish_unread_counts(tx, fx, engine, chat, pos);
}

void publish_read(WriteTx& tx, Effects& fx, ChatEngine& engine, ChatState& chat, UserId reader, Pos pos) {
  const MemberRecord& me = *chat.member(reader);
  if (!reads_as_counts(chat)) {
    publish_receipt(fx, chat, std::make_shared<ReadReceipt>(chat.chat.id, me.shown_id(), me.read_seq, nullptr, pos, tx.shard()));
    return;
  }
  publish_unread_counts(tx, fx, engine, chat, pos);
  JsonWriter w;
  w.begin_object().field("chat_id", chat.chat.id.value).key("reads").begin_array();
  w.begin_object().field("user_id", me.shown_id()).field("read_seq", me.read_seq).end_object();
  w.end_array().end_object();
  fx.publish(reader, share(event_frame("chat.read", pos, w.view(), tx.shard())));
}

void publish_unread_counts(WriteTx& tx, Effects& fx, ChatEngine& engine, ChatState& chat, Pos pos) {
  if (!reads_as_counts(chat)) return;
  if (auto counts = engine.unread_counts(chat))
    publish_receipt(fx, chat, std::make_shared<ReadReceipt>(chat.chat.id, 0, 0, std::move(counts), pos, tx.shard()));
}

void publish_paced_counts(WriteTx& tx, Effects& fx, ChatEngine& engine, ChatId id) {
  ChatState* chat = engine.load(tx, id);
  if (!chat) return;
  engine.release_paced_counts(*chat);
  publish_unread_counts(tx, fx, engine, *chat, tx.next_pos());
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
  publish_message(tx, fx, engine, chat, m, pos);
  // Open chats announce membership by the system message alone (one frame for the room).
  if (chat.chat.kind != ChatKind::kOpen) publish_chat_updated(tx, fx, chat, pos);
  fx.publish(user, share(event_frame("chat.removed", pos, fmt::format(R"({{"chat_id":{}}})", chat.chat.id.value), tx.shard())));
}

}  // namespace modu
