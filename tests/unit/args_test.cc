// Typed access to a request's args (src/protocol/args.h): missing fields, wrong types,
// ranges, byte limits, id lists, nested objects, and "the first problem wins".
#include "protocol/args.h"

#include <gtest/gtest.h>
#include <simdjson.h>

#include <string>

namespace modu {
namespace {

class ArgsTest : public ::testing::Test {
 protected:
  // Args over the JSON object `json` (kept alive by the fixture's parser).
  Args args(std::string_view json) {
    simdjson::dom::object obj;
    auto err = parser_.parse(json).get_object().get(obj);
    EXPECT_EQ(err, simdjson::SUCCESS) << json;
    return Args(obj);
  }

  static void expect_failed(const Args& a, ErrorCode code, std::string_view mentions) {
    ASSERT_TRUE(a.error().has_value());
    EXPECT_EQ(error_code_name(a.error()->code), error_code_name(code));
    EXPECT_NE(a.error()->message.find(mentions), std::string::npos) << a.error()->message;
  }

  simdjson::dom::parser parser_;
};

TEST_F(ArgsTest, Int64InRange) {
  auto a = args(R"({"n":5,"lo":-3,"big":9223372036854775807})");
  EXPECT_EQ(a.int64("n", 1, 10), 5);
  EXPECT_EQ(a.int64("lo", -3, 0), -3);  // bounds are inclusive
  EXPECT_EQ(a.int64("big", 0, INT64_MAX), INT64_MAX);
  EXPECT_FALSE(a.error());
}

TEST_F(ArgsTest, StringsRefuseNulExceptBinarySafeOnes) {
  auto a = args(R"({"name":"a\u0000b"})");
  EXPECT_FALSE(a.opt_string("name", 0, 10));
  expect_failed(a, ErrorCode::kBadRequest, "NUL");
  auto b = args(R"({"text":"a\u0000b"})");
  EXPECT_EQ(b.binary_safe_string("text", 1, 10), std::string("a\0b", 3));
  EXPECT_FALSE(b.error());
  auto c = args(R"({"tags":["ok","x\u0000"],"answers":{"k":"v\u0000"}})");
  EXPECT_FALSE(c.opt_string_list("tags", 5, 1, 10));
  EXPECT_TRUE(c.error());
  auto d = args(R"({"answers":{"k":"v\u0000"}})");
  EXPECT_FALSE(d.opt_string_map("answers", 5, 10));
  EXPECT_TRUE(d.error());
}

TEST_F(ArgsTest, Int64MissingIsBadRequestNamingTheField) {
  auto a = args(R"({"other":1})");
  EXPECT_EQ(a.int64("chat_id", 1, 10), 0);
  expect_failed(a, ErrorCode::kBadRequest, "chat_id");
}

TEST_F(ArgsTest, Int64NullCountsAsMissing) {
  auto a = args(R"({"n":null})");
  EXPECT_FALSE(a.has("n"));
  EXPECT_EQ(a.int64("n", 0, 10), 0);
  expect_failed(a, ErrorCode::kBadRequest, "n");
}

TEST_F(ArgsTest, Int64WrongTypes) {
  for (std::string_view json : {R"({"n":"5"})", R"({"n":1.5})", R"({"n":1.0})", R"({"n":true})",
                                R"({"n":[1]})", R"({"n":{}})", R"({"n":18446744073709551615})"}) {
    auto a = args(json);
    EXPECT_EQ(a.int64("n", 0, INT64_MAX), 0) << json;
    expect_failed(a, ErrorCode::kBadRequest, "'n'");
  }
}

TEST_F(ArgsTest, Int64OutOfRange) {
  auto below = args(R"({"n":0})");
  EXPECT_EQ(below.int64("n", 1, 10), 0);
  expect_failed(below, ErrorCode::kBadRequest, "between 1 and 10");

  auto above = args(R"({"n":11})");
  EXPECT_EQ(above.int64("n", 1, 10), 0);
  expect_failed(above, ErrorCode::kBadRequest, "between 1 and 10");

  auto negative = args(R"({"n":-9223372036854775808})");
  EXPECT_EQ(negative.int64("n", 0, 10), 0);
  expect_failed(negative, ErrorCode::kBadRequest, "'n'");
}

TEST_F(ArgsTest, OptInt64) {
  auto a = args(R"({"n":7,"z":null})");
  EXPECT_EQ(a.opt_int64("n", 0, 10), std::optional<std::int64_t>(7));
  EXPECT_EQ(a.opt_int64("missing", 0, 10), std::nullopt);
  EXPECT_EQ(a.opt_int64("z", 0, 10), std::nullopt);
  EXPECT_FALSE(a.error());  // absent optional fields are fine

  auto bad = args(R"({"n":70})");
  EXPECT_EQ(bad.opt_int64("n", 0, 10), std::nullopt);
  expect_failed(bad, ErrorCode::kBadRequest, "'n'");
}

TEST_F(ArgsTest, StringByteLimits) {
  auto a = args(R"({"s":"abc","k":"안녕","e":""})");
  EXPECT_EQ(a.string("s", 3, 3), "abc");  // both bounds inclusive
  EXPECT_EQ(a.string("k", 1, 6), "안녕");  // 6 UTF-8 bytes
  EXPECT_EQ(a.string("e", 0, 10), "");     // empty allowed when min is 0
  EXPECT_FALSE(a.error());

  auto too_long = args(R"({"k":"안녕"})");
  EXPECT_EQ(too_long.string("k", 1, 5), "");  // limits count bytes, not characters
  expect_failed(too_long, ErrorCode::kBadRequest, "longer than 5 bytes");

  auto empty = args(R"({"s":""})");
  EXPECT_EQ(empty.string("s", 1, 10), "");
  expect_failed(empty, ErrorCode::kBadRequest, "must not be empty");

  auto too_short = args(R"({"s":"ab"})");
  EXPECT_EQ(too_short.string("s", 3, 10), "");
  expect_failed(too_short, ErrorCode::kBadRequest, "at least 3 bytes");
}

TEST_F(ArgsTest, StringMissingAndWrongType) {
  auto missing = args(R"({})");
  EXPECT_EQ(missing.string("text", 1, 10), "");
  expect_failed(missing, ErrorCode::kBadRequest, "missing field 'text'");

  auto number = args(R"({"text":5})");
  EXPECT_EQ(number.string("text", 1, 10), "");
  expect_failed(number, ErrorCode::kBadRequest, "must be a string");
}

TEST_F(ArgsTest, StringKeepsEscapedContent) {
  auto a = args(R"({"s":"a\nb\u0000c\"d","t":"a\nb\"c"})");
  EXPECT_EQ(a.binary_safe_string("s", 1, 100), std::string("a\nb\0c\"d", 7));
  EXPECT_EQ(a.string("t", 1, 100), "a\nb\"c");
  EXPECT_FALSE(a.error());
}

TEST_F(ArgsTest, OptString) {
  auto a = args(R"({"s":"x","n":null})");
  EXPECT_EQ(a.opt_string("s", 1, 10), std::optional<std::string>("x"));
  EXPECT_EQ(a.opt_string("missing", 1, 10), std::nullopt);
  EXPECT_EQ(a.opt_string("n", 1, 10), std::nullopt);
  EXPECT_FALSE(a.error());
  auto bad = args(R"({"s":"toolong"})");
  EXPECT_EQ(bad.opt_string("s", 1, 3), std::nullopt);
  expect_failed(bad, ErrorCode::kBadRequest, "'s'");
}

TEST_F(ArgsTest, FirstProblemWins) {
  auto a = args(R"({"a":"x","b":5,"c":"ok"})");
  EXPECT_EQ(a.int64("a", 0, 10), 0);             // wrong type: recorded
  EXPECT_EQ(a.int64("missing", 0, 10), 0);       // would be "missing": not recorded
  EXPECT_EQ(a.int64("b", 0, 10), 0);             // valid, but after a failure: default
  EXPECT_EQ(a.string("c", 1, 10), "");
  EXPECT_EQ(a.opt_string("c", 1, 10), std::nullopt);
  EXPECT_TRUE(a.int64_list("b", 10).empty());
  expect_failed(a, ErrorCode::kBadRequest, "'a'");
  a.fail(ErrorCode::kForbidden, "later");
  EXPECT_EQ(a.error()->code, ErrorCode::kBadRequest);
}

TEST_F(ArgsTest, FailRecordsHandlerErrors) {
  auto a = args(R"({})");
  a.fail(ErrorCode::kInvalidState, "groups only");
  a.fail(ErrorCode::kForbidden, "second");
  ASSERT_TRUE(a.error());
  EXPECT_EQ(a.error()->code, ErrorCode::kInvalidState);
  EXPECT_EQ(a.error()->message, "groups only");
}

TEST_F(ArgsTest, Int64List) {
  auto a = args(R"({"ids":[3,1,2],"none":[]})");
  EXPECT_EQ(a.int64_list("ids", 3), (std::vector<std::int64_t>{3, 1, 2}));
  EXPECT_TRUE(a.int64_list("none", 3).empty());
  EXPECT_FALSE(a.error());
}

TEST_F(ArgsTest, Int64ListTooManyItemsIsTooLarge) {
  auto a = args(R"({"ids":[1,2,3,4]})");
  EXPECT_TRUE(a.int64_list("ids", 3).empty());
  expect_failed(a, ErrorCode::kTooLarge, "more than 3 items");
}

TEST_F(ArgsTest, Int64ListRejectsBadItemsWithoutPartialResult) {
  for (std::string_view json : {R"({"ids":[1,"2"]})", R"({"ids":[1,0]})", R"({"ids":[5,-1]})",
                                R"({"ids":[1,2.5]})", R"({"ids":[1,null]})", R"({"ids":[[1]]})",
                                R"({"ids":[1,18446744073709551615]})"}) {
    auto a = args(json);
    EXPECT_TRUE(a.int64_list("ids", 10).empty()) << json;
    expect_failed(a, ErrorCode::kBadRequest, "positive integers");
  }
}

TEST_F(ArgsTest, Int64ListNotAnArrayOrMissing) {
  auto scalar = args(R"({"ids":5})");
  EXPECT_TRUE(scalar.int64_list("ids", 10).empty());
  expect_failed(scalar, ErrorCode::kBadRequest, "array");

  auto missing = args(R"({})");
  EXPECT_TRUE(missing.int64_list("user_ids", 10).empty());
  expect_failed(missing, ErrorCode::kBadRequest, "user_ids");
}

TEST_F(ArgsTest, NestedObject) {
  auto a = args(R"({"device":{"kind":"web","name":"Chrome"}})");
  Args device = a.object("device", true);
  EXPECT_EQ(device.string("kind", 1, 16), "web");
  EXPECT_EQ(device.string("name", 1, 64), "Chrome");
  EXPECT_FALSE(device.error());
  EXPECT_FALSE(a.error());
}

TEST_F(ArgsTest, NestedObjectErrorsStayInTheNestedArgs) {
  auto a = args(R"({"device":{"kind":5}})");
  Args device = a.object("device", true);
  EXPECT_EQ(device.string("kind", 1, 16), "");
  expect_failed(device, ErrorCode::kBadRequest, "kind");
  EXPECT_FALSE(a.error());
}

TEST_F(ArgsTest, NestedObjectMissing) {
  auto required = args(R"({})");
  Args device = required.object("device", true);
  expect_failed(required, ErrorCode::kBadRequest, "device");
  EXPECT_FALSE(device.has("kind"));

  auto optional = args(R"({})");
  Args none = optional.object("device", false);
  EXPECT_FALSE(optional.error());
  EXPECT_EQ(none.string("kind", 1, 16), "");  // an empty Args reports missing fields
  expect_failed(none, ErrorCode::kBadRequest, "kind");
}

TEST_F(ArgsTest, NestedObjectOfWrongType) {
  for (std::string_view json : {R"({"device":"web"})", R"({"device":[1]})", R"({"device":3})"}) {
    auto a = args(json);
    Args device = a.object("device", true);
    expect_failed(a, ErrorCode::kBadRequest, "must be an object");
    EXPECT_FALSE(device.has("kind"));
  }
}

TEST_F(ArgsTest, HasAndDefaultArgs) {
  auto a = args(R"({"x":0,"y":null,"z":""})");
  EXPECT_TRUE(a.has("x"));
  EXPECT_FALSE(a.has("y"));
  EXPECT_TRUE(a.has("z"));
  EXPECT_FALSE(a.has("w"));

  Args none;
  EXPECT_FALSE(none.has("x"));
  EXPECT_EQ(none.opt_int64("x", 0, 1), std::nullopt);
  EXPECT_FALSE(none.error());
}

}  // namespace
}  // namespace modu
