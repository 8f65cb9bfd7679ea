// The WebSocket layer's pure parts: frame headers, masking, the opening handshake's
// accept value, close payloads, the message reader, and the per-loop keep-alive timer.
#include <gtest/gtest.h>

#include <boost/asio/io_context.hpp>

#include <optional>
#include <span>
#include <string>
#include <vector>

#include "net/websocket/frame.h"
#include "net/websocket/handshake.h"
#include "net/websocket/keep_alive.h"
#include "net/websocket/message_reader.h"

namespace modu::websocket {
namespace {

// A client's frame: masked with `mask`, length in its shortest form.
std::string client_frame(Opcode op, std::string_view payload, bool fin = true,
                         std::array<std::uint8_t, 4> mask = {0x12, 0x34, 0x56, 0x78}) {
  std::string out;
  out.push_back(static_cast<char>((fin ? 0x80 : 0) | static_cast<std::uint8_t>(op)));
  if (payload.size() < 126) {
    out.push_back(static_cast<char>(0x80 | payload.size()));
  } else if (payload.size() <= 0xFFFF) {
    out.push_back(static_cast<char>(0x80 | 126));
    out.push_back(static_cast<char>(payload.size() >> 8));
    out.push_back(static_cast<char>(payload.size() & 0xFF));
  } else {
    out.push_back(static_cast<char>(0x80 | 127));
    for (int i = 7; i >= 0; --i) out.push_back(static_cast<char>((std::uint64_t{payload.size()} >> (8 * i)) & 0xFF));
  }
  out.append(reinterpret_cast<const char*>(mask.data()), 4);
  for (std::size_t i = 0; i < payload.size(); ++i) out.push_back(static_cast<char>(payload[i] ^ mask[i % 4]));
  return out;
}

TEST(WebSocketFrame, HeaderLengthsInAllThreeForms) {
  for (std::size_t size : {0u, 1u, 125u, 126u, 65535u, 65536u, 100000u}) {
    std::string frame = client_frame(Opcode::kText, std::string(size, 'x'));
    FrameHeader h;
    ASSERT_EQ(parse_client_header(frame, h), HeaderStatus::kComplete) << size;
    EXPECT_TRUE(h.fin);
    EXPECT_EQ(h.opcode, Opcode::kText);
    EXPECT_EQ(h.payload_size, size);
    EXPECT_EQ(h.size, frame.size() - size);
    EXPECT_EQ(h.mask, (std::array<std::uint8_t, 4>{0x12, 0x34, 0x56, 0x78}));
    // Every shorter prefix of the header is incomplete, never invalid.
    for (std::size_t cut = 0; cut < h.size; ++cut)
      EXPECT_EQ(parse_client_header(std::string_view(frame).substr(0, cut), h), HeaderStatus::kIncomplete)
          << size << " cut at " << cut;
  }
}

TEST(WebSocketFrame, InvalidHeadersAreProtocolErrors) {
  FrameHeader h;
  auto invalid = [&](std::string bytes) { return parse_client_header(bytes, h) == HeaderStatus::kInvalid; };
  std::string text = client_frame(Opcode::kText, "hi");
  for (char rsv : {'\x40', '\x20', '\x10'}) {
    std::string f = text;
    f[0] = static_cast<char>(f[0] | rsv);
    EXPECT_TRUE(invalid(f)) << "reserved bit";
  }
  for (int op : {3, 4, 7, 0xB, 0xF}) {
    std::string f = text;
    f[0] = static_cast<char>(0x80 | op);
    EXPECT_TRUE(invalid(f)) << "opcode " << op;
  }
  std::string unmasked = text;
  unmasked[1] = static_cast<char>(unmasked[1] & 0x7F);
  EXPECT_TRUE(invalid(unmasked)) << "clients must mask";
  EXPECT_TRUE(invalid(client_frame(Opcode::kPing, "p", /*fin=*/false))) << "fragmented control frame";
  EXPECT_TRUE(invalid(client_frame(Opcode::kPing, std::string(126, 'p')))) << "control frame over 125 bytes";
  EXPECT_EQ(parse_client_header(client_frame(Opcode::kPong, std::string(125, 'p')), h), HeaderStatus::kComplete);
  // Lengths not in their shortest form, and a 64-bit length with its top bit set.
  EXPECT_TRUE(invalid(std::string("\x81\xFE\x00\x7D", 4) + "mask"));
  EXPECT_TRUE(invalid(std::string("\x81\xFF\x00\x00\x00\x00\x00\x00\xFF\xFF", 10) + "mask"));
  EXPECT_TRUE(invalid(std::string("\x81\xFF\x80\x00\x00\x00\x00\x01\x00\x00", 10) + "mask"));
}

TEST(WebSocketFrame, UnmaskMatchesTheBytewiseRuleAtEveryLength) {
  std::array<std::uint8_t, 4> mask{0xA1, 0x02, 0xF3, 0x7C};
  for (std::size_t size = 0; size < 40; ++size) {
    std::string data;
    for (std::size_t i = 0; i < size; ++i) data.push_back(static_cast<char>(i * 37 + 11));
    std::string expected = data;
    for (std::size_t i = 0; i < size; ++i) expected[i] = static_cast<char>(expected[i] ^ mask[i % 4]);
    unmask(data.data(), data.size(), mask);
    EXPECT_EQ(data, expected) << size;
  }
}

TEST(WebSocketFrame, ServerHeadersAreFinalUnmaskedAndShortest) {
  std::array<char, kMaxHeaderBytes> h;
  ASSERT_EQ(write_server_header(Opcode::kText, 5, h), 2u);
  EXPECT_EQ(std::string(h.data(), 2), std::string("\x81\x05", 2));
  ASSERT_EQ(write_server_header(Opcode::kText, 126, h), 4u);
  EXPECT_EQ(std::string(h.data(), 4), std::string("\x81\x7E\x00\x7E", 4));
  ASSERT_EQ(write_server_header(Opcode::kPong, 65535, h), 4u);
  EXPECT_EQ(std::string(h.data(), 4), std::string("\x8A\x7E\xFF\xFF", 4));
  ASSERT_EQ(write_server_header(Opcode::kText, 65536, h), 10u);
  EXPECT_EQ(std::string(h.data(), 10), std::string("\x81\x7F\x00\x00\x00\x00\x00\x01\x00\x00", 10));
  std::string close;
  append_close_frame(close, 1009);
  EXPECT_EQ(close, std::string("\x88\x02\x03\xF1", 4));
}

TEST(WebSocketHandshake, AcceptValueOfTheRfcExample) {
  // RFC 6455 §1.3.
  EXPECT_EQ(accept_value("dGhlIHNhbXBsZSBub25jZQ=="), std::optional<std::string>("s3pPLMBiTxaQ9kYGzzhZRbK+xOo="));
  for (std::string_view bad : {"", "dGhlIHNhbXBsZSBub25jZQ", "dGhlIHNhbXBsZSBub25jZQ=", "dGhlIHNhbXBsZSBub25jZQ==x",
                               "dGhlIHNhbXBsZSBub25j!Q==", "dGhlIHNhbXBsZSBub25jZQ=A"})
    EXPECT_FALSE(accept_value(bad)) << bad;
  std::string response = switching_protocols_response("abc=");
  EXPECT_EQ(response.rfind("HTTP/1.1 101 Switching Protocols\r\n", 0), 0u);
  EXPECT_NE(response.find("\r\nSec-WebSocket-Accept: abc=\r\n\r\n"), std::string::npos);
}

TEST(WebSocketFrame, ClosePayloads) {
  ClosePayload c;
  EXPECT_EQ(parse_close_payload("", c), CloseStatus::kValid);
  EXPECT_EQ(c.code, 0);
  EXPECT_EQ(parse_close_payload("\x03", c), CloseStatus::kProtocolError);
  const std::string normal_bye("\x03\xE8" "bye", 5);  // the reason is a view into the payload
  EXPECT_EQ(parse_close_payload(normal_bye, c), CloseStatus::kValid);
  EXPECT_EQ(c.code, 1000);
  EXPECT_EQ(c.reason, "bye");
  EXPECT_EQ(parse_close_payload(std::string("\x0F\xA0", 2), c), CloseStatus::kValid);  // 4000: private use
  for (std::uint16_t code : {0, 999, 1004, 1005, 1006, 1015, 1100, 2999, 5000})
    EXPECT_FALSE(valid_close_code(code)) << code;
  EXPECT_EQ(parse_close_payload(std::string("\x03\xED", 2), c), CloseStatus::kProtocolError);  // 1005
  EXPECT_EQ(parse_close_payload(std::string("\x03\xE8\xC3\x28", 4), c), CloseStatus::kInvalidUtf8);
}

// Records what the reader hands on.
struct Recorder {
  std::vector<std::string> texts;
  std::vector<std::string_view> views;  // into the fed bytes, for the zero-copy check
  std::vector<std::string> pings;
  std::optional<std::uint16_t> close_code;
  bool stop = false;
  bool reading() const { return !stop; }
  void on_text(std::string_view t) {
    texts.emplace_back(t);
    views.push_back(t);
  }
  void on_ping(std::string_view p) { pings.emplace_back(p); }
  void on_close(const ClosePayload& c) { close_code = c.code; }
};

std::optional<CloseCode> feed(MessageReader& reader, std::string bytes, Recorder& r) {
  return reader.feed(std::span<char>(bytes.data(), bytes.size()), r);
}

TEST(WebSocketReader, WholeMessageIsHandedOnFromTheCallersBytesUnmasked) {
  MessageReader reader(1024);
  Recorder r;
  std::string bytes = client_frame(Opcode::kText, R"({"op":"ping"})");
  ASSERT_FALSE(reader.feed(std::span<char>(bytes.data(), bytes.size()), r));
  ASSERT_EQ(r.texts, std::vector<std::string>{R"({"op":"ping"})"});
  EXPECT_GE(r.views[0].data(), bytes.data());
  EXPECT_LT(r.views[0].data(), bytes.data() + bytes.size()) << "a whole message must not be copied";
  EXPECT_EQ(reader.buffered(), 0u);
}

TEST(WebSocketReader, AnyChunkingYieldsTheSameMessagesAndControlFrames) {
  std::string stream = client_frame(Opcode::kText, "first") + client_frame(Opcode::kText, "sec", false) +
                       client_frame(Opcode::kPing, "p1") + client_frame(Opcode::kContinuation, "o", false) +
                       client_frame(Opcode::kContinuation, "nd") + client_frame(Opcode::kPong, "") +
                       client_frame(Opcode::kText, std::string(300, 'L')) +
                       client_frame(Opcode::kText, "\xED\x95\x9C\xEA\xB8\x80") +  // Korean, two characters
                       client_frame(Opcode::kClose, std::string("\x03\xE8", 2)) + client_frame(Opcode::kText, "after");
  for (std::size_t chunk = 1; chunk <= stream.size(); ++chunk) {
    MessageReader reader(1024);
    Recorder r;
    for (std::size_t at = 0; at < stream.size(); at += chunk)
      ASSERT_FALSE(feed(reader, stream.substr(at, chunk), r)) << chunk;
    ASSERT_EQ(r.texts, (std::vector<std::string>{"first", "second", std::string(300, 'L'), "\xED\x95\x9C\xEA\xB8\x80"}))
        << "chunks of " << chunk;
    EXPECT_EQ(r.pings, std::vector<std::string>{"p1"});
    EXPECT_EQ(r.close_code, std::optional<std::uint16_t>(1000)) << "chunks of " << chunk;
    EXPECT_TRUE(reader.done());
    EXPECT_EQ(reader.buffered(), 0u) << "nothing is kept once the peer has closed";
  }
}

TEST(WebSocketReader, ViolationsCloseWithTheirCodes) {
  struct Case {
    std::string bytes;
    CloseCode code;
  };
  std::vector<Case> cases = {
      {client_frame(Opcode::kBinary, "{}"), CloseCode::kUnsupportedData},
      {client_frame(Opcode::kContinuation, "x"), CloseCode::kProtocolError},
      {client_frame(Opcode::kText, "a", false) + client_frame(Opcode::kText, "b"), CloseCode::kProtocolError},
      {client_frame(Opcode::kText, "\xC3\x28"), CloseCode::kInvalidPayload},
      {client_frame(Opcode::kText, "\xED\x95", false) + client_frame(Opcode::kContinuation, "\x28"),
       CloseCode::kInvalidPayload},
      {client_frame(Opcode::kClose, "\x03"), CloseCode::kProtocolError},
      {client_frame(Opcode::kText, std::string(101, 'x')), CloseCode::kTooBig},
      {client_frame(Opcode::kText, std::string(60, 'x'), false) + client_frame(Opcode::kContinuation, std::string(41, 'x')),
       CloseCode::kTooBig},
  };
  for (const auto& c : cases) {
    MessageReader reader(100);
    Recorder r;
    EXPECT_EQ(feed(reader, c.bytes, r), std::optional<CloseCode>(c.code));
    EXPECT_TRUE(reader.done());
    EXPECT_TRUE(r.texts.empty());
    EXPECT_FALSE(feed(reader, client_frame(Opcode::kText, "later"), r)) << "a spent reader ignores bytes";
    EXPECT_TRUE(r.texts.empty());
  }
}

TEST(WebSocketReader, OversizedFrameIsRefusedBeforeItsPayloadIsBuffered) {
  MessageReader reader(64 * 1024);
  Recorder r;
  std::string frame = client_frame(Opcode::kText, std::string(70000, 'a'));
  // Only the header has arrived: the declared size alone decides.
  EXPECT_EQ(feed(reader, frame.substr(0, 14), r), std::optional<CloseCode>(CloseCode::kTooBig));
  EXPECT_EQ(reader.buffered(), 0u);
}

TEST(WebSocketReader, PartialFrameIsHeldAndReleasedOnceComplete) {
  MessageReader reader(64 * 1024);
  Recorder r;
  std::string frame = client_frame(Opcode::kText, std::string(5000, 'b'));
  ASSERT_FALSE(feed(reader, frame.substr(0, 3000), r));
  EXPECT_EQ(reader.buffered(), 3000u);
  ASSERT_FALSE(feed(reader, frame.substr(3000), r));
  ASSERT_EQ(r.texts.size(), 1u);
  EXPECT_EQ(r.texts[0].size(), 5000u);
  EXPECT_EQ(reader.buffered(), 0u);
}

TEST(WebSocketReader, StopsWhenTheVisitorStopsReading) {
  MessageReader reader(1024);
  Recorder r;
  r.stop = true;
  ASSERT_FALSE(feed(reader, client_frame(Opcode::kText, "x"), r));
  EXPECT_TRUE(r.texts.empty());
}

struct CountingMember : KeepAliveMember {
  int ticks = 0;
  void on_keep_alive_tick() override { ++ticks; }
};

TEST(WebSocketKeepAlive, TicksEveryMemberOncePerPeriodAndForgetsDestroyedOnes) {
  boost::asio::io_context io;
  KeepAlive keep_alive(io);
  keep_alive.set_period(std::chrono::milliseconds(20));
  CountingMember stays;
  auto leaves = std::make_unique<CountingMember>();
  keep_alive.join(stays);
  keep_alive.join(*leaves);
  EXPECT_EQ(keep_alive.members(), 2u);
  io.run_for(std::chrono::milliseconds(50));
  EXPECT_GE(stays.ticks, 1);
  EXPECT_EQ(leaves->ticks, stays.ticks);
  leaves.reset();
  EXPECT_EQ(keep_alive.members(), 1u);
  int before = stays.ticks;
  io.restart();
  io.run_for(std::chrono::milliseconds(50));
  EXPECT_GT(stays.ticks, before);
}

TEST(WebSocketKeepAlive, StopsTickingWhenNoMemberIsLeft) {
  boost::asio::io_context io;
  KeepAlive keep_alive(io);
  keep_alive.set_period(std::chrono::milliseconds(5));
  { CountingMember gone; keep_alive.join(gone); }
  // With no member left the timer fires once more and is not re-armed, so run() returns.
  auto started = std::chrono::steady_clock::now();
  io.run();
  EXPECT_LT(std::chrono::steady_clock::now() - started, std::chrono::seconds(1));
}

}  // namespace
}  // namespace modu::websocket
