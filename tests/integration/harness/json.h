// Small JSON helpers for the integration tests.
//
//  * JsonRef  - a read-only, cheaply copyable view into a parsed JSON document. Every
//               accessor checks the type and throws std::runtime_error naming the path
//               (e.g. "result.message.seq") and the document, so a test that meets an
//               unexpected shape fails with a readable message instead of crashing.
//  * JsonObj / JsonArr - builders for request arguments:
//               JsonObj().set("chat_id", 12).set("text", "안녕").str()
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace modu_it {

class JsonRef {
 public:
  // Parses `text`; throws std::runtime_error when it is not valid JSON.
  static JsonRef parse(std::string_view text);
  // Parses `text`; returns nullopt when it is not valid JSON.
  static std::optional<JsonRef> try_parse(std::string_view text);

  // Object member access. Throws when this is not an object or the key is missing.
  JsonRef operator[](std::string_view key) const;
  // Array element access. Throws when this is not an array or the index is out of range.
  JsonRef operator[](std::size_t index) const;
  JsonRef operator[](int index) const { return (*this)[static_cast<std::size_t>(index)]; }

  bool has(std::string_view key) const;  // false when not an object
  bool is_null() const;
  bool is_object() const;
  bool is_array() const;
  bool is_string() const;
  bool is_bool() const;
  bool is_int() const;  // an integral number (int64 range)

  std::int64_t i64() const;  // integer number
  std::string str() const;   // string
  bool boolean() const;      // true/false
  std::size_t size() const;  // array length or object member count
  std::vector<JsonRef> items() const;     // array elements
  std::vector<std::string> keys() const;  // object member names

  // Compact JSON text of this value.
  std::string dump() const;
  const std::string& path() const { return path_; }

 private:
  struct Impl;
  JsonRef(std::shared_ptr<const Impl> doc, const void* value, std::string path)
      : doc_(std::move(doc)), value_(value), path_(std::move(path)) {}
  [[noreturn]] void fail(std::string_view what) const;

  std::shared_ptr<const Impl> doc_;
  const void* value_;  // const rapidjson::Value*
  std::string path_;
};

// Escapes `s` as a JSON string literal, quotes included.
std::string json_quote(std::string_view s);

class JsonArr;

// Builds a JSON object. Values are appended in call order; keys are not deduplicated.
class JsonObj {
 public:
  JsonObj& set(std::string_view key, std::int64_t value);
  JsonObj& set(std::string_view key, int value) { return set(key, static_cast<std::int64_t>(value)); }
  JsonObj& set(std::string_view key, std::string_view value);
  JsonObj& set(std::string_view key, const char* value) { return set(key, std::string_view(value)); }
  JsonObj& set(std::string_view key, const std::string& value) { return set(key, std::string_view(value)); }
  JsonObj& set(std::string_view key, bool value);
  JsonObj& set(std::string_view key, const JsonObj& value);
  JsonObj& set(std::string_view key, const JsonArr& value);
  // Inserts `raw_json` verbatim (for wrong-type and null tests).
  JsonObj& set_raw(std::string_view key, std::string_view raw_json);
  std::string str() const;
  bool empty() const { return members_.empty(); }

 private:
  std::vector<std::pair<std::string, std::string>> members_;  // key, JSON text of value
};

class JsonArr {
 public:
  JsonArr() = default;
  JsonArr(std::initializer_list<std::int64_t> ints);
  explicit JsonArr(const std::vector<std::int64_t>& ints);
  JsonArr& add(std::int64_t value);
  JsonArr& add(std::string_view value);
  JsonArr& add_raw(std::string_view raw_json);
  std::string str() const;

 private:
  std::vector<std::string> items_;
};

}  // namespace modu_it
