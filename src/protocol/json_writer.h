// A small fluent JSON writer over rapidjson's streaming Writer. Output is compact JSON
// with no raw newlines (strings are escaped), so frames can be joined with '\n'.
#pragma once

#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include <cstdint>
#include <string>
#include <string_view>

namespace modu {

class JsonWriter {
 public:
  JsonWriter() : w_(buf_) {}

  JsonWriter& begin_object() { w_.StartObject(); return *this; }
  JsonWriter& end_object() { w_.EndObject(); return *this; }
  JsonWriter& begin_array() { w_.StartArray(); return *this; }
  JsonWriter& end_array() { w_.EndArray(); return *this; }
  JsonWriter& key(std::string_view k) {
    w_.Key(k.data(), static_cast<rapidjson::SizeType>(k.size()));
    return *this;
  }
  JsonWriter& value(std::string_view v) {
    w_.String(v.data(), static_cast<rapidjson::SizeType>(v.size()));
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

  std::string_view view() const { return {buf_.GetString(), buf_.GetSize()}; }
  std::string str() const { return std::string(view()); }

 private:
  rapidjson::StringBuffer buf_;
  rapidjson::Writer<rapidjson::StringBuffer> w_;
};

}  // namespace modu
