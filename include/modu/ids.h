// Strong identifier types.
//
// Every id on the wire and on disk is a fixed-size signed 64-bit integer, but a UserId
// can never be passed where a ChatId is expected. `Seq` numbers messages inside one chat
// (1, 2, 3, … without gaps); `Pos` orders every change a user can see within one shard
// (it only grows; gaps are allowed); a store that is not split has one shard.
#pragma once

#include <compare>
#include <cstdint>
#include <functional>

namespace modu {

template <class Tag>
struct Id {
  std::int64_t value = 0;

  constexpr Id() = default;
  constexpr explicit Id(std::int64_t v) : value(v) {}
  constexpr explicit operator bool() const { return value != 0; }
  constexpr auto operator<=>(const Id&) const = default;
};

using UserId = Id<struct UserTag>;
using ChatId = Id<struct ChatTag>;
using DeviceId = Id<struct DeviceTag>;

using Seq = std::int64_t;     // per-chat message number, gap-free from 1
using Pos = std::int64_t;     // change position of one shard, strictly increasing
using TimeMs = std::int64_t;  // milliseconds since the Unix epoch, UTC

// Shards. A store may be split into shards (the PostgreSQL store over several databases,
// store.h). Every user, chat and device id, and every id of a chat's records, carries the
// number of the shard that holds it in bits 44 and up, so that the shard of any row is
// known from its id alone, without a lookup: shard 0 numbers from 1, shard k from k * 2^44
// + 1 (2^44 ids per shard, up to 512 shards, every id below 2^53 so that JavaScript clients
// read it exactly). A store that is not split is shard 0 and its ids are plain counts.
inline constexpr int kShardIdShift = 44;
inline constexpr int kMaxShards = 512;
constexpr int shard_of_id(std::int64_t id) { return static_cast<int>(id >> kShardIdShift); }
template <class Tag>
constexpr int shard_of(Id<Tag> id) { return shard_of_id(id.value); }
// The first id a shard hands out.
constexpr std::int64_t first_id_of_shard(int shard) {
  return (static_cast<std::int64_t>(shard) << kShardIdShift) + 1;
}

}  // namespace modu

template <class Tag>
struct std::hash<modu::Id<Tag>> {
  std::size_t operator()(modu::Id<Tag> id) const noexcept {
    return std::hash<std::int64_t>{}(id.value);
  }
};
