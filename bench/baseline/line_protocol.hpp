// The baseline's text protocol, shared by modu-baseline (baseline/server.cpp) and its
// driver in modu-bench (src/drivers/baseline_client.cpp): one request or event per line,
// fields separated by single spaces.
#pragma once

#include <charconv>
#include <cstdint>
#include <string_view>

namespace baseline_protocol {

/// Splits the next space-separated field off `s`.
inline std::string_view field(std::string_view& s) {
  size_t sp = s.find(' ');
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
