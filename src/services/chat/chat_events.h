// What chat write jobs announce, shared by every feature that changes chats (chat ops,
// open chats, account deletion). Everything here runs inside a write job on the committer
// thread; events reach clients only after the batch commits (services/write.h).
#pragma once

#include <string>

#include "services/chat/chat_engine.h"
#include "services/write.h"

namespace modu {

// Summaries list members with profiles up to this size; larger chats use chats.get.
inline constexpr std::size_t kSummaryMemberLimit = 100;

// {"message": …} as the chat's members see it now (unread count, shown sender id).
std::string message_json(WriteTx& tx, ChatState& chat, const MessageRecord& m);
std::string message_json(const MessageRecord& m, std::int64_t unread, std::int64_t sender_id);

// message.new to every active member (and in big chats, the unread counts it changed).
void publish_message(WriteTx& tx, Effects& fx, ChatEngine& engine, ChatState& chat, const MessageRecord& m, Pos pos);

// Whether the chat's chat.read events carry unread counts instead of members' pointers: in
// chats of more than kSummaryMemberLimit members, whose clients do not hold every member.
inline bool reads_as_counts(const ChatState& chat) { return chat.members.size() > kSummaryMemberLimit; }

// `reader` (an active member) read up to `read_seq`: chat.read to every active member. The
// receipts of one chat committed in one batch go out as one event listing them all; in big
// chats that event carries the unread counts instead, and the reader's own devices get a
// chat.read with their pointer alone.
void publish_read(WriteTx& tx, Effects& fx, ChatEngine& engine, ChatState& chat, UserId reader, Pos pos);
// In big chats: chat.read with the unread counts the batch changed so far, if any (a send
// counts its sender as having read the older messages; a leaver no longer counts at all).
void publish_unread_counts(WriteTx& tx, Effects& fx, ChatEngine& engine, ChatState& chat, Pos pos);
// The job CountsPacing::wake asks for: chat.read with the counts pacing held back for `chat`.
void publish_paced_counts(WriteTx& tx, Effects& fx, ChatEngine& engine, ChatId chat);

// chat.updated to every active member, each with their own view (read pointer, unread).
void publish_chat_updated(WriteTx& tx, Effects& fx, const ChatState& chat, Pos pos);
// chat.updated to one member.
void publish_chat_updated_to(WriteTx& tx, Effects& fx, const ChatState& chat, UserId user, Pos pos);

// {"chat": summary} as `viewer` (an active member) sees it, with all members.
std::string summary_result(WriteTx& tx, const ChatState& chat, UserId viewer);

// A system message records a change in the chat's timeline (its `text` is a JSON body).
// Its client id lives in a namespace clients cannot use ('~'): one per sender and position.
MessageRecord append_system(WriteTx& tx, ChatEngine& engine, ChatState& chat, UserId by,
                            const JsonWriter& body, TimeMs now, Pos pos);

// `user` leaves `chat`: a leave system message, ownership handed on, events to the room
// and chat.removed to the leaver's devices.
void leave_chat(WriteTx& tx, Effects& fx, ChatEngine& engine, ChatState& chat, UserId user, Pos pos);

}  // namespace modu
