// A small fluent JSON writer over rapidjson's streaming Writer. Output is compact JSON
// with no raw newlines (strings are escaped), so frames can be joined with '\n'. Strings
// are written as given (UTF-8 passes through; the parser validated it on the way in).
#pragma once

#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include <cstdint>
#include <string>
#include <string_view>

namespace modu {

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
  JsonWriter& key(std::string_view k) {
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
  JsonWriter& field(std::string_view k, const T& v) {
    key(k);
    return value(v);
  }

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
