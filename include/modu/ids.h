// Strong identifier types.
//
// Every id on the wire and on disk is a fixed-size signed 64-bit integer, but a UserId
// can never be passed where a ChatId is expected. `Seq` numbers messages inside one chat
// (1, 2, 3, … without gaps); `Pos` orders every change a user can see across the whole
// server (it only grows; gaps are allowed).
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
using Pos = std::int64_t;     // server-wide change position, strictly increasing
using TimeMs = std::int64_t;  // milliseconds since the Unix epoch, UTC

}  // namespace modu

template <class Tag>
struct std::hash<modu::Id<Tag>> {
  std::size_t operator()(modu::Id<Tag> id) const noexcept {
    return std::hash<std::int64_t>{}(id.value);
  }
};
