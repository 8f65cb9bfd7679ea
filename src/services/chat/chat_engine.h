// The chat engine: the committer thread's in-memory view of chats.
//
// Every chat write (send, read, delete, create, invite, leave, rename) runs as a write job
// on the store's single committer thread, so the engine owns its state without locks: for
// each chat touched recently, the record and its active members with their read pointers.
// That makes the hot path (a send) one index probe for the client id plus one insert.
//
// Per-batch coalescing: a send does not rewrite the chat row or every member's position
// at once. It marks the chat dirty; `flush` (the store's before-commit hook) writes the
// chat's last seq and activity, the read pointers that moved and each member's change
// position once per batch, inside the same transaction. A hot group chat with 100 messages
// in a batch costs 100 inserts and one pass over its members, not 100.
//
// Wide chats: from kWideFrom active members a chat is made wide (WriteTx::set_chat_wide),
// and its members see the chat row's position instead of their own, so the flush writes one
// row per changed chat plus the moved read pointers, however big the chat. Below
// kNarrowBelow it is narrow again; the gap between the two keeps a chat whose size hovers
// at one threshold from switching at every join and leave.
//
// Ordering and durability: seqs are assigned here, in commit order, one chat at a time.
// Nothing is published before its batch commits (see services/write.h), so no reader ever
// sees seq N+1 before seq N.
//
// Failure: jobs check everything before they change anything. If a batch fails to commit,
// `forget_all` drops the cache and it is reloaded from committed state on next use.
//
// Thread safety: every method runs on the committer thread only.
#pragma once

#include <chrono>
#include <functional>
#include <limits>
#include <memory>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "modu/store.h"

namespace modu {

// Unique keys of the chats that exist once per user or pair: the memo chat of a user and
// the 1:1 chat of two users (either order gives the same key).
std::string memo_chat_key(UserId user);
std::string direct_chat_key(UserId a, UserId b);

// Rules a chat kind adds to the core's. A feature registers them for its kind at start-up
// (services/openchat does for open chats); every hook is optional and runs on the
// committer thread inside the job that triggers it.
struct ChatKindRules {
  // Refuses a send before anything is stored (slow mode).
  std::function<std::optional<Error>(WriteTx&, const ChatRecord&, const MemberRecord& sender, TimeMs now)> check_send;
  // A send was stored.
  std::function<void(WriteTx&, const ChatRecord&, const MemberRecord& sender, TimeMs now)> sent;
  // Whether `member` may delete anyone's message at any age.
  std::function<bool(const MemberRecord& member)> moderates_messages;
  // A moderator deleted someone else's message.
  std::function<void(WriteTx&, const ChatRecord&, const MemberRecord& by, const MessageRecord&)> moderator_deleted;
  // Members joined or left (the state already reflects it).
  std::function<void(WriteTx&, const struct ChatState&)> members_changed;
};

// Unread counts of a chat's messages as one batch left them, over the seqs whose counts the
// batch changed (chat.read in big chats; docs/protocol.md, "Read counts"). Messages with seq
// from steps[i].first up to the next step (or up to `until_seq` for the last) have
// steps[i].second members who have not read them.
struct UnreadCounts {
  Seq until_seq = 0;
  std::vector<std::pair<Seq, std::int64_t>> steps;
};

// How often a big chat's unread counts go out (ChatEngine::pace_counts). Each such chat.read
// goes to every member, and in a busy room of 1,000 nearly every batch changes some count
// (a sender has read what came before; members read in bursts), so without pacing each
// member would get one after almost every message.
struct CountsPacing {
  // After a chat's counts went out, the next go out no sooner than this.
  std::chrono::milliseconds interval{};
  // Asks for `ChatEngine::release_paced_counts` (and a publish) on `chat` in a write job
  // after `delay`; called on the committer thread, at most once per held-back chat until
  // that release.
  std::function<void(ChatId chat, std::chrono::milliseconds delay)> wake;
  // The clock (replaceable in tests).
  std::function<std::chrono::steady_clock::time_point()> now = [] { return std::chrono::steady_clock::now(); };
};

// A chat.read with counts covers at most this many of the chat's newest messages; clients
// get the counts of older ones with the history pages they load.
inline constexpr Seq kCountsWindow = 256;

struct ChatState {
  ChatRecord chat;
  std::vector<MemberRecord> members;  // active members, sorted by user id
  // Active member ids, shared with published events; rebuilt when membership changes.
  std::shared_ptr<const std::vector<UserId>> member_ids;

  MemberRecord* member(UserId user);
  // Members whose read pointer is below `seq` (KakaoTalk's unread count).
  std::int64_t unread_count(Seq seq) const;
  // The id members see for `user` (their member id in open chats), active or not.
  std::int64_t shown_id(WriteTx& tx, UserId user);
};

class ChatEngine {
 public:
  // Chats of at least kWideFrom active members are wide; below kNarrowBelow, narrow again.
  static constexpr std::size_t kWideFrom = 64;  // (schema v5 makes chats this big wide)
  static constexpr std::size_t kNarrowBelow = 32;

  // The chat, or nullptr when it does not exist.
  ChatState* load(WriteTx& tx, ChatId id);
  // The chat if `user` is an active member; nullptr otherwise (never reveal which).
  ChatState* load_for_member(WriteTx& tx, ChatId id, UserId user);

  ChatState& create(WriteTx& tx, ChatRecord chat, const std::vector<UserId>& members,
                    std::optional<std::string_view> direct_key, Pos pos);

  // Stores a message with the next seq and moves the sender's read pointer to it.
  MessageRecord append(WriteTx& tx, ChatState& chat, UserId sender, MessageKind kind,
                       std::string client_id, std::string text, Seq reply_to, TimeMs now, Pos pos);
  // As append, unless the sender already stored a message with `client_id` (a send's
  // retry): then nothing changes and the result is nullopt (message_by_client_id has it).
  std::optional<MessageRecord> append_once(WriteTx& tx, ChatState& chat, UserId sender,
                                           MessageKind kind, std::string client_id,
                                           std::string text, Seq reply_to, TimeMs now, Pos pos);
  // Moves a member's read pointer forward (never back). Returns false if it did not move.
  bool advance_read(ChatState& chat, UserId user, Seq seq, Pos pos);
  // The unread counts of `chat` as this batch will leave them, filled in by `flush` (so read
  // them only after the commit); nullptr if no job of the batch so far changed a count, or
  // if pacing holds this batch's counts back. Every caller in one batch gets the same object.
  // It covers what the batch changed and what pacing held back before, at most the newest
  // kCountsWindow seqs.
  std::shared_ptr<const UnreadCounts> unread_counts(ChatState& chat);
  // Paces unread counts: once a chat's went out, the ranges later batches change are held
  // back until `pacing.interval` has passed, then go out together with the next batch's
  // counts, or after `pacing.wake` asks for `release_paced_counts`. Without it (the
  // default) every batch that changed a count hands out counts. Call before the first job.
  void pace_counts(CountsPacing pacing);
  // For the job `CountsPacing::wake` asked for: adds what pacing held back for `chat` to
  // this batch, so that `unread_counts` covers it (or holds it back again, if still early).
  void release_paced_counts(ChatState& chat);
  void add_member(WriteTx& tx, ChatState& chat, UserId user, MemberRole role, Pos pos);
  // Adds a prepared membership (room profile, role, what history it sees); `member.pos`
  // and `member.read_seq` are set here.
  void add_member(WriteTx& tx, ChatState& chat, MemberRecord member, Pos pos);
  // Removes an active member. If they owned the chat, ownership passes to the
  // longest-serving admin, else the longest-serving member; returns that heir.
  std::optional<UserId> remove_member(WriteTx& tx, ChatState& chat, UserId user, Pos pos);
  // Writes a changed membership (role, permissions) of an active member.
  void update_member(WriteTx& tx, ChatState& chat, const MemberRecord& member);
  void rename(WriteTx& tx, ChatState& chat, std::string title, Pos pos);
  void mark_changed(ChatState& chat, Pos pos);

  void set_rules(ChatKind kind, ChatKindRules rules);
  // The rules of `kind`, or nullptr when it adds none.
  const ChatKindRules* rules(ChatKind kind) const;

  // Store hooks.
  void flush(WriteTx& tx);
  void forget_all();
  // Drops the cached state of chats another writer changed (reloaded on next use).
  void forget(const std::vector<ChatId>& chats);

 private:
  void rebuild_member_ids(ChatState& chat);
  void members_changed(WriteTx& tx, ChatState& chat);
  // Makes the chat wide or narrow when its size crossed a threshold.
  void update_width(WriteTx& tx, ChatState& chat);
  // append's two halves: the record of the chat's next message, and what storing it changes.
  static MessageRecord next_message(const ChatState& chat, UserId sender, MessageKind kind,
                                    std::string client_id, std::string text, Seq reply_to,
                                    TimeMs now, Pos pos);
  void appended(ChatState& chat, const MessageRecord& m);

  // Moves `user`'s pointer to `seq`; the unread counts of messages in (old pointer,
  // `counted_up_to`] change.
  bool move_read(ChatState& chat, UserId user, Seq seq, Seq counted_up_to, Pos pos);

  // Bounded: cleared wholesale after a commit when it grows past this many chats.
  static constexpr std::size_t kMaxCachedChats = 200'000;

  std::unordered_map<ChatId, ChatState> chats_;
  std::unordered_map<ChatId, Pos> dirty_chats_;  // chat -> latest change position
  // What the batch did to a chat's read pointers; each such chat is in dirty_chats_ too.
  struct BatchReads {
    std::vector<UserId> movers;  // members whose pointer moved
    // Unread counts changed for seqs in (changed_from, changed_to]; empty while from >= to.
    Seq changed_from = std::numeric_limits<Seq>::max(), changed_to = 0;
    std::shared_ptr<UnreadCounts> counts;  // handed out by unread_counts, filled by flush
    bool held = false;                     // pacing held this batch's counts back

    // The counts of messages in (from, to] changed.
    void counts_changed(Seq from, Seq to);
  };
  // A paced chat: when its counts last went out, and the range held back since.
  struct PacedCounts {
    std::chrono::steady_clock::time_point sent_at;
    Seq from = 0, to = 0;     // counts changed for seqs in (from, to] and not yet sent
    bool woken = false;       // wake was asked for and release_paced_counts has not run
  };
  // Flush's part for a chat whose counts a job of this batch asked for (handed out or held).
  void flush_counts(ChatState& chat, BatchReads& batch, std::chrono::steady_clock::time_point now);

  std::unordered_map<ChatId, BatchReads> batch_reads_;
  std::optional<CountsPacing> pacing_;
  std::unordered_map<ChatId, PacedCounts> paced_;
  std::vector<MemberReadSeq> reads_;  // flush's scratch: one chat's moved pointers
  std::unordered_map<ChatKind, ChatKindRules> rules_;
};

}  // namespace modu
