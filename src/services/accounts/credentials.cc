#include "services/accounts/credentials.h"

#include <sodium.h>

namespace modu {
namespace {
constexpr std::size_t kTokenBytes = 32;
constexpr int kTokenVariant = sodium_base64_VARIANT_URLSAFE_NO_PADDING;

std::string token_hash_of(const unsigned char* raw) {
  std::string hash(crypto_generichash_BYTES, '\0');
  crypto_generichash(reinterpret_cast<unsigned char*>(hash.data()), hash.size(), raw, kTokenBytes,
                     nullptr, 0);
  return hash;
}
}  // namespace

bool init_crypto() { return sodium_init() >= 0; }

std::optional<std::string> hash_password(std::string_view password, PasswordCost cost) {
  char out[crypto_pwhash_STRBYTES];
  if (crypto_pwhash_str_alg(out, password.data(), password.size(), cost.ops, cost.memory_bytes,
                            crypto_pwhash_ALG_ARGON2ID13) != 0)
    return std::nullopt;
  return std::string(out);
}

bool verify_password(std::string_view password, const std::string& hash) {
  return crypto_pwhash_str_verify(hash.c_str(), password.data(), password.size()) == 0;
}

NewToken make_session_token() {
  unsigned char raw[kTokenBytes];
  randombytes_buf(raw, sizeof raw);
  char encoded[sodium_base64_ENCODED_LEN(kTokenBytes, kTokenVariant)];
  sodium_bin2base64(encoded, sizeof encoded, raw, sizeof raw, kTokenVariant);
  NewToken t{encoded, token_hash_of(raw)};
  sodium_memzero(raw, sizeof raw);
  return t;
}

std::optional<std::string> hash_session_token(std::string_view token) {
  unsigned char raw[kTokenBytes];
  std::size_t len = 0;
  if (token.size() != sodium_base64_ENCODED_LEN(kTokenBytes, kTokenVariant) - 1) return std::nullopt;
  // libsodium's decoder is lenient about bytes outside the alphabet; be strict first.
  for (char c : token) {
    bool ok = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
              c == '-' || c == '_';
    if (!ok) return std::nullopt;
  }
  if (sodium_base642bin(raw, sizeof raw, token.data(), token.size(), nullptr, &len, nullptr,
                        kTokenVariant) != 0 || len != kTokenBytes)
    return std::nullopt;
  return token_hash_of(raw);
}

}  // namespace modu
