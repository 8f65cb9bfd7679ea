#include "protocol/json_writer.h"

#include <array>
#include <cstring>

namespace modu::detail {

namespace {

// For each byte: 0 to copy it as is, else the letter of its escape ('u': \u00XX).
constexpr std::array<char, 256> kEscape = [] {
  std::array<char, 256> table{};
  for (int c = 0; c < 0x20; ++c) table[static_cast<std::size_t>(c)] = 'u';
  table['\b'] = 'b';
  table['\t'] = 't';
  table['\n'] = 'n';
  table['\f'] = 'f';
  table['\r'] = 'r';
  table['"'] = '"';
  table['\\'] = '\\';
  return table;
}();

constexpr char kHex[] = "0123456789ABCDEF";

}  // namespace

void StringRunWriter::write_escaped(std::string_view s) {
  const std::size_t most = 2 + 6 * s.size();  // every byte escaped as \u00XX
  char* const begin = os_->Push(most);
  char* out = begin;
  *out++ = '"';
  const char* p = s.data();
  const char* const end = p + s.size();
  while (p != end) {
    const char* run = p;
    while (p != end && !kEscape[static_cast<unsigned char>(*p)]) ++p;
    std::memcpy(out, run, static_cast<std::size_t>(p - run));
    out += p - run;
    if (p == end) break;
    const auto c = static_cast<unsigned char>(*p++);
    *out++ = '\\';
    *out++ = kEscape[c];
    if (kEscape[c] == 'u') {
      *out++ = '0';
      *out++ = '0';
      *out++ = kHex[c >> 4];
      *out++ = kHex[c & 0xF];
    }
  }
  *out++ = '"';
  os_->Pop(most - static_cast<std::size_t>(out - begin));
}

}  // namespace modu::detail
