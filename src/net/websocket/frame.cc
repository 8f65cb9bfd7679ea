#include "net/websocket/frame.h"

#include <simdjson.h>

#include <cstring>

namespace modu::websocket {

bool valid_close_code(std::uint16_t code) {
  if (code >= 1000 && code <= 1003) return true;
  if (code >= 1007 && code <= 1011) return true;
  return code >= 3000 && code <= 4999;
}

HeaderStatus parse_client_header(std::string_view bytes, FrameHeader& out) {
  if (bytes.size() < 2) return HeaderStatus::kIncomplete;
  auto b0 = static_cast<std::uint8_t>(bytes[0]);
  auto b1 = static_cast<std::uint8_t>(bytes[1]);
  if (b0 & 0x70) return HeaderStatus::kInvalid;  // RSV1-3: no extension was negotiated
  std::uint8_t op = b0 & 0x0F;
  if (!(op <= 0x2 || (op >= 0x8 && op <= 0xA))) return HeaderStatus::kInvalid;
  if (!(b1 & 0x80)) return HeaderStatus::kInvalid;  // clients must mask (§5.1)
  out.fin = (b0 & 0x80) != 0;
  out.opcode = static_cast<Opcode>(op);
  std::uint64_t len = b1 & 0x7F;
  std::size_t pos = 2;
  if (len == 126) {
    if (bytes.size() < pos + 2) return HeaderStatus::kIncomplete;
    len = (std::uint64_t{static_cast<std::uint8_t>(bytes[2])} << 8) | static_cast<std::uint8_t>(bytes[3]);
    if (len < 126) return HeaderStatus::kInvalid;  // not the shortest form (§5.2)
    pos += 2;
  } else if (len == 127) {
    if (bytes.size() < pos + 8) return HeaderStatus::kIncomplete;
    len = 0;
    for (std::size_t i = 0; i < 8; ++i) len = (len << 8) | static_cast<std::uint8_t>(bytes[2 + i]);
    if (len >> 63) return HeaderStatus::kInvalid;
    if (len <= 0xFFFF) return HeaderStatus::kInvalid;
    pos += 8;
  }
  if (is_control(out.opcode) && (!out.fin || len > kMaxControlPayload)) return HeaderStatus::kInvalid;
  if (bytes.size() < pos + 4) return HeaderStatus::kIncomplete;
  std::memcpy(out.mask.data(), bytes.data() + pos, 4);
  out.payload_size = len;
  out.size = pos + 4;
  return HeaderStatus::kComplete;
}

void unmask(char* data, std::size_t size, const std::array<std::uint8_t, 4>& mask) {
  // Eight bytes at a time with the key repeated twice; the payload starts at key offset 0.
  std::uint32_t key32;
  std::memcpy(&key32, mask.data(), 4);
  std::uint64_t key64 = (std::uint64_t{key32} << 32) | key32;
  std::size_t i = 0;
  for (; i + 8 <= size; i += 8) {
    std::uint64_t word;
    std::memcpy(&word, data + i, 8);
    word ^= key64;
    std::memcpy(data + i, &word, 8);
  }
  for (; i < size; ++i) data[i] = static_cast<char>(data[i] ^ mask[i & 3]);
}

std::size_t write_server_header(Opcode opcode, std::uint64_t payload_size,
                                std::array<char, kMaxHeaderBytes>& out) {
  out[0] = static_cast<char>(0x80 | static_cast<std::uint8_t>(opcode));
  if (payload_size < 126) {
    out[1] = static_cast<char>(payload_size);
    return 2;
  }
  if (payload_size <= 0xFFFF) {
    out[1] = 126;
    out[2] = static_cast<char>(payload_size >> 8);
    out[3] = static_cast<char>(payload_size & 0xFF);
    return 4;
  }
  out[1] = 127;
  for (std::size_t i = 0; i < 8; ++i) out[2 + i] = static_cast<char>(payload_size >> (56 - 8 * i));
  return 10;
}

void append_control_frame(std::string& out, Opcode opcode, std::string_view payload) {
  payload = payload.substr(0, kMaxControlPayload);
  std::array<char, kMaxHeaderBytes> header;
  out.append(header.data(), write_server_header(opcode, payload.size(), header));
  out.append(payload);
}

void append_close_frame(std::string& out, std::uint16_t code) {
  const char payload[2] = {static_cast<char>(code >> 8), static_cast<char>(code & 0xFF)};
  append_control_frame(out, Opcode::kClose, std::string_view(payload, 2));
}

CloseStatus parse_close_payload(std::string_view payload, ClosePayload& out) {
  out = {};
  if (payload.empty()) return CloseStatus::kValid;
  if (payload.size() == 1) return CloseStatus::kProtocolError;
  out.code = static_cast<std::uint16_t>((static_cast<std::uint8_t>(payload[0]) << 8) |
                                        static_cast<std::uint8_t>(payload[1]));
  if (!valid_close_code(out.code)) return CloseStatus::kProtocolError;
  out.reason = payload.substr(2);
  if (!simdjson::validate_utf8(out.reason)) return CloseStatus::kInvalidUtf8;
  return CloseStatus::kValid;
}

}  // namespace modu::websocket
