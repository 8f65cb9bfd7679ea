// Turns the bytes a client sends into whole text messages and control frames.
//
// The reader keeps only what is still incomplete: the tail of a frame that has not fully
// arrived, and the fragments of a message that has not ended. Between messages both are
// empty, so an idle connection's reader costs two empty strings; the bytes of a read live
// in the caller's buffer (one per event loop) and a message that arrived whole is handed
// on from there, unmasked in place, without a copy.
//
// Enforced here: the frame rules of net/websocket/frame.h, the order of fragments, text
// only (a binary message is refused with 1003), valid UTF-8 in text (1007), and the size
// of a message (1009), checked before any of it is buffered.
//
// Not thread-safe; one reader per connection.
#pragma once

#include <simdjson.h>

#include <cstddef>
#include <optional>
#include <span>
#include <string>
#include <string_view>

#include "net/websocket/frame.h"

namespace modu::websocket {

// What `MessageReader::feed` calls:
//   bool reading()                     checked before each frame; false stops the feed
//   void on_text(std::string_view)     a whole text message (valid UTF-8)
//   void on_ping(std::string_view)     a ping's payload (answer with a pong)
//   void on_close(const ClosePayload&) the peer's close frame; nothing is read after it
template <class V>
concept MessageVisitor = requires(V v, std::string_view s, const ClosePayload& c) {
  { v.reading() } -> std::convertible_to<bool>;
  v.on_text(s);
  v.on_ping(s);
  v.on_close(c);
};

class MessageReader {
 public:
  explicit MessageReader(std::size_t max_message_bytes) : max_message_bytes_(max_message_bytes) {}

  // Consumes `bytes`, which the reader may modify (payloads are unmasked in place) and
  // which need not outlive the call. Returns the code to close with at the first
  // violation; the reader is then spent and ignores later bytes, as it does after the
  // peer's close frame.
  template <MessageVisitor V>
  std::optional<CloseCode> feed(std::span<char> bytes, V& visitor);

  // True once the peer's close frame or a violation has been read.
  bool done() const { return done_; }

  // Bytes held for incomplete frames and messages (0 between messages).
  std::size_t buffered() const { return carry_.size() + message_.size(); }

 private:
  template <MessageVisitor V>
  std::optional<CloseCode> consume(char* data, std::size_t size, std::size_t& used, V& visitor);
  void release_if_large();

  static constexpr std::size_t kKeepBytes = 256;  // capacity kept between messages

  std::size_t max_message_bytes_;
  std::string carry_;    // an incomplete frame, from its header on
  std::string message_;  // the fragments so far of an unfinished message
  bool in_message_ = false;
  bool done_ = false;
};

template <MessageVisitor V>
std::optional<CloseCode> MessageReader::feed(std::span<char> bytes, V& visitor) {
  if (done_) return std::nullopt;
  std::optional<CloseCode> failure;
  std::size_t used = 0;
  if (carry_.empty()) {
    failure = consume(bytes.data(), bytes.size(), used, visitor);
    if (!failure && used < bytes.size()) carry_.assign(bytes.data() + used, bytes.size() - used);
  } else {
    carry_.append(bytes.data(), bytes.size());
    failure = consume(carry_.data(), carry_.size(), used, visitor);
    carry_.erase(0, used);
  }
  if (failure) {
    done_ = true;
    message_.clear();
  }
  if (done_) carry_.clear();  // nothing is read after a close frame or a violation
  release_if_large();
  return failure;
}

template <MessageVisitor V>
std::optional<CloseCode> MessageReader::consume(char* data, std::size_t size, std::size_t& used,
                                               V& visitor) {
  while (used < size && !done_ && visitor.reading()) {
    FrameHeader header;
    switch (parse_client_header(std::string_view(data + used, size - used), header)) {
      case HeaderStatus::kInvalid: return CloseCode::kProtocolError;
      case HeaderStatus::kIncomplete: return std::nullopt;
      case HeaderStatus::kComplete: break;
    }
    if (!is_control(header.opcode)) {
      bool continuation = header.opcode == Opcode::kContinuation;
      if (continuation != in_message_) return CloseCode::kProtocolError;  // §5.4
      if (header.opcode == Opcode::kBinary) return CloseCode::kUnsupportedData;
      if (header.payload_size > max_message_bytes_ - message_.size()) return CloseCode::kTooBig;
    }
    if (size - used - header.size < header.payload_size) return std::nullopt;  // wait for the rest
    char* payload = data + used + header.size;
    auto n = static_cast<std::size_t>(header.payload_size);
    unmask(payload, n, header.mask);
    used += header.size + n;
    std::string_view body(payload, n);
    switch (header.opcode) {
      case Opcode::kPing: visitor.on_ping(body); break;
      case Opcode::kPong: break;
      case Opcode::kClose: {
        ClosePayload close;
        switch (parse_close_payload(body, close)) {
          case CloseStatus::kProtocolError: return CloseCode::kProtocolError;
          case CloseStatus::kInvalidUtf8: return CloseCode::kInvalidPayload;
          case CloseStatus::kValid: break;
        }
        done_ = true;
        visitor.on_close(close);
        break;
      }
      default: {  // text, or a continuation of text
        if (header.fin && !in_message_) {
          if (!simdjson::validate_utf8(body)) return CloseCode::kInvalidPayload;
          visitor.on_text(body);
          break;
        }
        message_.append(body);
        in_message_ = !header.fin;
        if (header.fin) {
          if (!simdjson::validate_utf8(message_)) return CloseCode::kInvalidPayload;
          visitor.on_text(message_);
          message_.clear();
        }
      }
    }
  }
  return std::nullopt;
}

inline void MessageReader::release_if_large() {
  if (carry_.empty() && carry_.capacity() > kKeepBytes) std::string().swap(carry_);
  if (message_.empty() && message_.capacity() > kKeepBytes) std::string().swap(message_);
}

}  // namespace modu::websocket
