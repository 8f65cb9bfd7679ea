#include "protocol/args.h"

#include <fmt/format.h>

namespace modu {

void Args::fail(ErrorCode code, std::string message) {
  if (!error_) error_ = Error{code, std::move(message)};
}

std::optional<simdjson::dom::element> Args::find(std::string_view key, bool required) {
  if (error_) return std::nullopt;
  simdjson::dom::element e;
  if (!present_ || object_[key].get(e) != simdjson::SUCCESS || e.is_null()) {
    if (required) fail(ErrorCode::kBadRequest, fmt::format("missing field '{}'", key));
    return std::nullopt;
  }
  return e;
}

bool Args::has(std::string_view key) {
  simdjson::dom::element e;
  return present_ && object_[key].get(e) == simdjson::SUCCESS && !e.is_null();
}

std::optional<std::int64_t> Args::opt_int64(std::string_view key, std::int64_t min,
                                            std::int64_t max) {
  auto e = find(key, false);
  if (!e) return std::nullopt;
  std::int64_t v = 0;
  if (e->get_int64().get(v) != simdjson::SUCCESS) {
    fail(ErrorCode::kBadRequest, fmt::format("field '{}' must be an integer", key));
    return std::nullopt;
  }
  if (v < min || v > max) {
    fail(ErrorCode::kBadRequest, fmt::format("field '{}' must be between {} and {}", key, min, max));
    return std::nullopt;
  }
  return v;
}

std::int64_t Args::int64(std::string_view key, std::int64_t min, std::int64_t max) {
  if (!has(key)) {
    find(key, true);
    return 0;
  }
  return opt_int64(key, min, max).value_or(0);
}

std::optional<std::string> Args::opt_string(std::string_view key, std::size_t min_bytes,
                                            std::size_t max_bytes) {
  auto e = find(key, false);
  if (!e) return std::nullopt;
  std::string_view v;
  if (e->get_string().get(v) != simdjson::SUCCESS) {
    fail(ErrorCode::kBadRequest, fmt::format("field '{}' must be a string", key));
    return std::nullopt;
  }
  if (v.size() > max_bytes) {
    fail(ErrorCode::kBadRequest, fmt::format("field '{}' is longer than {} bytes", key, max_bytes));
    return std::nullopt;
  }
  if (v.size() < min_bytes) {
    fail(ErrorCode::kBadRequest,
         min_bytes == 1 ? fmt::format("field '{}' must not be empty", key)
                        : fmt::format("field '{}' must be at least {} bytes", key, min_bytes));
    return std::nullopt;
  }
  return std::string(v);
}

std::string Args::string(std::string_view key, std::size_t min_bytes, std::size_t max_bytes) {
  if (!has(key)) {
    find(key, true);
    return {};
  }
  return opt_string(key, min_bytes, max_bytes).value_or(std::string());
}

std::vector<std::int64_t> Args::int64_list(std::string_view key, std::size_t max_items) {
  std::vector<std::int64_t> out;
  auto e = find(key, true);
  if (!e) return out;
  simdjson::dom::array arr;
  if (e->get_array().get(arr) != simdjson::SUCCESS) {
    fail(ErrorCode::kBadRequest, fmt::format("field '{}' must be an array of integers", key));
    return out;
  }
  if (arr.size() > max_items) {
    fail(ErrorCode::kTooLarge, fmt::format("field '{}' has more than {} items", key, max_items));
    return out;
  }
  for (auto item : arr) {
    std::int64_t v = 0;
    if (item.get_int64().get(v) != simdjson::SUCCESS || v <= 0) {
      fail(ErrorCode::kBadRequest, fmt::format("field '{}' must hold positive integers", key));
      out.clear();
      return out;
    }
    out.push_back(v);
  }
  return out;
}

Args Args::object(std::string_view key, bool required) {
  auto e = find(key, required);
  if (!e) return Args();
  simdjson::dom::object o;
  if (e->get_object().get(o) != simdjson::SUCCESS) {
    fail(ErrorCode::kBadRequest, fmt::format("field '{}' must be an object", key));
    return Args();
  }
  return Args(o);
}

}  // namespace modu
