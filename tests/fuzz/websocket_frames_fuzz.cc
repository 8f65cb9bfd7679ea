// Fuzz target: the WebSocket reader (net/websocket/message_reader.h) over frame.cc, i.e.
// every byte a client sends after the upgrade.
//
// Input: one byte choosing a chunk size (1–64), then the byte stream. The stream is fed
// to one reader whole and to another in chunks of that size. Invariants: both hand on the
// same messages, pings and close, and end with the same verdict (a read is never split
// differently by where the socket's reads happened to end); every message is valid UTF-8
// within the size limit; a reader never holds more than a frame's header plus twice the
// limit.
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include <simdjson.h>

#include "fuzz_check.h"
#include "net/websocket/message_reader.h"

namespace {

constexpr std::size_t kMaxMessage = 512;

struct Events {
  std::vector<std::string> log;  // "t:<text>", "p:<ping>", "c:<code>"
  bool reading() const { return true; }
  void on_text(std::string_view text) {
    MODU_FUZZ_CHECK(text.size() <= kMaxMessage, text);
    MODU_FUZZ_CHECK(simdjson::validate_utf8(text), text);
    log.push_back("t:" + std::string(text));
  }
  void on_ping(std::string_view payload) {
    MODU_FUZZ_CHECK(payload.size() <= modu::websocket::kMaxControlPayload, payload);
    log.push_back("p:" + std::string(payload));
  }
  void on_close(const modu::websocket::ClosePayload& close) { log.push_back("c:" + std::to_string(close.code)); }
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  std::size_t chunk = 1 + data[0] % 64;
  std::string stream(reinterpret_cast<const char*>(data) + 1, size - 1);
  std::string_view input(stream);

  modu::websocket::MessageReader whole(kMaxMessage);
  Events whole_events;
  std::string copy = stream;  // the reader unmasks in place
  auto whole_verdict = whole.feed(std::span<char>(copy.data(), copy.size()), whole_events);

  modu::websocket::MessageReader chunked(kMaxMessage);
  Events chunked_events;
  std::optional<modu::websocket::CloseCode> chunked_verdict;
  for (std::size_t at = 0; at < stream.size() && !chunked_verdict; at += chunk) {
    std::string piece = stream.substr(at, chunk);
    chunked_verdict = chunked.feed(std::span<char>(piece.data(), piece.size()), chunked_events);
    MODU_FUZZ_CHECK(chunked.buffered() <= modu::websocket::kMaxHeaderBytes + 2 * kMaxMessage, input);
  }
  MODU_FUZZ_CHECK(whole_verdict == chunked_verdict, input);
  MODU_FUZZ_CHECK(whole_events.log == chunked_events.log, input);
  MODU_FUZZ_CHECK(whole.done() == chunked.done(), input);
  return 0;
}
