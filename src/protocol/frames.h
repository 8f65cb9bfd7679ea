// Envelope of the client protocol (docs/protocol.md): parsing request frames and
// building response and event frames.
#pragma once

#include <simdjson.h>

#include <memory>
#include <string>
#include <string_view>

#include "modu/error.h"
#include "modu/ids.h"
#include "protocol/args.h"

namespace modu {

// A parsed request. `op` and `args` point into the parser's document and are valid until
// the parser parses the next frame. `id_json` is the client's id re-encoded, ready to echo.
struct Request {
  std::string id_json;
  std::string_view op;
  Args args;
};

// Parses one request frame. On failure the error says why; `id_json` (set whenever the
// id could be read, else "null") still lets the caller address its error response.
Result<Request> parse_request(simdjson::dom::parser& parser, std::string_view frame,
                              std::string& id_json);

std::string ok_frame(std::string_view id_json, std::string_view result_json);
std::string error_frame(std::string_view id_json, const Error& error);
// An event frame; pos <= 0 omits the position. `shard` is the shard whose position `pos` is
// (store.h); shard 0 is left out, so a server with one shard never sends it.
std::string event_frame(std::string_view name, Pos pos, std::string_view data_json, int shard = 0);

using SharedFrame = std::shared_ptr<const std::string>;
inline SharedFrame share(std::string frame) {
  return std::make_shared<const std::string>(std::move(frame));
}

}  // namespace modu
