#include "protocol/json_writer.h"

#include <array>
#include <cstdint>
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

constexpr std::uint64_t kEachByte = 0x0101010101010101ULL;
constexpr std::uint64_t kHighBits = 0x8080808080808080ULL;

// Non-zero iff one of the 8 bytes of `x` is below `n` (n <= 0x80). Bytes >= 0x80 never count.
constexpr std::uint64_t has_byte_below(std::uint64_t x, std::uint8_t n) {
  return (x - kEachByte * n) & ~x & kHighBits;
}
constexpr std::uint64_t has_byte(std::uint64_t x, char c) {
  return has_byte_below(x ^ (kEachByte * static_cast<std::uint8_t>(c)), 1);
}

// Writes one byte, escaped if it must be; returns the new end.
char* put(char* out, unsigned char c) {
  const char escape = kEscape[c];
  if (!escape) {
    *out++ = static_cast<char>(c);
    return out;
  }
  *out++ = '\\';
  *out++ = escape;
  if (escape == 'u') {
    *out++ = '0';
    *out++ = '0';
    *out++ = kHex[c >> 4];
    *out++ = kHex[c & 0xF];
  }
  return out;
}

}  // namespace

// Eight bytes at a time: a block with nothing to escape (control characters, '"', '\\') is
// copied whole; a block with something is written byte by byte.
void StringRunWriter::write_escaped(std::string_view s) {
  const std::size_t most = 2 + 6 * s.size();  // every byte escaped as \u00XX
  char* const begin = os_->Push(most);
  char* out = begin;
  *out++ = '"';
  const char* p = s.data();
  const char* const end = p + s.size();
  while (end - p >= 8) {
    std::uint64_t block;
    std::memcpy(&block, p, 8);
    if (!(has_byte_below(block, 0x20) | has_byte(block, '"') | has_byte(block, '\\'))) {
      std::memcpy(out, p, 8);
      out += 8;
      p += 8;
      continue;
    }
    for (const char* block_end = p + 8; p != block_end; ++p) out = put(out, static_cast<unsigned char>(*p));
  }
  for (; p != end; ++p) out = put(out, static_cast<unsigned char>(*p));
  *out++ = '"';
  os_->Pop(most - static_cast<std::size_t>(out - begin));
}

}  // namespace modu::detail
