// Serving the built web client (src/net/static_files.h): target -> file under the root,
// the index.html fallback for client-side routes, and refusal of anything that could
// leave the root.
#include "net/static_files.h"

#include <gtest/gtest.h>

#include "test_support.h"

namespace modu {
namespace {

using test::TempDir;

class StaticFilesTest : public ::testing::Test {
 protected:
  StaticFilesTest() {
    dir_.write("web/index.html", "<!doctype html>");
    dir_.write("web/app.js", "console.log(1)");
    dir_.write("web/assets/logo.png", "png");
    dir_.write("web/assets/style.css", "body{}");
    dir_.write("web/manifest.webmanifest", "{}");
    dir_.write("secret.txt", "outside the root");
    root_ = dir_.path() / "web";
  }

  std::optional<std::filesystem::path> resolve(std::string_view target) {
    return resolve_static(root_, target);
  }
  std::filesystem::path at(const std::string& relative) { return root_ / relative; }

  TempDir dir_;
  std::filesystem::path root_;
};

TEST_F(StaticFilesTest, RootServesIndex) {
  EXPECT_EQ(resolve("/"), at("index.html"));
  EXPECT_EQ(resolve("/index.html"), at("index.html"));
}

TEST_F(StaticFilesTest, ExistingFilesAreServed) {
  EXPECT_EQ(resolve("/app.js"), at("app.js"));
  EXPECT_EQ(resolve("/assets/logo.png"), at("assets/logo.png"));
  EXPECT_EQ(resolve("/assets/style.css"), at("assets/style.css"));
}

TEST_F(StaticFilesTest, QueryAndFragmentAreStripped) {
  EXPECT_EQ(resolve("/app.js?v=3"), at("app.js"));
  EXPECT_EQ(resolve("/app.js#top"), at("app.js"));
  EXPECT_EQ(resolve("/?x=/../../secret.txt"), at("index.html"));
  EXPECT_EQ(resolve("/chats/12?tab=media"), at("index.html"));
}

TEST_F(StaticFilesTest, RoutesWithoutExtensionFallBackToIndex) {
  EXPECT_EQ(resolve("/chats"), at("index.html"));
  EXPECT_EQ(resolve("/chats/12"), at("index.html"));
  EXPECT_EQ(resolve("/friends/"), at("index.html"));
  EXPECT_EQ(resolve("/assets"), at("index.html"));  // a directory is not a file
}

TEST_F(StaticFilesTest, MissingAssetWithExtensionIsNotFound) {
  EXPECT_EQ(resolve("/missing.js"), std::nullopt);
  EXPECT_EQ(resolve("/assets/missing.png"), std::nullopt);
  EXPECT_EQ(resolve("/chats/12.json"), std::nullopt);
}

TEST_F(StaticFilesTest, TraversalIsRefused) {
  for (std::string_view target :
       {"/../secret.txt", "/..", "/assets/../../secret.txt", "/assets/../app.js", "/..%2fsecret.txt",
        "/a/..", "/....//secret.txt"})
    EXPECT_EQ(resolve(target), std::nullopt) << target;
}

TEST_F(StaticFilesTest, BackslashesAndDoubleSlashesAreRefused) {
  for (std::string_view target :
       {"/..\\secret.txt", "/assets\\logo.png", "//secret.txt", "//etc/passwd", "/assets//logo.png"})
    EXPECT_EQ(resolve(target), std::nullopt) << target;
}

TEST_F(StaticFilesTest, NulIsRefused) {
  EXPECT_EQ(resolve(std::string_view("/app.js\0.png", 12)), std::nullopt);
}

TEST_F(StaticFilesTest, TargetsMustBeAbsolutePaths) {
  EXPECT_EQ(resolve(""), std::nullopt);
  EXPECT_EQ(resolve("app.js"), std::nullopt);
  EXPECT_EQ(resolve("?x=1"), std::nullopt);
  EXPECT_EQ(resolve("http://host/app.js"), std::nullopt);
}

TEST_F(StaticFilesTest, NoRootOrNoIndex) {
  EXPECT_EQ(resolve_static("", "/app.js"), std::nullopt);
  TempDir empty;
  empty.write("app.js", "x");
  EXPECT_EQ(resolve_static(empty.path(), "/app.js"), empty.path() / "app.js");
  EXPECT_EQ(resolve_static(empty.path(), "/"), std::nullopt);
  EXPECT_EQ(resolve_static(empty.path(), "/chats/1"), std::nullopt);
}

TEST(ContentTypeTest, KnownTypes) {
  EXPECT_EQ(content_type_for("a/index.html"), "text/html; charset=utf-8");
  EXPECT_EQ(content_type_for("app.js"), "text/javascript; charset=utf-8");
  EXPECT_EQ(content_type_for("app.mjs"), "text/javascript; charset=utf-8");
  EXPECT_EQ(content_type_for("style.css"), "text/css; charset=utf-8");
  EXPECT_EQ(content_type_for("data.json"), "application/json");
  EXPECT_EQ(content_type_for("manifest.webmanifest"), "application/manifest+json");
  EXPECT_EQ(content_type_for("icon.svg"), "image/svg+xml");
  EXPECT_EQ(content_type_for("logo.png"), "image/png");
  EXPECT_EQ(content_type_for("photo.jpg"), "image/jpeg");
  EXPECT_EQ(content_type_for("photo.webp"), "image/webp");
  EXPECT_EQ(content_type_for("favicon.ico"), "image/x-icon");
  EXPECT_EQ(content_type_for("font.woff2"), "font/woff2");
  EXPECT_EQ(content_type_for("robots.txt"), "text/plain; charset=utf-8");
  EXPECT_EQ(content_type_for("app.js.map"), "application/json");
}

TEST(ContentTypeTest, UnknownTypesAreOctetStream) {
  EXPECT_EQ(content_type_for("archive.tar.gz"), "application/octet-stream");
  EXPECT_EQ(content_type_for("README"), "application/octet-stream");
  EXPECT_EQ(content_type_for(".html.bak"), "application/octet-stream");
}

}  // namespace
}  // namespace modu
