#include "storage/recent_messages.h"

#include <algorithm>

namespace modu {
namespace {

// What a cached chat costs besides its messages: its map node, its deque's index and its
// lru entry (an estimate; the budget is about the order of magnitude, not the byte).
constexpr std::size_t kChatOverhead = 192;
// std::string keeps this many characters inside itself.
constexpr std::size_t kInlineChars = 15;

}  // namespace

// --- Changes ----------------------------------------------------------------------------

void RecentMessages::Changes::inserted(const MessageRecord& message) {
  ops_.push_back(Op{.kind = Kind::kInserted, .chat = message.chat, .seq = message.seq, .message = messages_.size()});
  Message& m = messages_.emplace_back(Message{
      .seq = message.seq, .pos = message.pos, .sender = message.sender, .reply_to = message.reply_to,
      .created_at = message.created_at, .client_id_bytes = static_cast<std::uint32_t>(message.client_id.size()),
      .kind = message.kind, .deleted = message.deleted, .hidden = message.hidden});
  m.body.reserve(message.client_id.size() + message.text.size());
  m.body.append(message.client_id).append(message.text);
}

void RecentMessages::Changes::deleted(ChatId chat, Seq seq) {
  ops_.push_back(Op{.kind = Kind::kDeleted, .chat = chat, .seq = seq});
}

void RecentMessages::Changes::hidden(ChatId chat, Seq seq, bool hidden) {
  ops_.push_back(Op{.kind = hidden ? Kind::kHidden : Kind::kShown, .chat = chat, .seq = seq});
}

void RecentMessages::Changes::chat_moved(ChatId chat, Pos pos) {
  ops_.push_back(Op{.kind = Kind::kChatMoved, .chat = chat, .pos = pos});
}

void RecentMessages::Changes::roll_back_to(std::size_t mark) {
  if (mark >= ops_.size()) return;
  // The dropped ops' messages are the last ones.
  for (std::size_t i = mark; i < ops_.size(); ++i)
    if (ops_[i].kind == Kind::kInserted) {
      messages_.resize(ops_[i].message);
      break;
    }
  ops_.resize(mark);
}

void RecentMessages::Changes::clear() {
  ops_.clear();
  messages_.clear();
}

// --- RecentMessages ---------------------------------------------------------------------

RecentMessages::RecentMessages(std::size_t budget_bytes) : stripe_budget_(budget_bytes / kStripes) {}

std::size_t RecentMessages::bytes_of(const Message& m) {
  std::size_t heap = m.body.capacity() > kInlineChars ? m.body.capacity() + 1 : 0;
  return sizeof(Message) + heap;
}

MessageRecord RecentMessages::record_of(ChatId chat, const Message& m) {
  MessageRecord r;
  r.chat = chat;
  r.seq = m.seq;
  r.client_id.assign(m.body, 0, m.client_id_bytes);
  r.sender = m.sender;
  r.kind = m.kind;
  r.text.assign(m.body, m.client_id_bytes);
  r.reply_to = m.reply_to;
  r.created_at = m.created_at;
  r.deleted = m.deleted;
  r.hidden = m.hidden;
  r.pos = m.pos;
  return r;
}

std::optional<std::vector<MessageRecord>> RecentMessages::messages_since(ChatId chat, Pos chat_pos, Pos since,
                                                                        std::int64_t limit) const {
  const Stripe& stripe = stripe_of(chat);
  std::optional<std::vector<MessageRecord>> out;
  {
    std::lock_guard lock(stripe.mu);
    if (const Chat* held = held_at(stripe, chat, chat_pos)) {
      const Chat& c = *held;
      // The messages after `since` are a suffix (positions grow with seqs).
      auto first_after = std::partition_point(c.messages.begin(), c.messages.end(),
                                              [since](const Message& m) { return m.pos <= since; });
      auto after = static_cast<std::int64_t>(c.messages.end() - first_after);
      // Enough of them, or all of them: nothing before the cached part is after `since`.
      if (after >= limit || c.before_first <= since) {
        auto n = std::min(after, std::max<std::int64_t>(limit, 0));
        out.emplace();
        out->reserve(static_cast<std::size_t>(n));
        for (auto m = c.messages.end() - n; m != c.messages.end(); ++m) out->push_back(record_of(chat, *m));
      }
    }
  }
  (out ? hits_ : misses_).fetch_add(1, std::memory_order_relaxed);
  return out;
}

std::optional<std::vector<MessageRecord>> RecentMessages::messages_before(ChatId chat, Pos chat_pos, Seq before,
                                                                         std::int64_t limit) const {
  const Stripe& stripe = stripe_of(chat);
  std::optional<std::vector<MessageRecord>> out;
  if (limit >= 0) {
    std::lock_guard lock(stripe.mu);
    const Chat* held = held_at(stripe, chat, chat_pos);
    if (held && !held->messages.empty()) {
      const Chat& c = *held;
      // The cached messages before `before` are a prefix (consecutive seqs, ascending).
      auto end = std::partition_point(c.messages.begin(), c.messages.end(),
                                      [before](const Message& m) { return m.seq < before; });
      auto held = static_cast<std::int64_t>(end - c.messages.begin());
      // Enough of them, or all the chat has: the cached part starts at its first message.
      if (held >= limit || c.messages.front().seq == 1) {
        auto n = std::min(held, limit);
        out.emplace();
        out->reserve(static_cast<std::size_t>(n));
        for (auto m = end - n; m != end; ++m) out->push_back(record_of(chat, *m));
      }
    }
  }
  (out ? hits_ : misses_).fetch_add(1, std::memory_order_relaxed);
  return out;
}

const RecentMessages::Chat* RecentMessages::held_at(const Stripe& stripe, ChatId chat, Pos chat_pos) {
  auto it = stripe.chats.find(chat);
  if (it == stripe.chats.end() || chat_pos == kUnknown || it->second.pos != chat_pos) return nullptr;
  return &it->second;
}

bool RecentMessages::follows(const Stripe& stripe, ChatId chat, Seq seq) {
  auto it = stripe.chats.find(chat);
  return it != stripe.chats.end() && !it->second.messages.empty() && it->second.messages.back().seq == seq - 1;
}

void RecentMessages::prepare(const Changes& changes) {
  if (stripe_budget_ == 0) return;
  // Each chat's last op in the batch: a chat whose last change is to its messages, not its
  // position, is unknown from now on. Sorted by chat, then by op, without a map per batch.
  scratch_.clear();
  for (std::size_t i = 0; i < changes.ops_.size(); ++i) scratch_.emplace_back(changes.ops_[i].chat, i);
  std::sort(scratch_.begin(), scratch_.end());
  for (std::size_t i = 0; i < scratch_.size(); ++i) {
    auto [chat, last] = scratch_[i];
    if (i + 1 < scratch_.size() && scratch_[i + 1].first == chat) continue;
    if (changes.ops_[last].kind == Changes::Kind::kChatMoved) continue;
    Stripe& stripe = stripe_of(chat);
    std::lock_guard lock(stripe.mu);
    if (auto it = stripe.chats.find(chat); it != stripe.chats.end()) it->second.pos = kUnknown;
  }
}

void RecentMessages::apply(Changes& changes, const PositionOf& position_of) {
  if (stripe_budget_ == 0) return;
  std::array<bool, kStripes> touched{};
  for (const Changes::Op& op : changes.ops_) {
    Stripe& stripe = stripe_of(op.chat);
    std::unique_lock lock(stripe.mu);
    std::optional<Pos> before;
    if (op.kind == Changes::Kind::kInserted && op.seq > 1 && !follows(stripe, op.chat, op.seq)) {
      // Rare: a chat taken up again. Only this thread changes the cache, so it is still
      // the same once the lock is taken again; readers need not wait for the read.
      lock.unlock();
      before = position_of(op.chat, op.seq - 1);
      lock.lock();
    }
    apply_one(stripe, changes, op, before);
    touched[static_cast<std::size_t>(&stripe - stripes_.data())] = true;
  }
  for (std::size_t k = 0; k < kStripes; ++k) {
    if (!touched[k]) continue;
    std::lock_guard lock(stripes_[k].mu);
    evict(stripes_[k]);
  }
}

void RecentMessages::apply_one(Stripe& stripe, Changes& changes, const Changes::Op& op, std::optional<Pos> before) {
  using Kind = Changes::Kind;
  if (op.kind == Kind::kInserted) return insert(stripe, op.chat, std::move(changes.messages_[op.message]), before);
  auto it = stripe.chats.find(op.chat);
  if (it == stripe.chats.end()) return;
  Chat& c = it->second;
  if (op.kind == Kind::kChatMoved) {
    c.pos = op.pos;
    return;
  }
  c.pos = kUnknown;  // until the batch's new position for the chat
  if (c.messages.empty() || op.seq < c.messages.front().seq || op.seq > c.messages.back().seq) return;
  Message& m = c.messages[static_cast<std::size_t>(op.seq - c.messages.front().seq)];
  if (op.kind == Kind::kDeleted) {
    // As the stores do: the text goes, the flags stay.
    std::size_t before = bytes_of(m);
    m.deleted = true;
    m.body.resize(m.client_id_bytes);
    m.body.shrink_to_fit();
    std::size_t after = bytes_of(m);
    c.bytes -= before - after;
    stripe.bytes -= before - after;
  } else {
    m.hidden = op.kind == Kind::kHidden;
  }
}

void RecentMessages::insert(Stripe& stripe, ChatId chat, Message m, std::optional<Pos> before_pos) {
  auto [it, created] = stripe.chats.try_emplace(chat);
  Chat& c = it->second;
  if (created) {
    stripe.lru.push_front(chat);
    c.lru = stripe.lru.begin();
    c.bytes = kChatOverhead;
    stripe.bytes += kChatOverhead;
  } else {
    stripe.lru.splice(stripe.lru.begin(), stripe.lru, c.lru);
  }
  c.pos = kUnknown;  // until the batch's new position for the chat
  const bool follows = !c.messages.empty() && c.messages.back().seq == m.seq - 1;
  if (!follows) {
    // A chat cached anew: from its first message, or from one whose predecessor's position
    // the committer read. Anything else cannot say what lies before it.
    std::optional<Pos> before = m.seq == 1 ? std::optional<Pos>(0) : before_pos;
    if (!before) return erase(stripe, chat);
    stripe.bytes -= c.bytes - kChatOverhead;
    stripe.messages -= c.messages.size();
    c.messages.clear();
    c.bytes = kChatOverhead;
    c.before_first = *before;
  }
  std::size_t bytes = bytes_of(m);
  c.messages.push_back(std::move(m));
  c.bytes += bytes;
  stripe.bytes += bytes;
  ++stripe.messages;
  if (c.messages.size() > kMaxPerChat) {
    const Message& oldest = c.messages.front();
    c.before_first = oldest.pos;
    std::size_t gone = bytes_of(oldest);
    c.bytes -= gone;
    stripe.bytes -= gone;
    --stripe.messages;
    c.messages.pop_front();
  }
}

void RecentMessages::erase(Stripe& stripe, ChatId chat) {
  auto it = stripe.chats.find(chat);
  if (it == stripe.chats.end()) return;
  stripe.bytes -= it->second.bytes;
  stripe.messages -= it->second.messages.size();
  stripe.lru.erase(it->second.lru);
  stripe.chats.erase(it);
}

void RecentMessages::evict(Stripe& stripe) {
  while (stripe.bytes > stripe_budget_ && !stripe.lru.empty()) erase(stripe, stripe.lru.back());
}

void RecentMessages::forget(const std::vector<ChatId>& chats) {
  for (ChatId chat : chats) {
    Stripe& stripe = stripe_of(chat);
    std::lock_guard lock(stripe.mu);
    erase(stripe, chat);
  }
}

RecentMessagesStats RecentMessages::stats() const {
  RecentMessagesStats s;
  s.hits = hits_.load(std::memory_order_relaxed);
  s.misses = misses_.load(std::memory_order_relaxed);
  for (const Stripe& stripe : stripes_) {
    std::lock_guard lock(stripe.mu);
    s.chats += static_cast<std::int64_t>(stripe.chats.size());
    s.messages += static_cast<std::int64_t>(stripe.messages);
    s.bytes += static_cast<std::int64_t>(stripe.bytes);
  }
  return s;
}

}  // namespace modu
