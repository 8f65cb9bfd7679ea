#include "services/views.h"

#include <algorithm>
#include <unordered_map>

#include "services/openchat/room_view.h"

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

void write_message(JsonWriter& w, const MessageRecord& m, std::int64_t unread, std::int64_t sender_id) {
  auto o = w.flat_object();
  o.field("chat_id", m.chat.value)
      .field("seq", m.seq)
      .field("client_id", m.client_id)
      .field("sender_id", sender_id)
      .field("kind", message_kind_name(m.kind))
      .field("text", m.hidden ? std::string_view() : std::string_view(m.text));
  if (m.reply_to > 0) o.field("reply_to", m.reply_to);
  else o.null_field("reply_to");
  o.field("created_at", m.created_at).field("deleted", m.deleted);
  if (m.hidden) o.field("hidden", true);
  o.field("unread", unread).end();
}

std::int64_t ShownIds::of(UserId user) {
  if (chat_.kind != ChatKind::kOpen) return user.value;
  for (const auto& [u, id] : cache_)
    if (u == user) return id;
  auto m = view_.membership(chat_.id, user);
  std::int64_t id = m ? m->shown_id() : 0;
  cache_.emplace_back(user, id);
  return id;
}

void write_shown_profile(JsonWriter& w, const MemberRecord& m, const UserRecord* account) {
  if (m.nickname) {
    // A room profile never carries the account id: only the member id (0 before joining).
    w.begin_object()
        .field("user_id", m.public_id)
        .field("handle", "")
        .field("display_name", *m.nickname)
        .field("status_message", "")
        .field("avatar", m.room_avatar)
        .end_object();
  } else if (account) {
    write_profile(w, *account);
  } else {
    w.null();
  }
}

void write_member(JsonWriter& w, const ChatRecord& chat, const MemberRecord& m, const UserRecord* account) {
  w.begin_object()
      .field("user_id", m.shown_id())
      .field("role", member_role_name(m.role))
      .field("read_seq", m.read_seq)
      .field("joined_seq", m.joined_seq);
  if (chat.kind == ChatKind::kOpen) {
    w.field("joined_at", m.joined_at).field("real", !m.nickname.has_value());
    if (m.role == MemberRole::kAdmin) {
      w.key("permissions");
      write_permissions(w, m.permissions);
    }
  }
  w.key("profile");
  write_shown_profile(w, m, account);
  w.end_object();
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
                        bool with_members, SummaryChanges changes) {
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
  ShownIds shown(view, chat);
  w.field("self_id", me.shown_id()).field("last_seq", chat.last_seq).key("last_message");
  // A listed tail that reaches the chat's newest message already holds it.
  const MessageRecord* last = nullptr;
  std::optional<MessageRecord> read;
  if (changes.messages && !changes.messages->empty() && changes.messages->back().seq == chat.last_seq)
    last = &changes.messages->back();
  else if (chat.last_seq > 0 && (read = view.message(chat.id, chat.last_seq)))
    last = &*read;
  if (last) write_message(w, *last, pointers.unread(last->seq), shown.of(last->sender));
  else w.null();
  w.field("last_activity_at", chat.last_activity_at)
      .field("read_seq", me.read_seq)
      .field("unread_count", std::max<Seq>(0, chat.last_seq - me.read_seq))
      .field("member_count", members.size());
  if (const auto* moderated = changes.moderated) {
    auto list = [&](JsonKey key, auto pick) {
      w.key(key).begin_array();
      for (const auto& m : *moderated)
        if (pick(m)) w.value(m.seq);
      w.end_array();
    };
    list("deleted_seqs", [](const ModeratedMessage& m) { return m.deleted; });
    list("hidden_seqs", [](const ModeratedMessage& m) { return !m.deleted && m.hidden; });
    list("restored_seqs", [](const ModeratedMessage& m) { return !m.deleted && !m.hidden; });
  }
  if (changes.messages) {
    w.key("messages").begin_array();
    for (const auto& m : *changes.messages) write_message(w, m, pointers.unread(m.seq), shown.of(m.sender));
    w.end_array();
  }
  if (chat.kind == ChatKind::kOpen) {
    if (auto room = view.open_rooms().room(chat.id)) {
      w.key("open");
      write_room(w, chat, *room);
    }
  }
  if (with_members) {
    std::vector<UserId> ids;
    ids.reserve(members.size());
    for (const auto& m : members) ids.push_back(m.user);
    std::unordered_map<UserId, UserRecord> profiles;
    for (auto& u : view.users_by_ids(ids)) profiles.emplace(u.id, std::move(u));
    w.key("members").begin_array();
    for (const auto& m : members) {
      auto it = profiles.find(m.user);
      write_member(w, chat, m, it != profiles.end() ? &it->second : nullptr);
    }
    w.end_array();
  }
  w.end_object();
}

}  // namespace modu
