// The WebSocket layer as a client meets it (RFC 6455, net/websocket/): the opening
// handshake, fragments and control frames, protocol violations and their close codes, the
// close handshake, and the server's keep-alive pings. Frames are hand-made with
// RawWebSocket, since a real client library cannot produce most of them.
#include <thread>

#include "harness/modu_test.h"

namespace modu_it {
namespace {

using namespace std::chrono_literals;
using Frame = RawWebSocket::Frame;

class WebSocketTest : public ModuTest {};

// Reads frames until a text frame containing `needle` arrives; collects everything seen.
std::optional<Frame> text_containing(RawWebSocket& ws, std::string_view needle, std::vector<Frame>* seen = nullptr) {
  while (auto frame = ws.next_frame(5s)) {
    if (seen) seen->push_back(*frame);
    if (frame->opcode == 1 && frame->payload.find(needle) != std::string::npos) return frame;
  }
  return std::nullopt;
}

TEST_F(WebSocketTest, ServerFramesAreFinalUnmaskedText) {
  RawWebSocket ws(port());
  auto hello = text_containing(ws, "\"event\":\"hello\"");
  ASSERT_TRUE(hello);
  EXPECT_TRUE(hello->fin);
  EXPECT_FALSE(hello->masked) << "a server must not mask (RFC 6455 §5.1)";
}

TEST_F(WebSocketTest, FragmentedRequestWithAPingBetweenIsAssembledAndThePingAnswered) {
  RawWebSocket ws(port());
  ASSERT_TRUE(text_containing(ws, "\"event\":\"hello\""));
  ws.send_frame(1, R"({"id":7,)", /*fin=*/false);
  ws.send_frame(9, "are you there");
  ws.send_frame(0, R"("op":)", false);
  ws.send_frame(0, R"("ping"})");
  std::vector<Frame> seen;
  auto answer = text_containing(ws, R"("id":7)", &seen);
  ASSERT_TRUE(answer) << "the three fragments form one request";
  EXPECT_NE(answer->payload.find(R"("ok":true)"), std::string::npos) << answer->payload;
  bool ponged = false;
  for (const auto& f : seen) ponged = ponged || (f.opcode == 10 && f.payload == "are you there");
  EXPECT_TRUE(ponged) << "a ping is answered with a pong carrying its payload";
}

TEST_F(WebSocketTest, RequestSentWithTheUpgradeIsAnswered) {
  // A client may send frames right behind its upgrade request, before the 101 arrives.
  RawWebSocket ws(port(), "/v1/ws", RawWebSocket::client_frame(1, R"({"id":3,"op":"ping"})"));
  auto answer = text_containing(ws, R"("id":3)");
  ASSERT_TRUE(answer);
  EXPECT_NE(answer->payload.find(R"("ok":true)"), std::string::npos) << answer->payload;
}

TEST_F(WebSocketTest, AnswersToRequestsSentTogetherLeaveTogether) {
  // Three requests in one message are answered in one message: one send, one wake-up.
  RawWebSocket ws(port());
  ASSERT_TRUE(text_containing(ws, "\"event\":\"hello\""));
  ws.send_frame(1, "{\"id\":1,\"op\":\"ping\"}\n{\"id\":2,\"op\":\"ping\"}\n{\"id\":3,\"op\":\"ping\"}");
  auto answers = text_containing(ws, R"("id":1)");
  ASSERT_TRUE(answers);
  EXPECT_NE(answers->payload.find(R"({"id":1,"ok":true)"), std::string::npos) << answers->payload;
  EXPECT_NE(answers->payload.find(R"({"id":2,"ok":true)"), std::string::npos) << answers->payload;
  EXPECT_NE(answers->payload.find(R"({"id":3,"ok":true)"), std::string::npos) << answers->payload;
  EXPECT_LT(answers->payload.find(R"("id":1)"), answers->payload.find(R"("id":3)")) << "in the order asked";
}

TEST_F(WebSocketTest, ProtocolViolationsCloseWithTheirCodes) {
  struct Case {
    std::string what;
    std::string bytes;
    int code;
  };
  std::string reserved_bit = RawWebSocket::client_frame(1, R"({"id":1,"op":"ping"})");
  reserved_bit[0] = static_cast<char>(reserved_bit[0] | 0x40);
  std::vector<Case> cases = {
      {"unmasked frame", RawWebSocket::client_frame(1, R"({"id":1,"op":"ping"})", true, false), 1002},
      {"reserved bit without an extension", reserved_bit, 1002},
      {"continuation with no message begun", RawWebSocket::client_frame(0, "x"), 1002},
      {"text that is not UTF-8", RawWebSocket::client_frame(1, "{\"id\":1,\"op\":\"\xC3\x28\"}"), 1007},
      {"close frame of one byte", RawWebSocket::client_frame(8, "x"), 1002},
  };
  for (const auto& c : cases) {
    RawWebSocket ws(port());
    ws.send_raw(c.bytes);
    EXPECT_EQ(ws.wait_close_code(5s), c.code) << c.what;
    EXPECT_TRUE(ws.wait_ended(5s)) << c.what << ": the server ends the connection after its close";
  }
  // The server is unharmed.
  new_user("alice")->ok("ping");
}

TEST_F(WebSocketTest, ClientCloseIsEchoedAndTheConnectionEnds) {
  RawWebSocket ws(port());
  ASSERT_TRUE(text_containing(ws, "\"event\":\"hello\""));
  ws.send_frame(8, std::string("\x0F\xA0", 2) + "done");  // 4000, a private code
  EXPECT_EQ(ws.wait_close_code(5s), 4000);
  EXPECT_TRUE(ws.wait_ended(5s));
}

TEST_F(WebSocketTest, HandshakeWithAnotherVersionOrABadKeyIsRefused) {
  auto request = [](std::string_view version, std::string_view key) {
    return "GET /v1/ws HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
           "Sec-WebSocket-Key: " + std::string(key) + "\r\nSec-WebSocket-Version: " + std::string(version) + "\r\n\r\n";
  };
  {
    RawTcpConnection tcp(port());
    tcp.send(request("8", "dGhlIHNhbXBsZSBub25jZQ=="));
    tcp.wait_closed(3s);
    EXPECT_EQ(tcp.received().rfind("HTTP/1.1 426", 0), 0u) << tcp.received();
    EXPECT_NE(tcp.received().find("Sec-WebSocket-Version: 13"), std::string::npos) << tcp.received();
  }
  for (std::string_view key : {"", "short", "dGhlIHNhbXBsZSBub25jZQ=A"}) {
    RawTcpConnection tcp(port());
    tcp.send(request("13", key));
    tcp.wait_closed(1s);
    EXPECT_EQ(tcp.received().rfind("HTTP/1.1 400", 0), 0u) << key << ": " << tcp.received();
  }
}

class WebSocketKeepAliveTest : public ModuTest {
  std::vector<std::string> server_args() const override { return {"--idle-timeout", "2"}; }
};

TEST_F(WebSocketKeepAliveTest, SilentClientIsPingedAndAPongKeepsItOpen) {
  RawWebSocket ws(port());
  auto started = std::chrono::steady_clock::now();
  std::optional<Frame> ping;
  while (auto frame = ws.next_frame(4s))
    if (frame->opcode == 9) {
      ping = frame;
      break;
    }
  ASSERT_TRUE(ping) << "a client silent for a keep-alive period is pinged";
  EXPECT_LT(std::chrono::steady_clock::now() - started, 3s);
  // Answering every ping keeps the connection open well past the idle timeout.
  auto until = std::chrono::steady_clock::now() + 5s;
  int pongs = 1;
  ws.send_frame(10, ping->payload);
  while (std::chrono::steady_clock::now() < until) {
    auto frame = ws.next_frame(std::chrono::milliseconds(200));
    if (!frame) {
      ASSERT_FALSE(ws.wait_ended(0ms)) << "closed although every ping was answered";
      continue;
    }
    ASSERT_NE(frame->opcode, 8) << "closed although every ping was answered";
    if (frame->opcode == 9) {
      ws.send_frame(10, frame->payload);
      ++pongs;
    }
  }
  EXPECT_GE(pongs, 2);
  ws.send_frame(1, R"({"id":5,"op":"ping"})");
  EXPECT_TRUE(text_containing(ws, R"("id":5)"));
}

}  // namespace
}  // namespace modu_it
