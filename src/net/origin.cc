#include "net/origin.h"

#include <algorithm>

namespace modu {
namespace {
bool iequals(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           auto lower = [](char c) { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c + 32) : c; };
           return lower(x) == lower(y);
         });
}
}  // namespace

bool origin_allowed(std::string_view origin, std::string_view host,
                    const std::vector<std::string>& allowed) {
  if (origin.empty()) return true;
  for (const auto& a : allowed)
    if (a == "*" || iequals(a, origin)) return true;
  auto scheme_end = origin.find("://");
  if (scheme_end == std::string_view::npos) return false;  // includes "null"
  std::string_view scheme = origin.substr(0, scheme_end);
  if (!iequals(scheme, "http") && !iequals(scheme, "https")) return false;
  std::string_view origin_host = origin.substr(scheme_end + 3);
  if (origin_host.find('/') != std::string_view::npos) return false;
  return !host.empty() && iequals(origin_host, host);
}

}  // namespace modu
