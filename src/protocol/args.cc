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
  return read_string(key, min_bytes, max_bytes, false);
}

std::string Args::binary_safe_string(std::string_view key, std::size_t min_bytes, std::size_t max_bytes) {
  if (!has(key)) {
    find(key, true);
    return {};
  }
  return read_string(key, min_bytes, max_bytes, true).value_or(std::string());
}

std::optional<std::string> Args::read_string(std::string_view key, std::size_t min_bytes,
                                             std::size_t max_bytes, bool allow_nul) {
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
  // No store keeps NUL in text reliably (PostgreSQL refuses it), and no client needs it.
  if (!allow_nul && v.find('\0') != std::string_view::npos) {
    fail(ErrorCode::kBadRequest, fmt::format("field '{}' must not contain NUL characters", key));
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

std::vector<std::int64_t> Args::int64_or_list(std::string_view key, std::int64_t min,
                                                  std::int64_t max, std::size_t max_items) {
  std::vector<std::int64_t> out;
  auto e = find(key, true);
  if (!e) return out;
  auto bad = [&] {
    fail(ErrorCode::kBadRequest,
         fmt::format("field '{}' must be an integer or an array of integers in [{}, {}]", key, min, max));
    out.clear();
    return out;
  };
  simdjson::dom::array arr;
  if (e->get_array().get(arr) == simdjson::SUCCESS) {
    if (arr.size() > max_items) {
      fail(ErrorCode::kTooLarge, fmt::format("field '{}' has more than {} items", key, max_items));
      return out;
    }
    for (auto item : arr) {
      std::int64_t v = 0;
      if (item.get_int64().get(v) != simdjson::SUCCESS || v < min || v > max) return bad();
      out.push_back(v);
    }
    return out;
  }
  std::int64_t v = 0;
  if (e->get_int64().get(v) != simdjson::SUCCESS || v < min || v > max) return bad();
  out.push_back(v);
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

std::optional<bool> Args::opt_bool(std::string_view key) {
  auto e = find(key, false);
  if (!e) return std::nullopt;
  bool v = false;
  if (e->get_bool().get(v) != simdjson::SUCCESS) {
    fail(ErrorCode::kBadRequest, fmt::format("field '{}' must be true or false", key));
    return std::nullopt;
  }
  return v;
}

std::optional<std::vector<std::string>> Args::opt_string_list(std::string_view key, std::size_t max_items,
                                                              std::size_t min_bytes, std::size_t max_bytes) {
  auto e = find(key, false);
  if (!e) return std::nullopt;
  simdjson::dom::array arr;
  if (e->get_array().get(arr) != simdjson::SUCCESS) {
    fail(ErrorCode::kBadRequest, fmt::format("field '{}' must be an array of strings", key));
    return std::nullopt;
  }
  if (arr.size() > max_items) {
    fail(ErrorCode::kBadRequest, fmt::format("field '{}' has more than {} items", key, max_items));
    return std::nullopt;
  }
  std::vector<std::string> out;
  for (auto item : arr) {
    std::string_view v;
    if (item.get_string().get(v) != simdjson::SUCCESS || v.size() < min_bytes || v.size() > max_bytes ||
        v.find('\0') != std::string_view::npos) {
      fail(ErrorCode::kBadRequest,
           fmt::format("field '{}' must hold strings of {} to {} bytes", key, min_bytes, max_bytes));
      return std::nullopt;
    }
    out.emplace_back(v);
  }
  return out;
}

std::optional<std::vector<Args>> Args::opt_object_list(std::string_view key, std::size_t max_items) {
  auto e = find(key, false);
  if (!e) return std::nullopt;
  simdjson::dom::array arr;
  if (e->get_array().get(arr) != simdjson::SUCCESS) {
    fail(ErrorCode::kBadRequest, fmt::format("field '{}' must be an array of objects", key));
    return std::nullopt;
  }
  if (arr.size() > max_items) {
    fail(ErrorCode::kBadRequest, fmt::format("field '{}' has more than {} items", key, max_items));
    return std::nullopt;
  }
  std::vector<Args> out;
  for (auto item : arr) {
    simdjson::dom::object o;
    if (item.get_object().get(o) != simdjson::SUCCESS) {
      fail(ErrorCode::kBadRequest, fmt::format("field '{}' must hold objects", key));
      return std::nullopt;
    }
    out.emplace_back(o);
  }
  return out;
}

std::optional<std::vector<std::pair<std::string, std::string>>> Args::opt_string_map(
    std::string_view key, std::size_t max_items, std::size_t max_value_bytes) {
  auto e = find(key, false);
  if (!e) return std::nullopt;
  simdjson::dom::object o;
  if (e->get_object().get(o) != simdjson::SUCCESS) {
    fail(ErrorCode::kBadRequest, fmt::format("field '{}' must be an object of strings", key));
    return std::nullopt;
  }
  if (o.size() > max_items) {
    fail(ErrorCode::kBadRequest, fmt::format("field '{}' has more than {} entries", key, max_items));
    return std::nullopt;
  }
  std::vector<std::pair<std::string, std::string>> out;
  for (auto [k, v] : o) {
    std::string_view text;
    if (v.get_string().get(text) != simdjson::SUCCESS || text.find('\0') != std::string_view::npos ||
        k.find('\0') != std::string_view::npos) {
      fail(ErrorCode::kBadRequest, fmt::format("field '{}.{}' must be a string", key, k));
      return std::nullopt;
    }
    if (text.size() > max_value_bytes) {
      fail(ErrorCode::kBadRequest, fmt::format("field '{}.{}' is longer than {} bytes", key, k, max_value_bytes));
      return std::nullopt;
    }
    out.emplace_back(std::string(k), std::string(text));
  }
  return out;
}

bool Args::is_null(std::string_view key) {
  simdjson::dom::element e;
  return present_ && object_[key].get(e) == simdjson::SUCCESS && e.is_null();
}

}  // namespace modu
