// Fuzz target: JsonWriter's string path (protocol/json_writer.h), which copies runs of
// unescaped bytes itself instead of going through rapidjson's per-character loop.
//
// Input: any bytes, written as a key and as a value. Invariants: the output is byte for
// byte what rapidjson's own Writer writes; it is one line of valid JSON whenever the input
// is valid UTF-8, and then parses back to the input.
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>
#include <simdjson.h>

#include <cstdint>
#include <string>
#include <string_view>

#include "fuzz_check.h"
#include "protocol/json_writer.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string_view input(reinterpret_cast<const char*>(data), size);

  rapidjson::StringBuffer buffer;
  rapidjson::Writer<rapidjson::StringBuffer> plain(buffer);
  plain.StartObject();
  plain.Key(input.data(), static_cast<rapidjson::SizeType>(input.size()));
  plain.String(input.data(), static_cast<rapidjson::SizeType>(input.size()));
  plain.EndObject();

  modu::JsonWriter ours;
  ours.begin_object().runtime_field(input, input).end_object();
  MODU_FUZZ_CHECK(ours.view() == std::string_view(buffer.GetString(), buffer.GetSize()), input);

  if (simdjson::validate_utf8(input.data(), input.size())) {
    modu::fuzz::check_one_line_json(ours.view());
    static simdjson::dom::parser parser;
    simdjson::dom::object object;
    MODU_FUZZ_CHECK(parser.parse(ours.view()).get_object().get(object) == simdjson::SUCCESS, input);
    for (auto [key, value] : object) {
      MODU_FUZZ_CHECK(key == input, input);
      MODU_FUZZ_CHECK(value.get_string().value_unsafe() == input, input);
    }
  }
  return 0;
}
