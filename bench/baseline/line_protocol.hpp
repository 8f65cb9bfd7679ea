// The baseline's text protocol, shared by modu-baseline (baseline/server.cpp) and its
// driver in modu-bench (src/drivers/baseline_client.cpp): one request or event per line,
// fields separated by single spaces (records in sync and history answers by tabs).
#pragma once

#include <charconv>
#include <cstdint>
#include <string_view>

namespace baseline_protocol {

/// Splits the next field off `s`: up to the next `sep` (sync and history answers separate
/// their records with tabs, since a message's text may hold spaces).
inline std::string_view field(std::string_view& s, char sep = ' ') {
  size_t sp = s.find(sep);
  std::string_view f = s.substr(0, sp);
  s = sp == std::string_view::npos ? std::string_view{} : s.substr(sp + 1);
  return f;
}

/// The field as an integer; 0 if it is not one.
inline int64_t to_i64(std::string_view s) {
  int64_t v = 0;
  std::from_chars(s.data(), s.data() + s.size(), v);
  return v;
}

}  // namespace baseline_protocol
