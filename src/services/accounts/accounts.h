// Account rules shared by the protocol operations and `modu admin`.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "modu/store.h"
#include "services/chat/chat_engine.h"

namespace modu {

// Handles are 3–32 characters of a-z, 0-9, '_' and '.'. Returns the handle if valid.
std::optional<std::string> normalize_handle(std::string_view handle);

inline constexpr std::size_t kMinPasswordBytes = 8;
inline constexpr std::size_t kMaxPasswordBytes = 256;

// Creates the user and their memo chat inside a write job. Fails with handle_taken.
// `handle` must be normalized and `password_hash` an argon2id string.
Result<UserRecord> create_account(WriteTx& tx, ChatEngine& engine, const std::string& handle,
                                  const std::string& password_hash, const std::string& display_name,
                                  TimeMs now);

}  // namespace modu
