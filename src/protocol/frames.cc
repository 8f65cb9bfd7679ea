#include "protocol/frames.h"

#include <fmt/format.h>

#include "protocol/json_writer.h"

namespace modu {

Result<Request> parse_request(simdjson::dom::parser& parser, std::string_view frame,
                              std::string& id_json) {
  id_json = "null";
  simdjson::dom::element doc;
  auto parsed = parser.parse(frame.data(), frame.size(), true).get(doc);
  // The parser cannot tell a malformed number from one too large for 64 bits; both are
  // numbers the protocol cannot take, so they are a bad request, not broken JSON.
  if (parsed == simdjson::NUMBER_ERROR || parsed == simdjson::NUMBER_OUT_OF_RANGE)
    return make_error(ErrorCode::kBadRequest, "a number in the frame is malformed or does not fit 64 bits");
  if (parsed != simdjson::SUCCESS)
    return make_error(ErrorCode::kBadJson, "the frame is not valid JSON");
  simdjson::dom::object obj;
  if (doc.get_object().get(obj) != simdjson::SUCCESS)
    return make_error(ErrorCode::kBadJson, "a frame must be a JSON object");

  simdjson::dom::element id;
  if (obj["id"].get(id) != simdjson::SUCCESS)
    return make_error(ErrorCode::kBadRequest, "missing field 'id'");
  std::int64_t id_num = 0;
  std::string_view id_str;
  if (id.get_int64().get(id_num) == simdjson::SUCCESS) {
    id_json = std::to_string(id_num);
  } else if (id.get_string().get(id_str) == simdjson::SUCCESS) {
    if (id_str.size() > 64) return make_error(ErrorCode::kBadRequest, "'id' is longer than 64 bytes");
    JsonWriter w;
    w.value(id_str);
    id_json = w.str();
  } else {
    return make_error(ErrorCode::kBadRequest, "'id' must be an integer or a string");
  }

  Request req;
  req.id_json = id_json;
  simdjson::dom::element op;
  if (obj["op"].get(op) != simdjson::SUCCESS || op.get_string().get(req.op) != simdjson::SUCCESS)
    return make_error(ErrorCode::kBadRequest, "missing field 'op' (a string)");
  simdjson::dom::element args;
  if (obj["args"].get(args) == simdjson::SUCCESS && !args.is_null()) {
    simdjson::dom::object args_obj;
    if (args.get_object().get(args_obj) != simdjson::SUCCESS)
      return make_error(ErrorCode::kBadRequest, "'args' must be an object");
    req.args = Args(args_obj);
  }
  return req;
}

std::string ok_frame(std::string_view id_json, std::string_view result_json) {
  std::string out;
  out.reserve(id_json.size() + result_json.size() + 32);
  out.append(R"({"id":)").append(id_json).append(R"(,"ok":true,"result":)").append(result_json).append("}");
  return out;
}

std::string error_frame(std::string_view id_json, const Error& error) {
  JsonWriter w;
  w.begin_object().key("id").raw(id_json).field("ok", false).key("error").begin_object()
      .field("code", error_code_name(error.code)).field("message", error.message)
      .end_object().end_object();
  return w.str();
}

std::string event_frame(std::string_view name, Pos pos, std::string_view data_json, int shard) {
  std::string out;
  out.reserve(name.size() + data_json.size() + 40);
  out.append(R"({"event":")").append(name).append("\"");
  if (pos > 0) out.append(R"(,"pos":)").append(std::to_string(pos));
  if (pos > 0 && shard > 0) out.append(R"(,"shard":)").append(std::to_string(shard));
  out.append(R"(,"data":)").append(data_json).append("}");
  return out;
}

}  // namespace modu
