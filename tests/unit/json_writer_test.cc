// The JSON writer (src/protocol/json_writer.h): compact output, strings escaped so that no
// raw newline or control character survives, and UTF-8 text passed through unchanged.
#include "protocol/json_writer.h"

#include <gtest/gtest.h>
#include <simdjson.h>

#include <cstdint>
#include <limits>
#include <string>
#include <vector>

namespace modu {
namespace {

// Writes `s` as a JSON string value and parses it back.
std::string round_trip(std::string_view s, std::string* encoded = nullptr) {
  JsonWriter w;
  w.value(s);
  if (encoded) *encoded = w.str();
  simdjson::dom::parser p;
  std::string_view decoded;
  auto err = p.parse(w.view()).get_string().get(decoded);
  EXPECT_EQ(err, simdjson::SUCCESS) << w.str();
  return std::string(decoded);
}

TEST(JsonWriterTest, EscapesQuotesAndBackslashes) {
  std::string encoded;
  EXPECT_EQ(round_trip(R"(say "hi" \ bye)", &encoded), R"(say "hi" \ bye)");
  EXPECT_EQ(encoded, R"("say \"hi\" \\ bye")");
}

TEST(JsonWriterTest, EscapesEveryControlCharacter) {
  std::string all;
  for (int c = 0; c < 0x20; ++c) all.push_back(static_cast<char>(c));
  all += "\x7f";
  std::string encoded;
  EXPECT_EQ(round_trip(all, &encoded), all);
  for (unsigned char c : encoded)
    EXPECT_GE(c, 0x20) << "raw control character " << int(c) << " in " << encoded;
}

TEST(JsonWriterTest, NewlinesBecomeEscapes) {
  std::string encoded;
  EXPECT_EQ(round_trip("a\nb\r\nc", &encoded), "a\nb\r\nc");
  EXPECT_EQ(encoded, R"("a\nb\r\nc")");
}

TEST(JsonWriterTest, EmbeddedNulIsKept) {
  std::string s("a\0b", 3);
  std::string encoded;
  EXPECT_EQ(round_trip(s, &encoded), s);
  EXPECT_EQ(encoded.find('\0'), std::string::npos);
}

TEST(JsonWriterTest, KoreanAndEmojiRoundTrip) {
  std::string text = "안녕하세요, 민지 씨! 주말 등산 🙂 — ㅋㅋㅋ";
  std::string encoded;
  EXPECT_EQ(round_trip(text, &encoded), text);
  // UTF-8 is written as is, not as \u escapes.
  EXPECT_NE(encoded.find("안녕하세요"), std::string::npos) << encoded;
}

TEST(JsonWriterTest, ObjectsArraysAndScalars) {
  JsonWriter w;
  w.begin_object()
      .field("s", "x")
      .field("i", std::int64_t{-42})
      .field("min", std::numeric_limits<std::int64_t>::min())
      .field("max", std::numeric_limits<std::int64_t>::max())
      .field("u", std::size_t{18446744073709551615ull})
      .field("small", 3)
      .field("t", true)
      .field("f", false)
      .key("nothing").null()
      .key("list").begin_array().value(std::int64_t{1}).value("two").end_array()
      .key("raw").raw(R"({"nested":[1,2]})")
      .runtime_field("quote\"key\n", "v")
      .end_object();
  std::string json = w.str();
  EXPECT_EQ(json.find('\n'), std::string::npos);
  EXPECT_EQ(json.find(' '), std::string::npos) << "output is compact: " << json;

  simdjson::dom::parser p;
  simdjson::dom::object obj;
  ASSERT_EQ(p.parse(json).get_object().get(obj), simdjson::SUCCESS) << json;
  EXPECT_EQ(std::string_view(obj["s"]), "x");
  EXPECT_EQ(std::int64_t(obj["i"]), -42);
  EXPECT_EQ(std::int64_t(obj["min"]), std::numeric_limits<std::int64_t>::min());
  EXPECT_EQ(std::int64_t(obj["max"]), std::numeric_limits<std::int64_t>::max());
  EXPECT_EQ(std::uint64_t(obj["u"]), 18446744073709551615ull);
  EXPECT_EQ(std::int64_t(obj["small"]), 3);
  EXPECT_TRUE(bool(obj["t"]));
  EXPECT_FALSE(bool(obj["f"]));
  EXPECT_TRUE(obj["nothing"].is_null());
  EXPECT_EQ(std::int64_t(obj["list"].at(0)), 1);
  EXPECT_EQ(std::string_view(obj["list"].at(1)), "two");
  EXPECT_EQ(std::int64_t(obj["raw"]["nested"].at(1)), 2);
  EXPECT_EQ(std::string_view(obj["quote\"key\n"]), "v");
}

// The string path copies runs itself; its output must be exactly rapidjson's own.
std::string rapidjson_string(std::string_view s) {
  rapidjson::StringBuffer buffer;
  rapidjson::Writer<rapidjson::StringBuffer> plain(buffer);
  plain.String(s.data(), static_cast<rapidjson::SizeType>(s.size()));
  return {buffer.GetString(), buffer.GetSize()};
}

TEST(JsonWriterTest, StringsAreWrittenExactlyAsRapidjsonWritesThem) {
  std::vector<std::string> cases = {"", "a", "\"", "\\", "plain ascii text", "끝", std::string(1, '\0'),
                                    "tab\there", "\x1f\x7f\x80\xff", "runs \"between\" escapes\n\n"};
  for (int c = 0; c < 256; ++c) {
    cases.push_back(std::string(1, static_cast<char>(c)));
    cases.push_back("ab" + std::string(1, static_cast<char>(c)) + "cd");
    // at every offset of 8-byte blocks (the writer tests eight bytes at a time), next to
    // UTF-8 bytes, whose high bit must not hide it
    for (std::size_t at = 0; at < 17; ++at) {
      std::string s = "0123456789\xea\xb0\x80" "bcdef";
      s[at] = static_cast<char>(c);
      cases.push_back(s);
    }
  }
  std::string long_text;  // longer than the buffer's first allocation, escapes spread through
  for (int i = 0; i < 2000; ++i) long_text += (i % 97 == 0) ? '\n' : static_cast<char>('a' + i % 26);
  cases.push_back(long_text);
  cases.push_back(std::string(5000, '"'));  // all escaped: the most the writer reserves
  for (const auto& s : cases) {
    JsonWriter w;
    w.value(s);
    EXPECT_EQ(w.view(), rapidjson_string(s)) << "for a string of " << s.size() << " bytes";
  }
}

TEST(JsonWriterTest, KeysAndValuesAreEscapedAlikeInsideStructures) {
  JsonWriter w;
  w.begin_object().runtime_field("k\"1", "v\n1").key("list").begin_array().value("a\tb").value("").end_array().end_object();
  EXPECT_EQ(w.view(), R"({"k\"1":"v\n1","list":["a\tb",""]})");
}

// Keys written in the source skip the escape scan; a literal that would need escaping is
// rejected when it is compiled (JsonKey's constructor is consteval).
static_assert(is_plain_json_key("chat_id"));
static_assert(is_plain_json_key(""));
static_assert(!is_plain_json_key("quote\"key"));
static_assert(!is_plain_json_key("back\\slash"));
static_assert(!is_plain_json_key("new\nline"));
static_assert(!is_plain_json_key("\x7f"));
static_assert(!is_plain_json_key("\xea\xb0\x80"));  // non-ASCII keys take runtime_key

TEST(JsonWriterTest, PlainKeysAreWrittenAsEscapedKeysWouldBe) {
  JsonWriter plain, escaped;
  plain.begin_object().field("chat_id", 7).key("list").begin_array().end_array()
      .key("inner").begin_object().field("a", "b").field("", 0).end_object().end_object();
  escaped.begin_object().runtime_field("chat_id", 7).runtime_key("list").begin_array().end_array()
      .runtime_key("inner").begin_object().runtime_field("a", "b").runtime_field("", 0).end_object().end_object();
  EXPECT_EQ(plain.view(), R"({"chat_id":7,"list":[],"inner":{"a":"b","":0}})");
  EXPECT_EQ(plain.view(), escaped.view());
}

TEST(JsonWriterTest, FlatObjectsWriteWhatTheGeneralPathWrites) {
  const std::string text = std::string("따옴표 \"와\" 역슬래시 \\, 줄\n바꿈, NUL ") + '\0' + " 끝";
  auto both = [&](auto&& write_one) {
    // At the root, in an array after another value (and empty), and as an object's member.
    JsonWriter flat_root, general_root;
    write_one(flat_root, true);
    write_one(general_root, false);
    EXPECT_EQ(flat_root.view(), general_root.view());
    JsonWriter flat, general;
    general.begin_array().value(1);
    flat.begin_array().value(1);
    write_one(general, false);
    write_one(flat, true);
    general.begin_object().end_object();
    flat.flat_object().end();
    general.end_array();
    flat.end_array();
    EXPECT_EQ(flat.view(), general.view());
    JsonWriter flat_member, general_member;
    general_member.begin_object().key("message");
    flat_member.begin_object().key("message");
    write_one(general_member, false);
    write_one(flat_member, true);
    general_member.field("after", true).end_object();
    flat_member.field("after", true).end_object();
    EXPECT_EQ(flat_member.view(), general_member.view());
    return std::string(flat_member.view());
  };
  std::string got = both([&](JsonWriter& w, bool flat) {
    if (flat) {
      w.flat_object()
          .field("min", std::numeric_limits<std::int64_t>::min())
          .field("max", std::numeric_limits<std::int64_t>::max())
          .field("zero", 0)
          .field("text", text)
          .field("empty", "")
          .field("yes", true)
          .field("no", false)
          .null_field("none")
          .end();
    } else {
      w.begin_object()
          .field("min", std::numeric_limits<std::int64_t>::min())
          .field("max", std::numeric_limits<std::int64_t>::max())
          .field("zero", 0)
          .field("text", text)
          .field("empty", "")
          .field("yes", true)
          .field("no", false)
          .key("none")
          .null()
          .end_object();
    }
  });
  EXPECT_EQ(got, R"({"message":{"min":-9223372036854775808,"max":9223372036854775807,"zero":0,)"
                 R"("text":"따옴표 \"와\" 역슬래시 \\, 줄\n바꿈, NUL \u0000 끝","empty":"","yes":true,)"
                 R"("no":false,"none":null},"after":true})");
}

TEST(JsonWriterTest, ClearStartsANewDocument) {
  JsonWriter w;
  w.begin_object().field("first", "document").end_object();
  w.clear();
  EXPECT_EQ(w.view(), "");
  w.begin_array().value("second").end_array();
  EXPECT_EQ(w.view(), R"(["second"])");
}

TEST(JsonWriterTest, ViewAndStrAgree) {
  JsonWriter w;
  w.begin_array().value("a").end_array();
  EXPECT_EQ(w.view(), "[\"a\"]");
  EXPECT_EQ(w.str(), std::string(w.view()));
}

}  // namespace
}  // namespace modu
