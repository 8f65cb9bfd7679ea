// What both stores do with the two halves of ReadView::changed_chats: the memberships that
// carry their own position, and those that follow their wide chat's position.
#pragma once

#include <algorithm>
#include <cstdint>
#include <iterator>
#include <vector>

#include "modu/store.h"

namespace modu::storage {

// The order of a sync page: by position, then chat id.
inline bool earlier_change(const ChatListEntry& a, const ChatListEntry& b) {
  return a.me.pos != b.me.pos ? a.me.pos < b.me.pos : a.chat.id.value < b.chat.id.value;
}

// Merges two lists, each in earlier_change order, into one, cut at `limit`. Each half is read
// with its own query because the first, the common case, then comes in index order with no
// sort, and the second is one probe of an empty index for a user in no wide chat.
inline std::vector<ChatListEntry> merge_changed_chats(std::vector<ChatListEntry> own,
                                                      std::vector<ChatListEntry> via_chat,
                                                      std::int64_t limit) {
  if (via_chat.empty()) return own;
  std::vector<ChatListEntry> out;
  out.reserve(own.size() + via_chat.size());
  std::merge(std::make_move_iterator(own.begin()), std::make_move_iterator(own.end()),
             std::make_move_iterator(via_chat.begin()), std::make_move_iterator(via_chat.end()),
             std::back_inserter(out), earlier_change);
  if (static_cast<std::int64_t>(out.size()) > limit) out.resize(static_cast<std::size_t>(std::max<std::int64_t>(limit, 0)));
  return out;
}

}  // namespace modu::storage
