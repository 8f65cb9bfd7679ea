// Passwords and session tokens (src/services/accounts/credentials.h) and handle rules
// (src/services/accounts/accounts.h).
#include "services/accounts/credentials.h"

#include <gtest/gtest.h>

#include <set>
#include <string>

#include "services/accounts/accounts.h"

namespace modu {
namespace {

// Cheap argon2id parameters: the cost does not change what is being tested.
constexpr PasswordCost kFast{1, 8 * 1024};

class CredentialsTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() { ASSERT_TRUE(init_crypto()); }
};

bool is_base64url(std::string_view s) {
  for (char c : s)
    if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '_'))
      return false;
  return true;
}

TEST_F(CredentialsTest, PasswordHashVerifies) {
  auto hash = hash_password("correct horse", kFast);
  ASSERT_TRUE(hash);
  EXPECT_EQ(hash->rfind("$argon2id$", 0), 0u) << *hash;
  EXPECT_TRUE(verify_password("correct horse", *hash));
  EXPECT_FALSE(verify_password("correct horsf", *hash));
  EXPECT_FALSE(verify_password("correct horse ", *hash));
  EXPECT_FALSE(verify_password("", *hash));
}

TEST_F(CredentialsTest, PasswordHashIsSalted) {
  auto a = hash_password("비밀번호1234", kFast);
  auto b = hash_password("비밀번호1234", kFast);
  ASSERT_TRUE(a && b);
  EXPECT_NE(*a, *b);
  EXPECT_TRUE(verify_password("비밀번호1234", *a));
  EXPECT_TRUE(verify_password("비밀번호1234", *b));
}

TEST_F(CredentialsTest, PasswordWithNulBytesIsHashedWhole) {
  std::string pw("abc\0def", 7);
  auto hash = hash_password(pw, kFast);
  ASSERT_TRUE(hash);
  EXPECT_TRUE(verify_password(pw, *hash));
  EXPECT_FALSE(verify_password("abc", *hash));
}

TEST_F(CredentialsTest, VerifyRejectsMalformedHashes) {
  EXPECT_FALSE(verify_password("pw", ""));
  EXPECT_FALSE(verify_password("pw", "pw"));
  EXPECT_FALSE(verify_password("pw", "$argon2id$v=19$m=8,t=1,p=1$garbage"));
}

TEST_F(CredentialsTest, DefaultCostIsTheOwaspBaseline) {
  // m=19 MiB, t=2, p=1 (docs: OWASP ASVS). One hash at full cost.
  auto hash = hash_password("correct horse", PasswordCost{});
  ASSERT_TRUE(hash);
  EXPECT_NE(hash->find("$m=19456,t=2,p=1$"), std::string::npos) << *hash;
  EXPECT_TRUE(verify_password("correct horse", *hash));
}

TEST_F(CredentialsTest, SessionTokenFormat) {
  NewToken t = make_session_token();
  EXPECT_EQ(t.token.size(), 43u);  // 256 bits, base64url without padding
  EXPECT_TRUE(is_base64url(t.token)) << t.token;
  EXPECT_EQ(t.hash.size(), 32u);
  EXPECT_NE(t.hash.find_first_not_of('\0'), std::string::npos);
}

TEST_F(CredentialsTest, StoredHashIsTheHashOfThePresentedToken) {
  NewToken t = make_session_token();
  auto h1 = hash_session_token(t.token);
  auto h2 = hash_session_token(t.token);
  ASSERT_TRUE(h1 && h2);
  EXPECT_EQ(*h1, t.hash);
  EXPECT_EQ(*h1, *h2);
  EXPECT_EQ(t.hash.find(t.token), std::string::npos);
}

TEST_F(CredentialsTest, TokensAreUnique) {
  std::set<std::string> tokens, hashes;
  for (int i = 0; i < 200; ++i) {
    NewToken t = make_session_token();
    EXPECT_TRUE(tokens.insert(t.token).second);
    EXPECT_TRUE(hashes.insert(t.hash).second);
  }
}

TEST_F(CredentialsTest, MalformedTokensAreRejected) {
  std::string good = make_session_token().token;
  std::string standard_alphabet = good;
  standard_alphabet[5] = '+';
  std::string slash = good;
  slash[10] = '/';
  std::string space = good;
  space[0] = ' ';
  std::string nul = good;
  nul[20] = '\0';
  for (const std::string& bad :
       {std::string(), good.substr(0, 42), good + "A", good + "=", good.substr(0, 42) + "=",
        standard_alphabet, slash, space, nul, std::string(43, '!'), std::string(43, '='),
        std::string(44, 'A'), std::string(100, 'A')})
    EXPECT_EQ(hash_session_token(bad), std::nullopt) << '"' << bad << '"';
}

TEST_F(CredentialsTest, NonCanonicalTokenEncodingIsRejected) {
  // 43 base64 characters carry 258 bits; the last 2 must be zero. A token whose unused
  // bits are set would otherwise decode to the same 32 bytes as the real one.
  std::string token = make_session_token().token;
  static constexpr std::string_view kAlphabet =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
  auto last = kAlphabet.find(token.back());
  ASSERT_NE(last, std::string_view::npos);
  ASSERT_EQ(last & 3u, 0u) << "a fresh token's unused bits are zero";
  for (std::size_t bits = 1; bits < 4; ++bits) {
    std::string variant = token;
    variant.back() = kAlphabet[last | bits];
    EXPECT_EQ(hash_session_token(variant), std::nullopt) << variant;
  }
}

// libsodium 1.0.18 decodes every byte >= 0x80 as '_' (it passes a signed char to its
// constant-time alphabet lookup), so hash_session_token checks the alphabet itself: a
// token with any byte outside base64url is refused (found by tests/fuzz).
TEST_F(CredentialsTest, NonAsciiBytesAreNotTokenCharacters) {
  // The token of 32 bytes 0xff: 42 '_' and a final '8'.
  std::string token(42, '_');
  token += '8';
  auto real = hash_session_token(token);
  ASSERT_TRUE(real);
  std::string high_byte = token;
  high_byte[10] = '\xd8';
  EXPECT_EQ(hash_session_token(high_byte), std::nullopt);
  std::string utf8 = token;
  utf8.replace(0, 2, "\xc3\xa9");  // "é", two bytes in place of "__"
  EXPECT_EQ(hash_session_token(utf8), std::nullopt);
}

TEST(HandleTest, ValidHandles) {
  for (std::string_view h : {"abc", "minji", "min_ji.97", "a.b", "___", "0123456789",
                             "abcdefghijklmnopqrstuvwxyz012345"})
    EXPECT_EQ(normalize_handle(h), std::optional<std::string>(std::string(h))) << h;
}

TEST(HandleTest, InvalidHandles) {
  for (std::string_view h : {"", "ab", "abcdefghijklmnopqrstuvwxyz0123456", "Minji", "MINJI",
                             "min ji", "min-ji", "민지야", "minji!", "min/ji", "min@ji", "minji\n"})
    EXPECT_EQ(normalize_handle(h), std::nullopt) << h;
  EXPECT_EQ(normalize_handle(std::string_view("abc\0def", 7)), std::nullopt);
}

}  // namespace
}  // namespace modu
