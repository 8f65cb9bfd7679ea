// Fuzz target: the WebSocket Origin check (origin_allowed).
//
// Input: "origin\nhost\nallowed1\nallowed2..." (split on newlines; missing parts are empty).
// Invariants, checked against an independent statement of the rule in net/origin.h: no
// Origin is always allowed; otherwise only "*", an exact (case-insensitive) allow-list
// entry, or http(s)://<Host header> lets it through.
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "fuzz_check.h"
#include "net/origin.h"

namespace {

std::string lower(std::string_view s) {
  std::string out(s);
  for (char& c : out)
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  return out;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string_view input(reinterpret_cast<const char*>(data), size);
  std::vector<std::string> parts;
  std::size_t start = 0;
  while (parts.size() < 10) {
    auto nl = input.find('\n', start);
    parts.emplace_back(input.substr(start, nl == std::string_view::npos ? std::string_view::npos : nl - start));
    if (nl == std::string_view::npos) break;
    start = nl + 1;
  }
  parts.resize(std::max<std::size_t>(parts.size(), 2));
  const std::string& origin = parts[0];
  const std::string& host = parts[1];
  std::vector<std::string> allowed(parts.begin() + 2, parts.end());

  bool result = modu::origin_allowed(origin, host, allowed);

  bool listed = false;
  for (const auto& a : allowed) listed = listed || a == "*" || lower(a) == lower(origin);
  bool same_host = !host.empty() && host.find('/') == std::string::npos &&
                   (lower(origin) == "http://" + lower(host) ||
                                     lower(origin) == "https://" + lower(host));
  bool expected = origin.empty() || listed || same_host;
  MODU_FUZZ_CHECK(result == expected, input);
  // Also with no allow-list at all.
  bool bare = modu::origin_allowed(origin, host, {});
  MODU_FUZZ_CHECK(bare == (origin.empty() || same_host), input);
  return 0;
}
