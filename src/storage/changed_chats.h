// What both stores do with the two halves of ReadView::changed_chats: the memberships that
// carry their own position, and those that follow their wide chat's position.
#pragma once

#include <algorithm>
#include <cstdint>
#include <iterator>
#include <vector>

#include "modu/store.h"

namespace modu::storage {

// Sorts `entries` by `me.pos` (then chat id) and keeps the first `limit`: for a half read
// without ORDER BY.
inline void keep_first_by_pos(std::vector<ChatListEntry>& entries, std::int64_t limit) {
  auto by_pos = [](const ChatListEntry& a, const ChatListEntry& b) {
    return a.me.pos != b.me.pos ? a.me.pos < b.me.pos : a.chat.id.value < b.chat.id.value;
  };
  const auto keep = static_cast<std::size_t>(std::max<std::int64_t>(limit, 0));
  if (entries.size() > keep) {
    std::partial_sort(entries.begin(), entries.begin() + static_cast<std::ptrdiff_t>(keep), entries.end(), by_pos);
    entries.resize(keep);
  } else {
    std::sort(entries.begin(), entries.end(), by_pos);
  }
}

// Merges two lists, each ascending by `me.pos`, into one, cut at `limit`. Each half is read
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
             std::back_inserter(out),
             [](const ChatListEntry& a, const ChatListEntry& b) { return a.me.pos < b.me.pos; });
  if (static_cast<std::int64_t>(out.size()) > limit) out.resize(static_cast<std::size_t>(std::max<std::int64_t>(limit, 0)));
  return out;
}

}  // namespace modu::storage
