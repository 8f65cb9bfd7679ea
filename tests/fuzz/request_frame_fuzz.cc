// Fuzz target: the request frame parser (parse_request) and every Args accessor, then the
// response frames built from what was read.
//
// Invariants: the id to echo is always one line of valid JSON; an error response for any
// outcome is valid one-line JSON; an accessor never yields a value outside the bounds it
// was asked for.
#include <simdjson.h>

#include <cstdint>
#include <limits>
#include <string>
#include <string_view>

#include "fuzz_check.h"
#include "protocol/frames.h"
#include "protocol/json_writer.h"

namespace {

using modu::Args;
constexpr std::int64_t kMaxId = std::numeric_limits<std::int64_t>::max();

// Runs every accessor on `key`, each on a fresh copy (the first failure would otherwise
// short-circuit the rest), and checks the bounds of what comes back.
void touch_key(const Args& pristine, std::string_view key, modu::JsonWriter& out) {
  {
    Args a = pristine;
    std::int64_t v = a.int64(key, 1, 1000);
    MODU_FUZZ_CHECK(a.error() ? v == 0 : (v >= 1 && v <= 1000), key);
  }
  {
    Args a = pristine;
    auto v = a.opt_int64(key, -5, kMaxId);
    MODU_FUZZ_CHECK(!v || *v >= -5, key);
  }
  {
    Args a = pristine;
    std::string s = a.string(key, 1, 64);
    MODU_FUZZ_CHECK(a.error() ? s.empty() : (!s.empty() && s.size() <= 64), key);
    out.runtime_field(key, s);  // strings from the client go back out escaped
  }
  {
    Args a = pristine;
    auto s = a.opt_string(key, 0, 16);
    MODU_FUZZ_CHECK(!s || s->size() <= 16, key);
  }
  {
    Args a = pristine;
    auto list = a.int64_list(key, 8);
    MODU_FUZZ_CHECK(list.size() <= 8, key);
    for (auto v : list) MODU_FUZZ_CHECK(v > 0, key);
    MODU_FUZZ_CHECK(!a.error() || list.empty(), key);
  }
  {
    Args a = pristine;
    Args nested = a.object(key, false);
    (void)nested.has("kind");
    (void)nested.string("kind", 1, 16);
    (void)nested.opt_string("name", 0, 64);
    (void)nested.opt_int64("n", 0, 10);
    (void)nested.int64_list("ids", 4);
    if (nested.error()) modu::fuzz::check_one_line_json(modu::error_frame("1", *nested.error()));
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  // One parser reused across frames, as a connection does.
  static simdjson::dom::parser parser;
  std::string_view frame(reinterpret_cast<const char*>(data), size);
  std::string id_json;
  auto request = modu::parse_request(parser, frame, id_json);
  modu::fuzz::check_one_line_json(id_json);

  if (!request.ok()) {
    modu::fuzz::check_one_line_json(modu::error_frame(id_json, request.error()));
    return 0;
  }
  modu::Request& req = request.value();
  MODU_FUZZ_CHECK(req.id_json == id_json, id_json);
  const Args pristine = req.args;

  // What the operation handlers read.
  {
    Args a = pristine;
    (void)a.int64("chat_id", 1, kMaxId);
    (void)a.int64("seq", 0, kMaxId);
    (void)a.opt_int64("limit", 1, 200);
    (void)a.opt_int64("before_seq", 1, kMaxId);
    (void)a.opt_int64("after_seq", 0, kMaxId);
    (void)a.opt_int64("reply_to", 1, kMaxId);
    (void)a.string("client_id", 1, 64);
    (void)a.string("text", 1, 16 * 1024);
    (void)a.opt_string("title", 0, 256);
    (void)a.string("token", 1, 128);
    (void)a.int64_list("user_ids", 1500);
    Args device = a.object("device", true);
    (void)device.string("kind", 1, 16);
    (void)device.opt_string("name", 0, 64);
    if (a.error()) modu::fuzz::check_one_line_json(modu::error_frame(id_json, *a.error()));
  }

  // Every key the client actually sent, with every accessor. The keys come from a second
  // parse: the request's own document must stay untouched while req.args points into it.
  modu::JsonWriter echoed;
  echoed.begin_object();
  static simdjson::dom::parser keys_parser;
  simdjson::dom::object root, args;
  if (keys_parser.parse(frame.data(), frame.size(), true).get_object().get(root) == simdjson::SUCCESS &&
      root["args"].get_object().get(args) == simdjson::SUCCESS) {
    for (auto field : args) touch_key(pristine, field.key, echoed);
  }
  touch_key(pristine, "absent", echoed);
  echoed.end_object();

  modu::fuzz::check_one_line_json(modu::ok_frame(id_json, echoed.view()));
  modu::fuzz::check_one_line_json(modu::event_frame("message.new", 1, echoed.view()));
  return 0;
}
