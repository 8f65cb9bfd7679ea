// Invariant checks for fuzz targets: a violated invariant aborts with a message, which
// libFuzzer (and the replay main under ctest) reports as a crash with the input saved.
#pragma once

#include <simdjson.h>

#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>

namespace modu::fuzz {

[[noreturn]] inline void fail(const char* what, std::string_view detail = {}) {
  std::fprintf(stderr, "fuzz invariant violated: %s: %.*s\n", what, static_cast<int>(detail.size()),
               detail.data());
  std::abort();
}

#define MODU_FUZZ_CHECK(cond, detail) \
  do {                                \
    if (!(cond)) ::modu::fuzz::fail(#cond, (detail)); \
  } while (0)

// `json` is one line of valid JSON (what every frame sent to a client must be).
inline void check_one_line_json(std::string_view json) {
  MODU_FUZZ_CHECK(json.find('\n') == std::string_view::npos, json);
  MODU_FUZZ_CHECK(json.find('\r') == std::string_view::npos, json);
  static simdjson::dom::parser parser;  // separate from any parser the target reads from
  simdjson::dom::element e;
  MODU_FUZZ_CHECK(parser.parse(json.data(), json.size(), true).get(e) == simdjson::SUCCESS, json);
}

}  // namespace modu::fuzz
