#include "services/chat/chat_engine.h"

#include <fmt/format.h>

#include <algorithm>
#include <chrono>
#include <tuple>

namespace modu {

std::string memo_chat_key(UserId user) { return fmt::format("memo:{}", user.value); }

std::string direct_chat_key(UserId a, UserId b) {
  if (b < a) std::swap(a, b);
  return fmt::format("direct:{}:{}", a.value, b.value);
}

MemberRecord* ChatState::member(UserId user) {
  auto it = std::lower_bound(members.begin(), members.end(), user,
                             [](const MemberRecord& m, UserId u) { return m.user < u; });
  return (it != members.end() && it->user == user) ? &*it : nullptr;
}

std::int64_t ChatState::unread_count(Seq seq) const {
  std::int64_t n = 0;
  for (const auto& m : members) n += m.read_seq < seq ? 1 : 0;
  return n;
}

std::int64_t ChatState::shown_id(WriteTx& tx, UserId user) {
  if (chat.kind != ChatKind::kOpen) return user.value;
  if (const MemberRecord* m = member(user)) return m->shown_id();
  auto row = tx.membership(chat.id, user);
  return row ? row->shown_id() : 0;
}

void ChatEngine::set_rules(ChatKind kind, ChatKindRules rules) { rules_[kind] = std::move(rules); }

const ChatKindRules* ChatEngine::rules(ChatKind kind) const {
  auto it = rules_.find(kind);
  return it == rules_.end() ? nullptr : &it->second;
}

void ChatEngine::members_changed(WriteTx& tx, ChatState& chat) {
  rebuild_member_ids(chat);
  update_width(tx, chat);
  if (auto* r = rules(chat.chat.kind); r && r->members_changed) r->members_changed(tx, chat);
}

void ChatEngine::update_width(WriteTx& tx, ChatState& chat) {
  const std::size_t n = chat.members.size();
  const bool wide = chat.chat.wide ? n >= kNarrowBelow : n >= kWideFrom;
  if (wide == chat.chat.wide) return;
  tx.set_chat_wide(chat.chat.id, wide);
  chat.chat.wide = wide;
}

void ChatEngine::rebuild_member_ids(ChatState& chat) {
  auto ids = std::make_shared<std::vector<UserId>>();
  ids->reserve(chat.members.size());
  for (const auto& m : chat.members) ids->push_back(m.user);
  chat.member_ids = std::move(ids);
}

ChatState* ChatEngine::load(WriteTx& tx, ChatId id) {
  auto it = chats_.find(id);
  if (it != chats_.end()) return &it->second;
  auto record = tx.chat(id);
  if (!record) return nullptr;
  ChatState state;
  state.chat = std::move(*record);
  state.members = tx.active_members(id);  // sorted by user id
  rebuild_member_ids(state);
  return &chats_.emplace(id, std::move(state)).first->second;
}

ChatState* ChatEngine::load_for_member(WriteTx& tx, ChatId id, UserId user) {
  ChatState* chat = load(tx, id);
  return (chat && chat->member(user)) ? chat : nullptr;
}

ChatState& ChatEngine::create(WriteTx& tx, ChatRecord record, const std::vector<UserId>& members,
                              std::optional<std::string_view> direct_key, Pos pos) {
  record.id = tx.insert_chat(record, direct_key);
  ChatState state;
  state.chat = record;
  for (UserId u : members) {
    MemberRecord m{.chat = record.id, .user = u,
                   .role = u == record.created_by ? MemberRole::kOwner : MemberRole::kMember,
                   .joined_seq = 0, .read_seq = 0, .active = true, .pos = pos,
                   .joined_at = record.created_at};
    tx.upsert_member(m);
    state.members.push_back(m);
  }
  std::sort(state.members.begin(), state.members.end(),
            [](const MemberRecord& a, const MemberRecord& b) { return a.user < b.user; });
  rebuild_member_ids(state);
  update_width(tx, state);
  return chats_.insert_or_assign(record.id, std::move(state)).first->second;
}

MessageRecord ChatEngine::next_message(const ChatState& chat, UserId sender, MessageKind kind,
                                       std::string client_id, std::string text, Seq reply_to,
                                       TimeMs now, Pos pos) {
  return MessageRecord{.chat = chat.chat.id, .seq = chat.chat.last_seq + 1,
                       .client_id = std::move(client_id), .sender = sender, .kind = kind,
                       .text = std::move(text), .reply_to = reply_to, .created_at = now,
                       .deleted = false, .pos = pos};
}

void ChatEngine::appended(ChatState& chat, const MessageRecord& m) {
  chat.chat.last_seq = m.seq;
  chat.chat.last_activity_at = m.created_at;
  // A sender never counts for their own message: only older messages' counts change.
  move_read(chat, m.sender, m.seq, m.seq - 1, m.pos);
  mark_changed(chat, m.pos);
}

MessageRecord ChatEngine::append(WriteTx& tx, ChatState& chat, UserId sender, MessageKind kind,
                                 std::string client_id, std::string text, Seq reply_to,
                                 TimeMs now, Pos pos) {
  MessageRecord m = next_message(chat, sender, kind, std::move(client_id), std::move(text),
                                 reply_to, now, pos);
  tx.insert_message(m);
  appended(chat, m);
  return m;
}

std::optional<MessageRecord> ChatEngine::append_once(WriteTx& tx, ChatState& chat, UserId sender,
                                                     MessageKind kind, std::string client_id,
                                                     std::string text, Seq reply_to, TimeMs now,
                                                     Pos pos) {
  MessageRecord m = next_message(chat, sender, kind, std::move(client_id), std::move(text),
                                 reply_to, now, pos);
  if (!tx.insert_message_once(m)) return std::nullopt;
  appended(chat, m);
  return m;
}

bool ChatEngine::advance_read(ChatState& chat, UserId user, Seq seq, Pos pos) {
  seq = std::min(seq, chat.chat.last_seq);
  return move_read(chat, user, seq, seq, pos);
}

bool ChatEngine::move_read(ChatState& chat, UserId user, Seq seq, Seq counted_up_to, Pos pos) {
  MemberRecord* m = chat.member(user);
  if (!m || seq <= m->read_seq) return false;
  BatchReads& batch = batch_reads_[chat.chat.id];
  batch.counts_changed(m->read_seq, counted_up_to);
  m->read_seq = seq;
  if (std::find(batch.movers.begin(), batch.movers.end(), user) == batch.movers.end()) batch.movers.push_back(user);
  mark_changed(chat, pos);
  return true;
}

void ChatEngine::BatchReads::counts_changed(Seq from, Seq to) {
  if (from >= to) return;
  changed_from = std::min(changed_from, from);
  changed_to = std::max(changed_to, to);
}

std::shared_ptr<const UnreadCounts> ChatEngine::unread_counts(ChatState& chat) {
  auto it = batch_reads_.find(chat.chat.id);
  if (it == batch_reads_.end() || it->second.changed_from >= it->second.changed_to) return nullptr;
  BatchReads& b = it->second;
  if (!b.counts && !b.held) {
    auto paced = pacing_ ? paced_.find(chat.chat.id) : paced_.end();
    if (paced != paced_.end() && pacing_->now() < paced->second.sent_at + pacing_->interval) b.held = true;
    else b.counts = std::make_shared<UnreadCounts>();
  }
  return b.counts;
}

void ChatEngine::pace_counts(CountsPacing pacing) { pacing_ = std::move(pacing); }

void ChatEngine::release_paced_counts(ChatState& chat) {
  auto it = paced_.find(chat.chat.id);
  if (it == paced_.end()) return;
  it->second.woken = false;
  batch_reads_[chat.chat.id].counts_changed(it->second.from, it->second.to);
}

namespace {

// The unread count of seq s is the number of members whose pointer is below s, so it steps
// up by one just after each pointer: one pass over the members, then a sort of the pointers
// inside the range.
void fill_unread_counts(UnreadCounts& out, const std::vector<MemberRecord>& members, Seq from, Seq to) {
  std::int64_t unread = 0;  // members with read_seq <= from: they have not read from + 1
  std::vector<Seq> inside;
  for (const auto& m : members) {
    if (m.read_seq <= from) ++unread;
    else if (m.read_seq < to) inside.push_back(m.read_seq);
  }
  std::sort(inside.begin(), inside.end());
  out.until_seq = to;
  out.steps.assign(1, {from + 1, unread});
  for (Seq p : inside) {
    ++unread;
    if (out.steps.back().first == p + 1) out.steps.back().second = unread;
    else out.steps.emplace_back(p + 1, unread);
  }
}

}  // namespace

void ChatEngine::add_member(WriteTx& tx, ChatState& chat, UserId user, MemberRole role, Pos pos) {
  TimeMs now = std::chrono::duration_cast<std::chrono::milliseconds>(
                   std::chrono::system_clock::now().time_since_epoch()).count();
  add_member(tx, chat, MemberRecord{.chat = chat.chat.id, .user = user, .role = role,
                                    .joined_seq = chat.chat.last_seq, .joined_at = now}, pos);
}

void ChatEngine::add_member(WriteTx& tx, ChatState& chat, MemberRecord m, Pos pos) {
  m.chat = chat.chat.id;
  m.read_seq = chat.chat.last_seq;  // joiners never count as unread for older messages
  m.active = true;
  m.pos = pos;
  tx.upsert_member(m);
  auto it = std::lower_bound(chat.members.begin(), chat.members.end(), m.user,
                             [](const MemberRecord& a, UserId u) { return a.user < u; });
  chat.members.insert(it, m);
  members_changed(tx, chat);
  mark_changed(chat, pos);
}

std::optional<UserId> ChatEngine::remove_member(WriteTx& tx, ChatState& chat, UserId user, Pos pos) {
  MemberRecord* leaver = chat.member(user);
  if (!leaver) return std::nullopt;
  bool was_owner = leaver->role == MemberRole::kOwner;
  // Persist the leaver's pending read pointer before it drops out of the flush.
  tx.set_read_seq(chat.chat.id, user, leaver->read_seq);
  tx.set_member_left(chat.chat.id, user, pos);
  // A leaver no longer counts for the messages they had not read.
  BatchReads& batch = batch_reads_[chat.chat.id];
  batch.counts_changed(leaver->read_seq, chat.chat.last_seq);
  std::erase(batch.movers, user);
  std::erase_if(chat.members, [&](const MemberRecord& m) { return m.user == user; });
  std::optional<UserId> heir;
  if (was_owner && !chat.members.empty()) {
    // Longest-serving admin first, then longest-serving member.
    auto rank = [](const MemberRecord& m) {
      return std::make_tuple(m.role == MemberRole::kAdmin ? 0 : 1, m.joined_at, m.joined_seq, m.user);
    };
    auto next = std::min_element(chat.members.begin(), chat.members.end(),
                                 [&](const MemberRecord& a, const MemberRecord& b) { return rank(a) < rank(b); });
    next->role = MemberRole::kOwner;
    next->permissions = kAllPermissions;
    tx.upsert_member(*next);
    heir = next->user;
  }
  members_changed(tx, chat);
  mark_changed(chat, pos);
  return heir;
}

void ChatEngine::update_member(WriteTx& tx, ChatState& chat, const MemberRecord& member) {
  MemberRecord* m = chat.member(member.user);
  if (!m) return;
  m->role = member.role;
  m->permissions = member.permissions;
  tx.upsert_member(*m);
}

void ChatEngine::rename(WriteTx& tx, ChatState& chat, std::string title, Pos pos) {
  tx.update_chat_title(chat.chat.id, title);
  chat.chat.title = std::move(title);
  mark_changed(chat, pos);
}

void ChatEngine::mark_changed(ChatState& chat, Pos pos) {
  Pos& p = dirty_chats_[chat.chat.id];
  p = std::max(p, pos);
}

void ChatEngine::flush(WriteTx& tx) {
  for (auto [id, pos] : dirty_chats_) {
    auto it = chats_.find(id);
    if (it == chats_.end()) continue;
    ChatState& chat = it->second;
    tx.update_chat_last(id, chat.chat.last_seq, chat.chat.last_activity_at, pos);
    // A moved read pointer always marks its chat changed (advance_read), so every moved
    // pointer is written here, in the same pass as the positions (a send moves its sender's).
    // A wide chat's members see the chat's position, written just above.
    reads_.clear();
    if (auto b = batch_reads_.find(id); b != batch_reads_.end())
      for (UserId u : b->second.movers)
        if (const MemberRecord* m = chat.member(u)) reads_.push_back(MemberReadSeq{u, m->read_seq});
    if (chat.chat.wide) {
      for (const MemberReadSeq& r : reads_) tx.set_read_seq(id, r.user, r.read_seq);
    } else {
      tx.touch_members_and_reads(id, pos, reads_);
    }
    for (auto& m : chat.members) m.pos = pos;
  }
  // Counts change without a write of their own, too (release_paced_counts).
  std::chrono::steady_clock::time_point now;
  if (pacing_ && !batch_reads_.empty()) now = pacing_->now();
  for (auto& [id, batch] : batch_reads_) {
    if (!batch.counts && !batch.held) continue;  // nobody asked for them (small chats)
    if (auto it = chats_.find(id); it != chats_.end()) flush_counts(it->second, batch, now);
  }
  batch_reads_.clear();
  dirty_chats_.clear();
  if (chats_.size() > kMaxCachedChats) chats_.clear();
  if (paced_.size() > kMaxCachedChats) std::erase_if(paced_, [](const auto& p) { return p.second.from >= p.second.to && !p.second.woken; });
}

void ChatEngine::flush_counts(ChatState& chat, BatchReads& batch, std::chrono::steady_clock::time_point now) {
  Seq from = batch.changed_from, to = batch.changed_to;
  PacedCounts* paced = pacing_ ? &paced_[chat.chat.id] : nullptr;
  if (paced && paced->from < paced->to) {
    from = std::min(from, paced->from);
    to = std::max(to, paced->to);
  }
  if (batch.counts) {
    fill_unread_counts(*batch.counts, chat.members, std::max(from, to - kCountsWindow), to);
    if (paced) {
      paced->sent_at = now;
      paced->from = paced->to = 0;
    }
    return;
  }
  paced->from = from;
  paced->to = to;
  if (paced->woken) return;
  paced->woken = true;
  auto due = paced->sent_at + pacing_->interval;
  pacing_->wake(chat.chat.id, std::max(std::chrono::milliseconds(0),
                                       std::chrono::ceil<std::chrono::milliseconds>(due - now)));
}

void ChatEngine::forget(const std::vector<ChatId>& chats) {
  for (ChatId id : chats) {
    chats_.erase(id);
    dirty_chats_.erase(id);
    batch_reads_.erase(id);
  }
}

void ChatEngine::forget_all() {
  chats_.clear();
  dirty_chats_.clear();
  batch_reads_.clear();
}

}  // namespace modu
