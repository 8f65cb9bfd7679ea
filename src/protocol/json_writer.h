// A small fluent JSON writer over rapidjson's streaming Writer. Output is compact JSON
// with no raw newlines (strings are escaped), so frames can be joined with '\n'. Strings
// are written as given (UTF-8 passes through; the parser validated it on the way in).
#pragma once

#include <rapidjson/internal/itoa.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include <concepts>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>
#include <utility>

namespace modu {

// True if `key` can be written between quotes as it is: printable ASCII without '"' or '\\'.
constexpr bool is_plain_json_key(std::string_view key) {
  for (char c : key)
    if (c < 0x20 || c > 0x7e || c == '"' || c == '\\') return false;
  return true;
}

// A key written in the source, checked at compile time to need no escaping, so the writer
// copies it without scanning it. A literal that would need escaping does not compile; keys
// known only at run time go through JsonWriter::runtime_key, which escapes them.
class JsonKey {
 public:
  template <std::size_t N>
  consteval JsonKey(const char (&literal)[N]) : text_(literal, N - 1) {  // NOLINT: implicit by design
    if (!is_plain_json_key(text_)) throw "a JsonKey literal must be printable ASCII without '\"' or '\\'";
  }
  constexpr std::string_view text() const { return text_; }

 private:
  std::string_view text_;
};

namespace detail {

// rapidjson's Writer with a faster string path: it tests eight bytes at a time and copies a
// block with nothing to escape whole, where rapidjson's own loop goes byte by byte
// (docs/benchmarks.md, entry 7). Escapes are rapidjson's: \" \\ \b \t \n \f \r, other
// control characters as \u00XX.
class StringRunWriter : public rapidjson::Writer<rapidjson::StringBuffer> {
 public:
  using Writer::Writer;
  bool String(std::string_view s) {
    Prefix(rapidjson::kStringType);
    write_escaped(s);
    return EndValue(true);
  }
  bool Key(std::string_view s) { return String(s); }  // rapidjson places keys as strings
  // A key that needs no escaping (JsonKey): copied between quotes without a scan.
  bool PlainKey(std::string_view s) {
    Prefix(rapidjson::kStringType);
    char* out = os_->Push(s.size() + 2);
    *out++ = '"';
    std::memcpy(out, s.data(), s.size());
    out[s.size()] = '"';
    return EndValue(true);
  }

  // The pieces of a flat object (JsonWriter::FlatObject), written straight into the buffer.
  void begin_flat() {
    Prefix(rapidjson::kObjectType);
    *os_->Push(1) = '{';
  }
  void flat_key(std::string_view key, bool first) {
    char* out = os_->Push(key.size() + (first ? 3 : 4));
    if (!first) *out++ = ',';
    *out++ = '"';
    std::memcpy(out, key.data(), key.size());
    out += key.size();
    *out++ = '"';
    *out = ':';
  }
  void flat_int(std::int64_t v) {
    constexpr std::size_t kMost = 21;  // "-9223372036854775808"
    char* const begin = os_->Push(kMost);
    char* const end = rapidjson::internal::i64toa(v, begin);
    os_->Pop(kMost - static_cast<std::size_t>(end - begin));
  }
  void flat_string(std::string_view s) { write_escaped(s); }
  void flat_literal(std::string_view s) { std::memcpy(os_->Push(s.size()), s.data(), s.size()); }
  void end_flat() {
    *os_->Push(1) = '}';
    EndValue(true);
  }

 private:
  void write_escaped(std::string_view s);
};

}  // namespace detail

class JsonWriter {
 public:
  JsonWriter() : w_(buf_) {}

  JsonWriter& begin_object() { w_.StartObject(); return *this; }
  JsonWriter& end_object() { w_.EndObject(); return *this; }
  JsonWriter& begin_array() { w_.StartArray(); return *this; }
  JsonWriter& end_array() { w_.EndArray(); return *this; }
  JsonWriter& key(JsonKey k) {
    w_.PlainKey(k.text());
    return *this;
  }
  // A key known only at run time (a form's field name, a caller's argument): escaped.
  JsonWriter& runtime_key(std::string_view k) {
    w_.Key(k);
    return *this;
  }
  JsonWriter& value(std::string_view v) {
    w_.String(v);
    return *this;
  }
  JsonWriter& value(const char* v) { return value(std::string_view(v)); }
  JsonWriter& value(std::int64_t v) { w_.Int64(v); return *this; }
  JsonWriter& value(int v) { w_.Int64(v); return *this; }
  JsonWriter& value(std::size_t v) { w_.Uint64(v); return *this; }
  JsonWriter& value(bool v) { w_.Bool(v); return *this; }
  JsonWriter& null() { w_.Null(); return *this; }
  // Inserts already-encoded JSON as the next value.
  JsonWriter& raw(std::string_view json) {
    w_.RawValue(json.data(), json.size(), rapidjson::kObjectType);
    return *this;
  }
  template <class T>
  JsonWriter& field(JsonKey k, const T& v) {
    key(k);
    return value(v);
  }
  template <class T>
  JsonWriter& runtime_field(std::string_view k, const T& v) {
    runtime_key(k);
    return value(v);
  }

  // An object of numbers, strings, booleans and nulls only, written straight into the buffer
  // without the writer's per-value bookkeeping: the shape of a message, which every history
  // row and every message event writes. The bytes are those of begin_object(), the same
  // field() calls and end_object(). Call end() once; write nothing else to the JsonWriter
  // before it.
  class FlatObject {
   public:
    template <std::integral T>
      requires(!std::same_as<T, bool>)
    FlatObject& field(JsonKey k, T v) {
      w_.flat_key(k.text(), next_first());
      w_.flat_int(static_cast<std::int64_t>(v));
      return *this;
    }
    FlatObject& field(JsonKey k, std::string_view v) {
      w_.flat_key(k.text(), next_first());
      w_.flat_string(v);
      return *this;
    }
    FlatObject& field(JsonKey k, const char* v) { return field(k, std::string_view(v)); }
    FlatObject& field(JsonKey k, bool v) {
      w_.flat_key(k.text(), next_first());
      w_.flat_literal(v ? "true" : "false");
      return *this;
    }
    FlatObject& null_field(JsonKey k) {
      w_.flat_key(k.text(), next_first());
      w_.flat_literal("null");
      return *this;
    }
    void end() { w_.end_flat(); }

   private:
    friend class JsonWriter;
    explicit FlatObject(detail::StringRunWriter& w) : w_(w) { w_.begin_flat(); }
    bool next_first() { return std::exchange(first_, false); }

    detail::StringRunWriter& w_;
    bool first_ = true;
  };
  FlatObject flat_object() { return FlatObject(w_); }

  // Makes room for `bytes` more output, so a large document grows its buffer once.
  void reserve(std::size_t bytes) { buf_.Reserve(bytes); }
  // Empties the writer for a new document, keeping its buffer's capacity.
  void clear() {
    buf_.Clear();
    w_.Reset(buf_);
  }

  std::string_view view() const { return {buf_.GetString(), buf_.GetSize()}; }
  std::string str() const { return std::string(view()); }

 private:
  rapidjson::StringBuffer buf_;
  detail::StringRunWriter w_;
};

}  // namespace modu
