// JSON views of the domain objects (the "Objects" section of docs/protocol.md). Views that
// need more than the record read it through the given ReadView, so the same code serves
// request handlers (a thread's reader) and write jobs (the batch transaction).
#pragma once

#include <vector>

#include "modu/store.h"
#include "protocol/json_writer.h"

namespace modu {

void write_profile(JsonWriter& w, const UserRecord& user);
void write_device(JsonWriter& w, const DeviceRecord& device, bool current);
// `sender_id` is the id members see for the sender (ShownIds). A hidden message is written
// without its text.
void write_message(JsonWriter& w, const MessageRecord& message, std::int64_t unread,
                   std::int64_t sender_id);

// The ids members see for users of one chat: user ids, except in open chats, where each
// member has a room-scoped member id (looked up once per user).
class ShownIds {
 public:
  ShownIds(ReadView& view, const ChatRecord& chat) : view_(view), chat_(chat) {}
  std::int64_t of(UserId user);

 private:
  ReadView& view_;
  const ChatRecord& chat_;
  std::vector<std::pair<UserId, std::int64_t>> cache_;
};

// A member as the chat's other members see them: in open chats, by member id and room
// profile (the real profile only if they chose it). `account` is their user record, if any.
void write_member(JsonWriter& w, const ChatRecord& chat, const MemberRecord& m,
                  const UserRecord* account);
// The profile members see for `m` (see write_member).
void write_shown_profile(JsonWriter& w, const MemberRecord& m, const UserRecord* account);

// Read pointers of a chat's active members, sorted, for unread counts of many messages.
class ReadPointers {
 public:
  explicit ReadPointers(const std::vector<MemberRecord>& members);
  // Members whose read pointer is below `seq`.
  std::int64_t unread(Seq seq) const;

 private:
  std::vector<Seq> sorted_;
};

// What a sync adds to a chat summary: the visibility changes since the device's position,
// and, if the device asked, the messages stored since then (docs/protocol.md, "Sync").
struct SummaryChanges {
  const std::vector<ModeratedMessage>* moderated = nullptr;
  const std::vector<MessageRecord>* messages = nullptr;
};

// A chat summary as `me` sees it, given the chat's active members (the caller's freshest
// copy: a write job passes the engine's state, whose pointers are newer than the rows).
// Members (with profiles) are listed when `with_members` is set.
void write_chat_summary(JsonWriter& w, ReadView& view, const ChatRecord& chat,
                        const std::vector<MemberRecord>& members, const MemberRecord& me,
                        bool with_members, SummaryChanges changes = {});


}  // namespace modu
