// Fuzz target: the static file resolver (resolve_static) over a small web root.
//
// Invariants: whatever the target, a resolved file is a regular file inside the root (a
// sibling file outside the root is never served); targets whose path holds "..", '\\',
// NUL or "//" are refused; content_type_for never fails.
#include <stdlib.h>
#include <unistd.h>

#include <cstdint>
#include <filesystem>
#include <fstream>
#include <string>
#include <string_view>

#include "fuzz_check.h"
#include "net/static_files.h"

namespace {

namespace fs = std::filesystem;

// A temporary tree: <dir>/web is the root, <dir>/secret.txt sits outside it.
struct WebRoot {
  WebRoot() {
    std::string tmpl = (fs::temp_directory_path() / "modu-fuzz-static-XXXXXX").string();
    if (mkdtemp(tmpl.data()) == nullptr) modu::fuzz::fail("mkdtemp");
    dir = tmpl;
    root = dir / "web";
    for (const char* f : {"web/index.html", "web/app.js", "web/assets/style.css", "web/assets/logo.png",
                          "web/chats/index.html", "secret.txt", "websecret.txt"}) {
      fs::create_directories((dir / f).parent_path());
      std::ofstream(dir / f) << f;
    }
    canonical_root = fs::canonical(root);
  }
  ~WebRoot() {
    std::error_code ec;
    fs::remove_all(dir, ec);
  }
  fs::path dir, root, canonical_root;
};

bool inside(const fs::path& p, const fs::path& root) {
  auto [r, q] = std::mismatch(root.begin(), root.end(), p.begin(), p.end());
  return r == root.end() && q != p.end();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static WebRoot web;
  std::string_view target(reinterpret_cast<const char*>(data), size);
  auto file = modu::resolve_static(web.root, target);

  std::string_view path = target.substr(0, target.find_first_of("?#"));
  bool suspicious = path.find("..") != std::string_view::npos || path.find('\\') != std::string_view::npos ||
                    path.find('\0') != std::string_view::npos || path.find("//") != std::string_view::npos;
  if (suspicious) MODU_FUZZ_CHECK(!file, target);
  if (file) {
    std::error_code ec;
    MODU_FUZZ_CHECK(fs::is_regular_file(*file, ec), target);
    MODU_FUZZ_CHECK(inside(fs::canonical(*file, ec), web.canonical_root), target);
    MODU_FUZZ_CHECK(inside(file->lexically_normal(), web.root.lexically_normal()), target);
    MODU_FUZZ_CHECK(!modu::content_type_for(*file).empty(), target);
  }
  (void)modu::content_type_for(fs::path(std::string(path)));
  return 0;
}
