// RFC 6455 framing, as a server speaks it: frames from clients are masked and read here;
// frames to clients are unmasked and written here. No extensions are negotiated, so every
// reserved bit must be clear.
//
// Pure functions over bytes: no I/O, no allocation. The session (net/ws_session.h) and
// the reader (net/websocket/message_reader.h) build on them; the fuzz target
// `websocket_frames` drives them with arbitrary bytes.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace modu::websocket {

enum class Opcode : std::uint8_t {
  kContinuation = 0x0,
  kText = 0x1,
  kBinary = 0x2,
  kClose = 0x8,
  kPing = 0x9,
  kPong = 0xA,
};

constexpr bool is_control(Opcode op) { return (static_cast<std::uint8_t>(op) & 0x8) != 0; }

// The close codes this server sends (RFC 6455 §7.4.1).
enum class CloseCode : std::uint16_t {
  kNormal = 1000,
  kGoingAway = 1001,
  kProtocolError = 1002,
  kUnsupportedData = 1003,  // e.g. a binary message: the protocol is text
  kInvalidPayload = 1007,   // text that is not UTF-8
  kTooBig = 1009,
};

// Whether a peer may send `code` in a close frame (§7.4: 1000–1003, 1007–1011, 3000–4999).
bool valid_close_code(std::uint16_t code);

constexpr std::size_t kMaxHeaderBytes = 14;       // 2 + 8 (length) + 4 (mask)
constexpr std::size_t kMaxControlPayload = 125;

struct FrameHeader {
  bool fin = false;
  Opcode opcode = Opcode::kContinuation;
  std::uint64_t payload_size = 0;
  std::array<std::uint8_t, 4> mask{};
  std::size_t size = 0;  // bytes of the header itself
};

enum class HeaderStatus {
  kComplete,    // `out` is filled; the payload starts `out.size` bytes in
  kIncomplete,  // more bytes are needed before the header can be read
  kInvalid,     // a protocol error (close with 1002)
};

// Reads the header of a client's frame at the front of `bytes`. Invalid: a reserved bit
// set, an unknown opcode, an unmasked frame, a fragmented or over-long control frame, a
// length not in its shortest form, or a 64-bit length with the top bit set.
HeaderStatus parse_client_header(std::string_view bytes, FrameHeader& out);

// XORs `size` bytes of payload with the frame's mask, in place.
void unmask(char* data, std::size_t size, const std::array<std::uint8_t, 4>& mask);

// Writes the header of an unmasked, final server frame into `out`; returns its size (2,
// 4 or 10 bytes).
std::size_t write_server_header(Opcode opcode, std::uint64_t payload_size,
                                std::array<char, kMaxHeaderBytes>& out);

// Appends a whole server control frame (ping, pong or close) to `out`. The payload is cut
// to 125 bytes.
void append_control_frame(std::string& out, Opcode opcode, std::string_view payload);

// Appends a close frame carrying `code` (and no reason) to `out`.
void append_close_frame(std::string& out, std::uint16_t code);

// A close frame's payload: no code at all, or a valid code followed by a UTF-8 reason.
struct ClosePayload {
  std::uint16_t code = 0;  // 0: the peer gave none
  std::string_view reason;
};
enum class CloseStatus { kValid, kProtocolError, kInvalidUtf8 };
CloseStatus parse_close_payload(std::string_view payload, ClosePayload& out);

}  // namespace modu::websocket
