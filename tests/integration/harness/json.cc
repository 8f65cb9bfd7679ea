#include "harness/json.h"

#include <stdexcept>

// Make rapidjson report misuse as an exception rather than abort the test binary.
#define RAPIDJSON_ASSERT(x) \
  do {                      \
    if (!(x)) throw std::logic_error("rapidjson assertion failed: " #x); \
  } while (0)
#define RAPIDJSON_HAS_STDSTRING 1
#include <rapidjson/document.h>
#include <rapidjson/error/en.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

namespace modu_it {

struct JsonRef::Impl {
  rapidjson::Document doc;
};

namespace {
const rapidjson::Value& val(const void* p) { return *static_cast<const rapidjson::Value*>(p); }

std::string dump_value(const rapidjson::Value& v) {
  rapidjson::StringBuffer buf;
  rapidjson::Writer<rapidjson::StringBuffer> writer(buf);
  v.Accept(writer);
  return std::string(buf.GetString(), buf.GetSize());
}

std::string truncate(std::string s, std::size_t max = 600) {
  if (s.size() > max) s = s.substr(0, max) + "…";
  return s;
}
}  // namespace

std::optional<JsonRef> JsonRef::try_parse(std::string_view text) {
  auto impl = std::make_shared<Impl>();
  impl->doc.Parse(text.data(), text.size());
  if (impl->doc.HasParseError()) return std::nullopt;
  const void* root = &impl->doc;
  return JsonRef(std::move(impl), root, "$");
}

JsonRef JsonRef::parse(std::string_view text) {
  auto parsed = try_parse(text);
  if (!parsed) throw std::runtime_error("not valid JSON: " + truncate(std::string(text)));
  return *parsed;
}

void JsonRef::fail(std::string_view what) const {
  throw std::runtime_error("JSON " + path_ + ": " + std::string(what) + " in " + truncate(dump()));
}

JsonRef JsonRef::operator[](std::string_view key) const {
  const auto& v = val(value_);
  if (!v.IsObject()) fail("not an object (wanted key '" + std::string(key) + "')");
  auto it = v.FindMember(rapidjson::StringRef(key.data(), key.size()));
  if (it == v.MemberEnd()) fail("missing key '" + std::string(key) + "'");
  return JsonRef(doc_, &it->value, path_ + "." + std::string(key));
}

JsonRef JsonRef::operator[](std::size_t index) const {
  const auto& v = val(value_);
  if (!v.IsArray()) fail("not an array");
  if (index >= v.Size()) fail("index " + std::to_string(index) + " out of range");
  return JsonRef(doc_, &v[static_cast<rapidjson::SizeType>(index)],
                 path_ + "[" + std::to_string(index) + "]");
}

bool JsonRef::has(std::string_view key) const {
  const auto& v = val(value_);
  return v.IsObject() && v.HasMember(rapidjson::StringRef(key.data(), key.size()));
}
bool JsonRef::is_null() const { return val(value_).IsNull(); }
bool JsonRef::is_object() const { return val(value_).IsObject(); }
bool JsonRef::is_array() const { return val(value_).IsArray(); }
bool JsonRef::is_string() const { return val(value_).IsString(); }
bool JsonRef::is_bool() const { return val(value_).IsBool(); }
bool JsonRef::is_int() const { return val(value_).IsInt64(); }

std::int64_t JsonRef::i64() const {
  if (!is_int()) fail("not an integer");
  return val(value_).GetInt64();
}
std::string JsonRef::str() const {
  if (!is_string()) fail("not a string");
  const auto& v = val(value_);
  return std::string(v.GetString(), v.GetStringLength());
}
bool JsonRef::boolean() const {
  if (!is_bool()) fail("not a boolean");
  return val(value_).GetBool();
}
std::size_t JsonRef::size() const {
  const auto& v = val(value_);
  if (v.IsArray()) return v.Size();
  if (v.IsObject()) return v.MemberCount();
  fail("neither array nor object");
}
std::vector<JsonRef> JsonRef::items() const {
  const auto& v = val(value_);
  if (!v.IsArray()) fail("not an array");
  std::vector<JsonRef> out;
  out.reserve(v.Size());
  for (rapidjson::SizeType i = 0; i < v.Size(); ++i)
    out.push_back(JsonRef(doc_, &v[i], path_ + "[" + std::to_string(i) + "]"));
  return out;
}
std::vector<std::string> JsonRef::keys() const {
  const auto& v = val(value_);
  if (!v.IsObject()) fail("not an object");
  std::vector<std::string> out;
  for (auto it = v.MemberBegin(); it != v.MemberEnd(); ++it)
    out.emplace_back(it->name.GetString(), it->name.GetStringLength());
  return out;
}
std::string JsonRef::dump() const { return dump_value(val(value_)); }

std::string json_quote(std::string_view s) {
  rapidjson::StringBuffer buf;
  rapidjson::Writer<rapidjson::StringBuffer> writer(buf);
  writer.String(s.data(), static_cast<rapidjson::SizeType>(s.size()));
  return std::string(buf.GetString(), buf.GetSize());
}

JsonObj& JsonObj::set(std::string_view key, std::int64_t value) {
  members_.emplace_back(std::string(key), std::to_string(value));
  return *this;
}
JsonObj& JsonObj::set(std::string_view key, std::string_view value) {
  members_.emplace_back(std::string(key), json_quote(value));
  return *this;
}
JsonObj& JsonObj::set(std::string_view key, bool value) {
  members_.emplace_back(std::string(key), value ? "true" : "false");
  return *this;
}
JsonObj& JsonObj::set(std::string_view key, const JsonObj& value) {
  members_.emplace_back(std::string(key), value.str());
  return *this;
}
JsonObj& JsonObj::set(std::string_view key, const JsonArr& value) {
  members_.emplace_back(std::string(key), value.str());
  return *this;
}
JsonObj& JsonObj::set_raw(std::string_view key, std::string_view raw_json) {
  members_.emplace_back(std::string(key), std::string(raw_json));
  return *this;
}
std::string JsonObj::str() const {
  std::string out = "{";
  for (std::size_t i = 0; i < members_.size(); ++i) {
    if (i) out += ',';
    out += json_quote(members_[i].first);
    out += ':';
    out += members_[i].second;
  }
  out += '}';
  return out;
}

JsonArr::JsonArr(std::initializer_list<std::int64_t> ints) {
  for (auto v : ints) add(v);
}
JsonArr::JsonArr(const std::vector<std::int64_t>& ints) {
  for (auto v : ints) add(v);
}
JsonArr& JsonArr::add(std::int64_t value) {
  items_.push_back(std::to_string(value));
  return *this;
}
JsonArr& JsonArr::add(std::string_view value) {
  items_.push_back(json_quote(value));
  return *this;
}
JsonArr& JsonArr::add_raw(std::string_view raw_json) {
  items_.emplace_back(raw_json);
  return *this;
}
std::string JsonArr::str() const {
  std::string out = "[";
  for (std::size_t i = 0; i < items_.size(); ++i) {
    if (i) out += ',';
    out += items_[i];
  }
  out += ']';
  return out;
}

}  // namespace modu_it
