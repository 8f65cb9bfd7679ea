// Small JSON helpers shared by the drivers: string escaping for requests we build.
#pragma once
#include <string>
#include <string_view>

namespace bench {

/// Appends `s` as a JSON string literal (with quotes) to `out`.
inline void json_append_string(std::string& out, std::string_view s) {
  static const char* hex = "0123456789abcdef";
  out += '"';
  for (unsigned char c : s) {
    switch (c) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\n': out += "\\n"; break;
      case '\r': out += "\\r"; break;
      case '\t': out += "\\t"; break;
      default:
        if (c < 0x20) {
          out += "\\u00";
          out += hex[c >> 4];
          out += hex[c & 15];
        } else {
          out += char(c);
        }
    }
  }
  out += '"';
}

inline std::string json_string(std::string_view s) {
  std::string o;
  json_append_string(o, s);
  return o;
}

}  // namespace bench
