#include "services/views.h"

#include <algorithm>
#include <unordered_map>

namespace modu {

void write_profile(JsonWriter& w, const UserRecord& u) {
  w.begin_object()
      .field("user_id", u.id.value)
      .field("handle", u.handle)
      .field("display_name", u.display_name)
      .field("status_message", u.status_message)
      .field("avatar", u.avatar)
      .end_object();
}

void write_device(JsonWriter& w, const DeviceRecord& d, bool current) {
  w.begin_object()
      .field("device_id", d.id.value)
      .field("kind", device_kind_name(d.kind))
      .field("name", d.name)
      .field("created_at", d.created_at)
      .field("last_seen_at", d.last_seen_at)
      .field("current", current)
      .end_object();
}

void write_message(JsonWriter& w, const MessageRecord& m, std::int64_t unread) {
  w.begin_object()
      .field("chat_id", m.chat.value)
      .field("seq", m.seq)
      .field("client_id", m.client_id)
      .field("sender_id", m.sender.value)
      .field("kind", message_kind_name(m.kind))
      .field("text", m.text)
      .key("reply_to");
  if (m.reply_to > 0) w.value(m.reply_to); else w.null();
  w.field("created_at", m.created_at)
      .field("deleted", m.deleted)
      .field("unread", unread)
      .end_object();
}

ReadPointers::ReadPointers(const std::vector<MemberRecord>& members) {
  sorted_.reserve(members.size());
  for (const auto& m : members) sorted_.push_back(m.read_seq);
  std::sort(sorted_.begin(), sorted_.end());
}

std::int64_t ReadPointers::unread(Seq seq) const {
  return std::lower_bound(sorted_.begin(), sorted_.end(), seq) - sorted_.begin();
}

void write_chat_summary(JsonWriter& w, ReadView& view, const ChatRecord& chat,
                        const std::vector<MemberRecord>& members, const MemberRecord& me,
                        bool with_members, const std::vector<Seq>* deleted_seqs) {
  w.begin_object()
      .field("chat_id", chat.id.value)
      .field("kind", chat_kind_name(chat.kind))
      .field("title", chat.title)
      .field("created_at", chat.created_at)
      .field("left", !me.active);
  if (!me.active) {
    w.end_object();
    return;
  }
  ReadPointers pointers(members);
  w.field("last_seq", chat.last_seq).key("last_message");
  std::optional<MessageRecord> last;
  if (chat.last_seq > 0) last = view.message(chat.id, chat.last_seq);
  if (last) write_message(w, *last, pointers.unread(last->seq)); else w.null();
  w.field("last_activity_at", chat.last_activity_at)
      .field("read_seq", me.read_seq)
      .field("unread_count", std::max<Seq>(0, chat.last_seq - me.read_seq))
      .field("member_count", members.size());
  if (deleted_seqs) {
    w.key("deleted_seqs").begin_array();
    for (Seq s : *deleted_seqs) w.value(s);
    w.end_array();
  }
  if (with_members) {
    std::vector<UserId> ids;
    ids.reserve(members.size());
    for (const auto& m : members) ids.push_back(m.user);
    std::unordered_map<UserId, UserRecord> profiles;
    for (auto& u : view.users_by_ids(ids)) profiles.emplace(u.id, std::move(u));
    w.key("members").begin_array();
    for (const auto& m : members) {
      w.begin_object()
          .field("user_id", m.user.value)
          .field("role", member_role_name(m.role))
          .field("read_seq", m.read_seq)
          .field("joined_seq", m.joined_seq)
          .key("profile");
      auto it = profiles.find(m.user);
      if (it != profiles.end()) write_profile(w, it->second); else w.null();
      w.end_object();
    }
    w.end_array();
  }
  w.end_object();
}

}  // namespace modu
