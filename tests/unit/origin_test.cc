// Cross-site WebSocket hijacking defence (src/net/origin.h): which Origin headers may open
// a WebSocket, given the request's Host header and the --allow-origin list.
#include "net/origin.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace modu {
namespace {

const std::vector<std::string> kNone;

TEST(OriginTest, NoOriginHeaderIsANativeClient) {
  EXPECT_TRUE(origin_allowed("", "chat.example:8080", kNone));
  EXPECT_TRUE(origin_allowed("", "", kNone));
}

TEST(OriginTest, SameHostAndPortIsAllowed) {
  EXPECT_TRUE(origin_allowed("http://127.0.0.1:8080", "127.0.0.1:8080", kNone));
  EXPECT_TRUE(origin_allowed("https://chat.example", "chat.example", kNone));
  EXPECT_TRUE(origin_allowed("https://chat.example:8443", "chat.example:8443", kNone));
}

TEST(OriginTest, DifferentPortOrHostIsRefused) {
  EXPECT_FALSE(origin_allowed("http://127.0.0.1:8081", "127.0.0.1:8080", kNone));
  EXPECT_FALSE(origin_allowed("http://127.0.0.1", "127.0.0.1:8080", kNone));
  EXPECT_FALSE(origin_allowed("http://127.0.0.1:8080", "127.0.0.1", kNone));
  EXPECT_FALSE(origin_allowed("https://evil.example", "chat.example", kNone));
  EXPECT_FALSE(origin_allowed("https://chat.example.evil.example", "chat.example", kNone));
  EXPECT_FALSE(origin_allowed("https://evilchat.example", "chat.example", kNone));
  EXPECT_FALSE(origin_allowed("https://chat.example@evil.example", "chat.example", kNone));
  EXPECT_FALSE(origin_allowed("https://chat.example ", "chat.example", kNone));
}

TEST(OriginTest, EmptyHostMatchesNothing) {
  EXPECT_FALSE(origin_allowed("http://", "", kNone));
  EXPECT_FALSE(origin_allowed("http://chat.example", "", kNone));
}

TEST(OriginTest, SchemeAndHostCompareCaseInsensitively) {
  EXPECT_TRUE(origin_allowed("HTTPS://Chat.Example:8443", "chat.example:8443", kNone));
  EXPECT_TRUE(origin_allowed("http://chat.example", "CHAT.EXAMPLE", kNone));
  const std::vector<std::string> allowed = {"https://App.Example"};
  EXPECT_TRUE(origin_allowed("https://app.example", "chat.example", allowed));
}

TEST(OriginTest, OnlyHttpSchemesCountAsSameHost) {
  for (std::string_view origin :
       {"ws://chat.example", "wss://chat.example", "file://chat.example", "ftp://chat.example",
        "chrome-extension://chat.example", "javascript://chat.example", "://chat.example",
        "httpx://chat.example", "http:/chat.example", "chat.example"})
    EXPECT_FALSE(origin_allowed(origin, "chat.example", kNone)) << origin;
}

TEST(OriginTest, OpaqueNullOriginIsRefused) {
  EXPECT_FALSE(origin_allowed("null", "chat.example", kNone));
  EXPECT_FALSE(origin_allowed("null", "null", kNone));
}

TEST(OriginTest, OriginWithPathIsRefused) {
  EXPECT_FALSE(origin_allowed("http://chat.example/", "chat.example", kNone));
  EXPECT_FALSE(origin_allowed("http://chat.example/app", "chat.example", kNone));
  EXPECT_FALSE(origin_allowed("http://chat.example:8080/x", "chat.example:8080", kNone));
}

TEST(OriginTest, AllowListMatchesExactly) {
  const std::vector<std::string> allowed = {"https://app.example", "http://localhost:5173"};
  EXPECT_TRUE(origin_allowed("https://app.example", "chat.example", allowed));
  EXPECT_TRUE(origin_allowed("http://localhost:5173", "chat.example", allowed));
  EXPECT_FALSE(origin_allowed("https://app.example:443", "chat.example", allowed));
  EXPECT_FALSE(origin_allowed("https://app.example.evil", "chat.example", allowed));
  EXPECT_FALSE(origin_allowed("https://app.exampl", "chat.example", allowed));
  EXPECT_FALSE(origin_allowed("http://app.example", "chat.example", allowed));
  EXPECT_FALSE(origin_allowed("http://localhost:5174", "chat.example", allowed));
  EXPECT_FALSE(origin_allowed("null", "chat.example", allowed));
  // The server's own host stays allowed alongside the list.
  EXPECT_TRUE(origin_allowed("https://chat.example", "chat.example", allowed));
}

TEST(OriginTest, StarAllowsEveryOrigin) {
  const std::vector<std::string> star = {"*"};
  EXPECT_TRUE(origin_allowed("https://anything.example", "chat.example", star));
  EXPECT_TRUE(origin_allowed("null", "chat.example", star));
  EXPECT_TRUE(origin_allowed("chrome-extension://abc", "chat.example", star));
}

}  // namespace
}  // namespace modu
