// The newest messages of recently written chats, kept in memory so that a device catching
// up (`ReadView::messages_since`, the bulk of a reconnect herd's sync), or opening a chat
// (`ReadView::messages_before`, its newest page), is answered without reading the
// database. LESSONS.md: a mass reconnect should be served from memory, not from a query
// storm. docs/benchmarks.md, entries 36, 37 and 44, measure what it buys.
//
// The cache is never a second source of truth: it answers only when it holds a chat in
// exactly the state the caller's view of the database shows, and otherwise says so, and
// the caller reads the database. That state is named by the chat's position (`chats.pos`,
// WriteTx::update_chat_last), which every change to a chat's messages moves in the same
// transaction (the chat engine's flush): a cached chat carries the position of its last
// applied batch, and a reader compares it with the position its own view reads. A reader
// whose view is older or newer than the cache, or that comes between a COMMIT and the
// cache's update, sees two different positions and reads the database.
//
// Filling, on the committer (one thread, or one task at a time):
//  * While a batch runs, its transaction records every message change in a `Changes`:
//    inserted, deleted, hidden or shown again, and each chat's new position. A job whose
//    savepoint is rolled back drops its part (`mark` / `roll_back_to`).
//  * `prepare` runs just before COMMIT: a chat whose messages changed without a new
//    position (which the chat engine never does) is marked unknown at once, so that no
//    reader is answered from its old state once the COMMIT is visible.
//  * `apply` runs once COMMIT returned; a failed batch is simply dropped (`Changes::clear`).
//    A message change marks its chat unknown before it lands, and the chat's new position,
//    which the batch records after its message changes, makes it known again: a reader in
//    between is sent to the database, so none sees half of a batch.
//
// Bounds: a chat keeps at most `kMaxPerChat` messages (a sync asks for at most 200 a chat),
// and the whole cache about `budget_bytes`, in stripes, each evicting the chats written
// least recently. A chat is cached from its first message, or from the first message the
// committer stores after it is evicted or after a restart (then with the position of the
// message before it, which the committer reads once the batch committed), so a reader knows
// whether anything it asks for lies before the cached part.
//
// Thread safety: `messages_since`, `stats` are safe from any thread; the rest belongs to the
// committer. Each stripe has a mutex held for one chat's update or one answer's copy.
#pragma once

#include <array>
#include <atomic>
#include <cstdint>
#include <deque>
#include <functional>
#include <list>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "modu/ids.h"
#include "modu/records.h"
#include "modu/store.h"

namespace modu {

class RecentMessages {
  // A cached message: the record less its chat, its two strings in one.
  struct Message {
    Seq seq = 0;
    Pos pos = 0;
    UserId sender;
    Seq reply_to = 0;
    TimeMs created_at = 0;
    std::string body;  // the client id, then the text
    std::uint32_t client_id_bytes = 0;
    MessageKind kind = MessageKind::kText;
    bool deleted = false;
    bool hidden = false;
  };

 public:
  static constexpr std::size_t kMaxPerChat = 200;

  // One batch's message changes, in the order its jobs made them. Committer only.
  class Changes {
   public:
    void inserted(const MessageRecord& message);
    void deleted(ChatId chat, Seq seq);
    void hidden(ChatId chat, Seq seq, bool hidden);
    void chat_moved(ChatId chat, Pos pos);

    std::size_t mark() const { return ops_.size(); }
    void roll_back_to(std::size_t mark);
    void clear();

   private:
    friend class RecentMessages;
    enum class Kind : std::uint8_t { kInserted, kDeleted, kHidden, kShown, kChatMoved };
    struct Op {
      Kind kind;
      ChatId chat;
      Seq seq = 0;  // kChatMoved: unused
      Pos pos = 0;  // kChatMoved: the chat's
      std::size_t message = 0;  // kInserted: index into messages_
    };
    std::vector<Op> ops_;
    std::vector<Message> messages_;  // what apply moves into the cache
  };

  // The position of message `seq` of `chat` as committed (nullopt if there is none). The
  // committer's read, for a chat taken up again from a later message (see the file comment).
  using PositionOf = std::function<std::optional<Pos>(ChatId chat, Seq seq)>;

  // `budget_bytes` of 0 keeps nothing (every read goes to the database).
  explicit RecentMessages(std::size_t budget_bytes);
  RecentMessages(const RecentMessages&) = delete;
  RecentMessages& operator=(const RecentMessages&) = delete;

  // The newest messages of `chat` stored after position `since`, at most `limit`, ascending
  // (ReadView::messages_since), if the cache holds the chat at position `chat_pos` (as the
  // caller's view reads chats.pos) and holds every message that answer needs. nullopt: ask
  // the database. Any thread.
  std::optional<std::vector<MessageRecord>> messages_since(ChatId chat, Pos chat_pos, Pos since,
                                                          std::int64_t limit) const;

  // Up to `limit` messages of `chat` with seq < `before`, ascending (ReadView::messages_before:
  // a page of history, the newest when `before` is past the last seq), if the cache holds the
  // chat at position `chat_pos` and either `limit` such messages or the chat from its first
  // message. nullopt: ask the database. Any thread.
  std::optional<std::vector<MessageRecord>> messages_before(ChatId chat, Pos chat_pos, Seq before,
                                                           std::int64_t limit) const;

  // Just before COMMIT, and once it returned (see the file comment). Committer only. `apply`
  // takes the inserted messages (clear() the changes afterwards), and asks `position_of` for
  // the message before one that does not follow the cached part of its chat.
  void prepare(const Changes& changes);
  void apply(Changes& changes, const PositionOf& position_of);

  // Drops chats that another writer of a shared database changed. Committer only.
  void forget(const std::vector<ChatId>& chats);

  RecentMessagesStats stats() const;

 private:
  static constexpr Pos kUnknown = -1;  // a chat whose position is not known: never answers
  struct Chat {
    Pos pos = kUnknown;      // the chats.pos this state belongs to
    Pos before_first = 0;    // position of the message before the first cached one (0: none)
    std::deque<Message> messages;  // consecutive seqs, ascending
    std::size_t bytes = 0;
    std::list<ChatId>::iterator lru;  // in its stripe's lru list
  };
  struct Stripe {
    mutable std::mutex mu;
    std::unordered_map<ChatId, Chat> chats;  // GUARDED_BY(mu)
    std::list<ChatId> lru;                   // GUARDED_BY(mu): most recently written first
    std::size_t bytes = 0;                   // GUARDED_BY(mu)
    std::size_t messages = 0;                // GUARDED_BY(mu)
  };
  static constexpr std::size_t kStripes = 16;

  Stripe& stripe_of(ChatId chat) { return stripes_[static_cast<std::size_t>(chat.value) % kStripes]; }
  const Stripe& stripe_of(ChatId chat) const {
    return stripes_[static_cast<std::size_t>(chat.value) % kStripes];
  }
  static std::size_t bytes_of(const Message& m);
  static MessageRecord record_of(ChatId chat, const Message& m);
  // The chat as cached, if the cache holds it at `chat_pos` (the state a reader's view shows).
  static const Chat* held_at(const Stripe& stripe, ChatId chat, Pos chat_pos);  // REQUIRES(stripe.mu)
  static bool follows(const Stripe& stripe, ChatId chat, Seq seq);  // REQUIRES(stripe.mu)
  void apply_one(Stripe& stripe, Changes& changes, const Changes::Op& op,
                 std::optional<Pos> before);  // REQUIRES(stripe.mu)
  void insert(Stripe& stripe, ChatId chat, Message message, std::optional<Pos> before);  // REQUIRES(stripe.mu)
  void erase(Stripe& stripe, ChatId chat);  // REQUIRES(stripe.mu)
  void evict(Stripe& stripe);  // REQUIRES(stripe.mu)

  const std::size_t stripe_budget_;
  std::array<Stripe, kStripes> stripes_;
  std::vector<std::pair<ChatId, std::size_t>> scratch_;  // committer only: prepare's sort
  mutable std::atomic<std::int64_t> hits_{0};
  mutable std::atomic<std::int64_t> misses_{0};
};

}  // namespace modu
