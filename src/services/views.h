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
void write_message(JsonWriter& w, const MessageRecord& message, std::int64_t unread);

// Read pointers of a chat's active members, sorted, for unread counts of many messages.
class ReadPointers {
 public:
  explicit ReadPointers(const std::vector<MemberRecord>& members);
  // Members whose read pointer is below `seq`.
  std::int64_t unread(Seq seq) const;

 private:
  std::vector<Seq> sorted_;
};

// A chat summary as `me` sees it, given the chat's active members (the caller's freshest
// copy: a write job passes the engine's state, whose pointers are newer than the rows).
// Members (with profiles) are listed when `with_members` is set.
void write_chat_summary(JsonWriter& w, ReadView& view, const ChatRecord& chat,
                        const std::vector<MemberRecord>& members, const MemberRecord& me,
                        bool with_members, const std::vector<Seq>* deleted_seqs = nullptr);


}  // namespace modu
