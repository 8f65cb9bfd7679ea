// JSON views of open chats (the Room object of docs/protocol.md) and admin permissions.
#pragma once

#include <optional>
#include <string_view>
#include <vector>

#include "modu/open_rooms.h"
#include "protocol/json_writer.h"

namespace modu {

// The Room: what anyone may see of an open chat before joining. Never holds the passcode.
// `notice_by` is the member id of the notice's author.
void write_room(JsonWriter& w, const ChatRecord& chat, const RoomRecord& room);

// Permission bits as a list of names ("approve", "kick", …).
void write_permissions(JsonWriter& w, std::uint32_t permissions);
// The bit of one permission name, or nullopt.
std::optional<std::uint32_t> parse_permission(std::string_view name);

}  // namespace modu
