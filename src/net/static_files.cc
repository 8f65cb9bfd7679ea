#include "net/static_files.h"

#include <array>
#include <utility>

namespace modu {

std::optional<std::filesystem::path> resolve_static(const std::filesystem::path& root,
                                                    std::string_view target) {
  if (root.empty()) return std::nullopt;
  auto q = target.find_first_of("?#");
  std::string_view path = target.substr(0, q);
  if (path.empty() || path.front() != '/') return std::nullopt;
  if (path.find("..") != std::string_view::npos || path.find('\\') != std::string_view::npos ||
      path.find('\0') != std::string_view::npos || path.find("//") != std::string_view::npos)
    return std::nullopt;
  std::filesystem::path rel(path.substr(1));
  std::error_code ec;
  if (!rel.empty()) {
    auto file = root / rel;
    if (std::filesystem::is_regular_file(file, ec)) return file;
    if (rel.has_extension()) return std::nullopt;
  }
  auto index = root / "index.html";
  if (std::filesystem::is_regular_file(index, ec)) return index;
  return std::nullopt;
}

std::string_view content_type_for(const std::filesystem::path& file) {
  static constexpr std::array<std::pair<std::string_view, std::string_view>, 14> kTypes = {{
      {".html", "text/html; charset=utf-8"},
      {".js", "text/javascript; charset=utf-8"},
      {".mjs", "text/javascript; charset=utf-8"},
      {".css", "text/css; charset=utf-8"},
      {".json", "application/json"},
      {".webmanifest", "application/manifest+json"},
      {".svg", "image/svg+xml"},
      {".png", "image/png"},
      {".jpg", "image/jpeg"},
      {".webp", "image/webp"},
      {".ico", "image/x-icon"},
      {".woff2", "font/woff2"},
      {".txt", "text/plain; charset=utf-8"},
      {".map", "application/json"},
  }};
  auto ext = file.extension().string();
  for (const auto& [e, t] : kTypes)
    if (e == ext) return t;
  return "application/octet-stream";
}

}  // namespace modu
