// Fuzz target: the session token decoder (hash_session_token).
//
// Invariants: only 43-character base64url strings are accepted; the hash is 32 bytes and
// deterministic; an accepted token is the canonical encoding of its 32 bytes (so no two
// distinct strings open the same session); and any 32 bytes, encoded, are accepted.
#include <sodium.h>

#include <cstdint>
#include <string>
#include <string_view>

#include "fuzz_check.h"
#include "services/accounts/credentials.h"

namespace {

constexpr int kVariant = sodium_base64_VARIANT_URLSAFE_NO_PADDING;

std::string encode(const unsigned char* raw, std::size_t n) {
  std::string out(sodium_base64_ENCODED_LEN(n, kVariant), '\0');
  sodium_bin2base64(out.data(), out.size(), raw, n, kVariant);
  out.pop_back();  // the terminating NUL
  return out;
}

bool base64url(std::string_view s) {
  for (char c : s)
    if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '_'))
      return false;
  return true;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static const bool ready = modu::init_crypto();
  if (!ready) modu::fuzz::fail("init_crypto");
  std::string_view token(reinterpret_cast<const char*>(data), size);

  auto hash = modu::hash_session_token(token);
  if (hash) {
    MODU_FUZZ_CHECK(token.size() == 43, token);
    MODU_FUZZ_CHECK(base64url(token), token);
    MODU_FUZZ_CHECK(hash->size() == 32, token);
    auto again = modu::hash_session_token(token);
    MODU_FUZZ_CHECK(again && *again == *hash, token);
    unsigned char raw[32];
    std::size_t len = 0;
    MODU_FUZZ_CHECK(sodium_base642bin(raw, sizeof raw, token.data(), token.size(), nullptr, &len, nullptr,
                                      kVariant) == 0 && len == 32, token);
    MODU_FUZZ_CHECK(encode(raw, sizeof raw) == token, token);
  }

  // The input's first 32 bytes as a token's random bytes: their encoding must be accepted.
  if (size >= 32) {
    std::string encoded = encode(data, 32);
    auto h = modu::hash_session_token(encoded);
    MODU_FUZZ_CHECK(h && h->size() == 32, encoded);
  }
  return 0;
}
