// Typed access to a request's `args` object.
//
// Accessors never throw: the first problem (missing field, wrong type, value out of
// range) is recorded and later accessors return defaults, so a handler reads all its
// arguments and then checks `error()` once. Values are copied out: the parsed document
// belongs to the connection's parser and is reused by the next frame.
#pragma once

#include <simdjson.h>

#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "modu/error.h"

namespace modu {

class Args {
 public:
  Args() = default;  // no args at all
  explicit Args(simdjson::dom::object object) : object_(object), present_(true) {}

  std::int64_t int64(std::string_view key, std::int64_t min, std::int64_t max);
  std::optional<std::int64_t> opt_int64(std::string_view key, std::int64_t min, std::int64_t max);
  // Strings are limited in UTF-8 bytes (bad_request outside the bounds); `min_bytes` > 0
  // makes empty strings invalid. They never contain NUL (bad_request): names, titles and
  // keys are stored as text, which PostgreSQL cannot hold NUL in.
  std::string string(std::string_view key, std::size_t min_bytes, std::size_t max_bytes);
  std::optional<std::string> opt_string(std::string_view key, std::size_t min_bytes,
                                        std::size_t max_bytes);
  // A string that may contain NUL (message text, kept byte for byte).
  std::string binary_safe_string(std::string_view key, std::size_t min_bytes, std::size_t max_bytes);
  std::vector<std::int64_t> int64_list(std::string_view key, std::size_t max_items);
  // An integer or an array of at most `max_items` integers, each within [min, max], as a
  // list (one item for a plain integer). Required.
  std::vector<std::int64_t> int64_or_list(std::string_view key, std::int64_t min, std::int64_t max,
                                              std::size_t max_items);
  std::optional<bool> opt_bool(std::string_view key);
  // An array of strings, each within the byte bounds.
  std::optional<std::vector<std::string>> opt_string_list(std::string_view key, std::size_t max_items,
                                                          std::size_t min_bytes, std::size_t max_bytes);
  // An array of objects.
  std::optional<std::vector<Args>> opt_object_list(std::string_view key, std::size_t max_items);
  // An object whose values are all strings within the byte bounds, as (key, value) pairs.
  std::optional<std::vector<std::pair<std::string, std::string>>> opt_string_map(
      std::string_view key, std::size_t max_items, std::size_t max_value_bytes);
  // Whether the field is present with the value null (a request to clear a setting).
  bool is_null(std::string_view key);
  // A nested object; absent -> empty Args (which reports missing fields as such).
  Args object(std::string_view key, bool required);
  bool has(std::string_view key);

  const std::optional<Error>& error() const { return error_; }
  // Records a handler-level validation failure (first one wins).
  void fail(ErrorCode code, std::string message);

 private:
  std::optional<simdjson::dom::element> find(std::string_view key, bool required);
  std::optional<std::string> read_string(std::string_view key, std::size_t min_bytes, std::size_t max_bytes,
                                         bool allow_nul);

  simdjson::dom::object object_;
  bool present_ = false;
  std::optional<Error> error_;
};

}  // namespace modu
