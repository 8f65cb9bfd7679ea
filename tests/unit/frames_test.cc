// The protocol envelope (src/protocol/frames.h, docs/protocol.md "Frames"): parsing
// request frames, and building response and event frames that are single-line JSON.
#include "protocol/frames.h"

#include <gtest/gtest.h>
#include <simdjson.h>

#include <fstream>
#include <set>
#include <sstream>
#include <string>

#include "protocol/json_writer.h"

namespace modu {
namespace {

class ParseRequestTest : public ::testing::Test {
 protected:
  // Parses `frame`; the id to echo lands in id_json_.
  Result<Request> parse(std::string_view frame) { return parse_request(parser_, frame, id_json_); }

  // Expects `frame` to fail with `code`, and returns the id it would be answered with.
  std::string expect_error(std::string_view frame, ErrorCode code) {
    auto r = parse(frame);
    EXPECT_FALSE(r.ok()) << frame;
    if (!r.ok()) {
      EXPECT_EQ(error_code_name(r.error().code), error_code_name(code)) << frame << ": " << r.error().message;
      EXPECT_FALSE(r.error().message.empty());
    }
    return id_json_;
  }

  simdjson::dom::parser parser_;
  std::string id_json_ = "unset";
};

TEST_F(ParseRequestTest, ProtocolExampleWithIntegerId) {
  auto r = parse(R"({"id": 7, "op": "messages.send", "args": {"chat_id": 12, "client_id": "c-5f2a-0001", "text": "안녕"}})");
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(r->id_json, "7");
  EXPECT_EQ(id_json_, "7");
  EXPECT_EQ(r->op, "messages.send");
  EXPECT_EQ(r->args.int64("chat_id", 1, 1000), 12);
  EXPECT_EQ(r->args.string("client_id", 1, 64), "c-5f2a-0001");
  EXPECT_EQ(r->args.string("text", 1, 100), "안녕");
  EXPECT_FALSE(r->args.error());
}

TEST_F(ParseRequestTest, NegativeAndLargeIntegerIdsAreEchoedExactly) {
  auto r = parse(R"({"id":-5,"op":"ping"})");
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->id_json, "-5");
  r = parse(R"({"id":9223372036854775807,"op":"ping"})");
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->id_json, "9223372036854775807");
  r = parse(R"({"id":0,"op":"ping"})");
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->id_json, "0");
}

TEST_F(ParseRequestTest, StringIdIsEchoedAsJsonString) {
  auto r = parse(R"({"id":"req-1","op":"ping"})");
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->id_json, R"("req-1")");
  EXPECT_EQ(r->op, "ping");
}

TEST_F(ParseRequestTest, StringIdWithEscapesIsReencodedWithoutRawNewline) {
  auto r = parse(R"({"id":"a\"b\nc\\d\u0001","op":"ping"})");
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->id_json.find('\n'), std::string::npos) << r->id_json;
  // The echo must decode back to the very same string.
  simdjson::dom::parser p;
  std::string_view decoded;
  ASSERT_EQ(p.parse(r->id_json).get_string().get(decoded), simdjson::SUCCESS) << r->id_json;
  EXPECT_EQ(decoded, std::string_view("a\"b\nc\\d\x01"));
}

TEST_F(ParseRequestTest, KoreanStringIdRoundTrips) {
  auto r = parse(R"({"id":"요청-1","op":"ping"})");
  ASSERT_TRUE(r.ok());
  simdjson::dom::parser p;
  std::string_view decoded;
  ASSERT_EQ(p.parse(r->id_json).get_string().get(decoded), simdjson::SUCCESS);
  EXPECT_EQ(decoded, "요청-1");
}

TEST_F(ParseRequestTest, IdOf64CharactersIsAcceptedAnd65IsNot) {
  std::string id64(64, 'x');
  auto r = parse(R"({"id":")" + id64 + R"(","op":"ping"})");
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->id_json, "\"" + id64 + "\"");
  // Too long: refused, and not echoed (the answer goes to id null).
  EXPECT_EQ(expect_error(R"({"id":")" + id64 + R"(x","op":"ping"})", ErrorCode::kBadRequest), "null");
}

TEST_F(ParseRequestTest, IdOfWrongTypeIsBadRequest) {
  expect_error(R"({"id":1.5,"op":"ping"})", ErrorCode::kBadRequest);
  expect_error(R"({"id":true,"op":"ping"})", ErrorCode::kBadRequest);
  expect_error(R"({"id":null,"op":"ping"})", ErrorCode::kBadRequest);
  expect_error(R"({"id":{},"op":"ping"})", ErrorCode::kBadRequest);
  expect_error(R"({"id":[1],"op":"ping"})", ErrorCode::kBadRequest);
  // Above int64: not an id the protocol can echo faithfully.
  expect_error(R"({"id":9223372036854775808,"op":"ping"})", ErrorCode::kBadRequest);
}

TEST_F(ParseRequestTest, MissingIdIsBadRequestAnsweredToNull) {
  EXPECT_EQ(expect_error(R"({"op":"ping"})", ErrorCode::kBadRequest), "null");
}

TEST_F(ParseRequestTest, MissingOrNonStringOpIsBadRequestButEchoesId) {
  EXPECT_EQ(expect_error(R"({"id":3})", ErrorCode::kBadRequest), "3");
  EXPECT_EQ(expect_error(R"({"id":"x","op":5})", ErrorCode::kBadRequest), R"("x")");
  EXPECT_EQ(expect_error(R"({"id":4,"op":null})", ErrorCode::kBadRequest), "4");
}

TEST_F(ParseRequestTest, ArgsMayBeOmittedOrNull) {
  for (std::string_view frame : {R"({"id":1,"op":"ping"})", R"({"id":1,"op":"ping","args":null})"}) {
    auto r = parse(frame);
    ASSERT_TRUE(r.ok()) << frame;
    EXPECT_FALSE(r->args.has("anything"));
    EXPECT_FALSE(r->args.error());
    // Absent args report required fields as missing.
    EXPECT_EQ(r->args.int64("chat_id", 1, 10), 0);
    ASSERT_TRUE(r->args.error());
    EXPECT_EQ(r->args.error()->code, ErrorCode::kBadRequest);
    EXPECT_NE(r->args.error()->message.find("chat_id"), std::string::npos);
  }
}

TEST_F(ParseRequestTest, ArgsThatAreNotAnObjectAreBadRequest) {
  EXPECT_EQ(expect_error(R"({"id":1,"op":"ping","args":[1,2]})", ErrorCode::kBadRequest), "1");
  expect_error(R"({"id":1,"op":"ping","args":"x"})", ErrorCode::kBadRequest);
  expect_error(R"({"id":1,"op":"ping","args":5})", ErrorCode::kBadRequest);
  expect_error(R"({"id":1,"op":"ping","args":false})", ErrorCode::kBadRequest);
}

TEST_F(ParseRequestTest, BrokenJsonIsBadJsonAnsweredToNull) {
  for (std::string_view frame :
       {"", " ", "{", "}", "not json", R"({"id":1,"op":"ping")", R"({"id":1,"op":"ping"}})",
        R"({"id":1 "op":"ping"})", R"({'id':1})", R"({"id":1,"op":"ping",})", "\xff\xfe"}) {
    EXPECT_EQ(expect_error(frame, ErrorCode::kBadJson), "null") << frame;
  }
}

TEST_F(ParseRequestTest, InvalidUtf8IsBadJson) {
  expect_error("{\"id\":1,\"op\":\"p\xc3\x28\"}", ErrorCode::kBadJson);
}

TEST_F(ParseRequestTest, JsonThatIsNotAnObjectIsBadJson) {
  for (std::string_view frame : {"[1,2]", "\"ping\"", "42", "null", "true"})
    expect_error(frame, ErrorCode::kBadJson);
}

TEST_F(ParseRequestTest, MalformedOrHugeNumbersAreBadRequest) {
  for (std::string_view frame :
       {R"({"id":1,"op":"x","args":{"n":1e999}})", R"({"id":1,"op":"x","args":{"n":-1e400}})",
        R"({"id":1,"op":"x","args":{"n":01}})", R"({"id":1,"op":"x","args":{"n":1.}})",
        R"({"id":1,"op":"x","args":{"n":-}})", R"({"id":1,"op":"x","args":{"n":1e}})",
        R"({"id":1,"op":"x","args":{"n":99999999999999999999999}})",
        R"({"id":123456789012345678901234567890,"op":"x"})"}) {
    expect_error(frame, ErrorCode::kBadRequest);
  }
}

TEST_F(ParseRequestTest, DeepNestingIsRefusedNotCrashing) {
  std::string frame = R"({"id":1,"op":"x","args":{"a":)" + std::string(5000, '[') +
                      std::string(5000, ']') + "}}";
  auto r = parse(frame);
  EXPECT_FALSE(r.ok());
}

TEST_F(ParseRequestTest, ParserIsReusableAfterAnError) {
  expect_error("{", ErrorCode::kBadJson);
  auto r = parse(R"({"id":2,"op":"ping"})");
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->id_json, "2");
  EXPECT_EQ(id_json_, "2");
}

// --- building frames ------------------------------------------------------------------

// Parses a built frame back; fails the test if it is not one line of valid JSON.
simdjson::dom::object parse_frame(simdjson::dom::parser& p, const std::string& frame) {
  EXPECT_EQ(frame.find('\n'), std::string::npos) << frame;
  EXPECT_EQ(frame.find('\r'), std::string::npos) << frame;
  simdjson::dom::object obj;
  auto err = p.parse(frame).get_object().get(obj);
  EXPECT_EQ(err, simdjson::SUCCESS) << frame;
  return obj;
}

TEST(FramesTest, OkFrameCarriesIdAndResult) {
  JsonWriter result;
  result.begin_object().field("text", "line1\nline2\r\n\"quoted\"").field("n", std::int64_t{41}).end_object();
  std::string frame = ok_frame("7", result.view());
  simdjson::dom::parser p;
  auto obj = parse_frame(p, frame);
  EXPECT_EQ(std::int64_t(obj["id"]), 7);
  EXPECT_TRUE(bool(obj["ok"]));
  EXPECT_EQ(std::string_view(obj["result"]["text"]), "line1\nline2\r\n\"quoted\"");
  EXPECT_EQ(std::int64_t(obj["result"]["n"]), 41);
}

TEST(FramesTest, OkFrameEchoesStringId) {
  simdjson::dom::parser p;
  auto obj = parse_frame(p, ok_frame(R"("req-9")", "{}"));
  EXPECT_EQ(std::string_view(obj["id"]), "req-9");
}

TEST(FramesTest, ErrorFrameEscapesTheMessage) {
  simdjson::dom::parser p;
  Error e{ErrorCode::kChatNotFound, "no such chat\nsecond line \"q\" \\ \t \x01 채팅"};
  auto obj = parse_frame(p, error_frame(R"("a\"b")", e));
  EXPECT_EQ(std::string_view(obj["id"]), "a\"b");
  EXPECT_FALSE(bool(obj["ok"]));
  EXPECT_EQ(std::string_view(obj["error"]["code"]), "chat_not_found");
  EXPECT_EQ(std::string_view(obj["error"]["message"]), e.message);
}

TEST(FramesTest, ErrorFrameForUnparseableFrameHasNullId) {
  simdjson::dom::parser p;
  auto obj = parse_frame(p, error_frame("null", Error{ErrorCode::kBadJson, "x"}));
  EXPECT_TRUE(obj["id"].is_null());
  EXPECT_EQ(std::string_view(obj["error"]["code"]), "bad_json");
}

TEST(FramesTest, ErrorFrameForEveryCode) {
  simdjson::dom::parser p;
  for (int i = 0; i < kErrorCodeCount; ++i) {
    auto code = static_cast<ErrorCode>(i);
    auto obj = parse_frame(p, error_frame("1", Error{code, "m"}));
    EXPECT_EQ(std::string_view(obj["error"]["code"]), error_code_name(code));
  }
}

TEST(FramesTest, EventFrameWithAndWithoutPosition) {
  simdjson::dom::parser p;
  JsonWriter data;
  data.begin_object().key("message").begin_object().field("text", "안녕\n잘 가").end_object().end_object();
  auto obj = parse_frame(p, event_frame("message.new", 1093, data.view()));
  EXPECT_EQ(std::string_view(obj["event"]), "message.new");
  EXPECT_EQ(std::int64_t(obj["pos"]), 1093);
  EXPECT_EQ(std::string_view(obj["data"]["message"]["text"]), "안녕\n잘 가");

  for (Pos pos : {Pos{0}, Pos{-1}}) {
    std::string frame = event_frame("hello", pos, R"({"protocol":1})");
    auto hello = parse_frame(p, frame);
    simdjson::dom::element e;
    EXPECT_NE(hello["pos"].get(e), simdjson::SUCCESS) << frame;
    EXPECT_EQ(std::int64_t(hello["data"]["protocol"]), 1);
  }
}

TEST(FramesTest, SharedFrameHoldsTheBytes) {
  SharedFrame f = share(ok_frame("1", "{}"));
  ASSERT_TRUE(f);
  EXPECT_EQ(*f, R"({"id":1,"ok":true,"result":{}})");
}

// --- error code names -----------------------------------------------------------------

TEST(ErrorCodesTest, NamesAreUniqueAndDocumented) {
  std::ifstream doc(MODU_SOURCE_DIR "/docs/protocol.md");
  ASSERT_TRUE(doc) << "cannot read docs/protocol.md";
  std::stringstream text;
  text << doc.rdbuf();
  std::set<std::string_view> seen;
  for (int i = 0; i < kErrorCodeCount; ++i) {
    std::string_view name = error_code_name(static_cast<ErrorCode>(i));
    EXPECT_FALSE(name.empty());
    EXPECT_TRUE(seen.insert(name).second) << "duplicate error code name " << name;
    EXPECT_NE(text.str().find("| `" + std::string(name) + "` |"), std::string::npos)
        << "error code '" << name << "' is not in the table of docs/protocol.md";
  }
}

}  // namespace
}  // namespace modu
