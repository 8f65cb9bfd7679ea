// Passwords and session tokens (libsodium).
//
// Passwords are hashed with argon2id (defaults: 19 MiB, 2 passes, the OWASP baseline).
// Hashing is deliberately slow: call these on the blocking pool, never on an event loop.
// Session tokens are 256 random bits, given to the device once as base64url; only their
// BLAKE2b hash is stored, so a copy of the database does not yield working tokens.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace modu {

// Initialises libsodium; call once at start-up. Returns false if it cannot.
bool init_crypto();

struct PasswordCost {
  unsigned long long ops = 2;
  std::size_t memory_bytes = 19ull << 20;
};

// The argon2id hash string, or nullopt if hashing failed (out of memory).
std::optional<std::string> hash_password(std::string_view password, PasswordCost cost);
bool verify_password(std::string_view password, const std::string& hash);

struct NewToken {
  std::string token;  // for the device
  std::string hash;   // for the store (32 raw bytes)
};
NewToken make_session_token();
// The stored hash of a presented token; nullopt if it is not a well-formed token.
std::optional<std::string> hash_session_token(std::string_view token);

}  // namespace modu
