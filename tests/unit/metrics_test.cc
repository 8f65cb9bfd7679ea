// Prometheus metrics (src/metrics/metrics.h): every series is rendered with HELP and TYPE,
// counters carry their values, and histogram buckets are cumulative.
#include "metrics/metrics.h"

#include <gtest/gtest.h>

#include <map>
#include <sstream>
#include <string>
#include <vector>

namespace modu {
namespace {

// "name{labels} value" lines of a rendering, keyed by everything before the value.
std::map<std::string, std::string> samples(const std::string& text) {
  std::map<std::string, std::string> out;
  std::istringstream in(text);
  std::string line;
  while (std::getline(in, line)) {
    if (line.empty() || line[0] == '#') continue;
    auto space = line.rfind(' ');
    EXPECT_NE(space, std::string::npos) << line;
    if (space == std::string::npos) continue;
    out[line.substr(0, space)] = line.substr(space + 1);
  }
  return out;
}

// Bucket counts of one histogram in rendering order (the +Inf bucket last).
std::vector<std::pair<std::string, std::int64_t>> buckets(const std::string& text, const std::string& name) {
  std::vector<std::pair<std::string, std::int64_t>> out;
  std::istringstream in(text);
  std::string line, prefix = name + "_bucket{le=\"";
  while (std::getline(in, line)) {
    if (line.rfind(prefix, 0) != 0) continue;
    auto close = line.find("\"}", prefix.size());
    out.emplace_back(line.substr(prefix.size(), close - prefix.size()), std::stoll(line.substr(line.rfind(' ') + 1)));
  }
  return out;
}

TEST(MetricsTest, EverySeriesIsRenderedWithHelpAndType) {
  Metrics m;
  std::string text = m.render(0);
  const std::vector<std::pair<std::string, std::string>> series = {
      {"modu_connections", "gauge"},
      {"modu_connections_total", "counter"},
      {"modu_frames_in_total", "counter"},
      {"modu_frames_out_total", "counter"},
      {"modu_ws_messages_out_total", "counter"},
      {"modu_messages_stored_total", "counter"},
      {"modu_slow_consumers_closed_total", "counter"},
      {"modu_store_queued_writes", "gauge"},
      {"modu_errors_total", "counter"},
      {"modu_store_batch_size", "histogram"},
      {"modu_store_commit_seconds", "histogram"},
  };
  for (const auto& [name, type] : series) {
    EXPECT_NE(text.find("# HELP " + name + " "), std::string::npos) << name;
    EXPECT_NE(text.find("# TYPE " + name + " " + type + "\n"), std::string::npos) << name;
  }
  EXPECT_EQ(text.back(), '\n');
}

TEST(MetricsTest, CountersAndGaugesCarryTheirValues) {
  Metrics m;
  m.connections = 3;
  m.connections_total = 10;
  m.frames_in = 7;
  m.frames_out = 8;
  m.ws_messages_out = 5;
  m.messages_stored = 42;
  m.slow_consumers_closed = 1;
  auto s = samples(m.render(17));
  EXPECT_EQ(s["modu_connections"], "3");
  EXPECT_EQ(s["modu_connections_total"], "10");
  EXPECT_EQ(s["modu_frames_in_total"], "7");
  EXPECT_EQ(s["modu_frames_out_total"], "8");
  EXPECT_EQ(s["modu_ws_messages_out_total"], "5");
  EXPECT_EQ(s["modu_messages_stored_total"], "42");
  EXPECT_EQ(s["modu_slow_consumers_closed_total"], "1");
  EXPECT_EQ(s["modu_store_queued_writes"], "17");
}

TEST(MetricsTest, ErrorsAreCountedPerCode) {
  Metrics m;
  m.count_error(ErrorCode::kRateLimited);
  m.count_error(ErrorCode::kRateLimited);
  m.count_error(ErrorCode::kBadJson);
  auto s = samples(m.render(0));
  for (int i = 0; i < kErrorCodeCount; ++i) {
    auto code = static_cast<ErrorCode>(i);
    std::string key = "modu_errors_total{code=\"" + std::string(error_code_name(code)) + "\"}";
    ASSERT_TRUE(s.count(key)) << key;
    std::string expected = code == ErrorCode::kRateLimited ? "2" : code == ErrorCode::kBadJson ? "1" : "0";
    EXPECT_EQ(s[key], expected) << key;
  }
}

TEST(MetricsTest, HistogramBucketsAreCumulative) {
  Metrics m;
  for (double v : {1.0, 1.0, 3.0, 5.0, 100.0, 4096.0, 5000.0}) m.batch_size.observe(v);
  std::string text = m.render(0);
  auto b = buckets(text, "modu_store_batch_size");
  ASSERT_EQ(b.size(), 13u);  // 12 bounds + Inf
  const std::vector<std::pair<std::string, std::int64_t>> expected = {
      {"1", 2},   {"2", 2},   {"4", 3},   {"8", 4},    {"16", 4},   {"32", 4},  {"64", 4},
      {"128", 5}, {"256", 5}, {"512", 5}, {"1024", 5}, {"4096", 6}, {"+Inf", 7}};
  EXPECT_EQ(b, expected);
  auto s = samples(text);
  EXPECT_EQ(s["modu_store_batch_size_count"], "7");
  EXPECT_DOUBLE_EQ(std::stod(s["modu_store_batch_size_sum"]), 9206.0);
}

TEST(MetricsTest, CommitSecondsBucketsUseTheirBounds) {
  Metrics m;
  m.commit_seconds.observe(0.00005);  // first bucket
  m.commit_seconds.observe(0.0002);   // 0.00025
  m.commit_seconds.observe(0.003);    // 0.005
  m.commit_seconds.observe(2.0);      // only +Inf
  std::string text = m.render(0);
  auto b = buckets(text, "modu_store_commit_seconds");
  ASSERT_EQ(b.size(), 13u);
  EXPECT_EQ(b.front().first, "0.0001");
  EXPECT_EQ(b.front().second, 1);
  EXPECT_EQ(b.back().first, "+Inf");
  EXPECT_EQ(b.back().second, 4);
  for (std::size_t i = 1; i < b.size(); ++i)
    EXPECT_GE(b[i].second, b[i - 1].second) << "bucket " << b[i].first << " is not cumulative";
  EXPECT_EQ(b[b.size() - 2].first, "1");
  EXPECT_EQ(b[b.size() - 2].second, 3);
  auto s = samples(text);
  EXPECT_EQ(s["modu_store_commit_seconds_count"], "4");
  EXPECT_NEAR(std::stod(s["modu_store_commit_seconds_sum"]), 2.00325, 1e-5);
}

TEST(MetricsTest, LabelledSeriesCarryTheirLabelsOnEveryLine) {
  LatencyHistogram h(kLatencyBounds);
  h.observe(0.0003);  // 0.0005
  h.observe(0.02);    // 0.02
  h.observe(11);      // only +Inf
  std::string text;
  h.render_series(text, "modu_request_seconds", R"(op="messages.send")");
  EXPECT_EQ(text.find("# "), std::string::npos) << "a series alone has no header";
  auto s = samples(text);
  EXPECT_EQ(s[R"(modu_request_seconds_bucket{op="messages.send",le="0.0002"})"], "0");
  EXPECT_EQ(s[R"(modu_request_seconds_bucket{op="messages.send",le="0.0005"})"], "1");
  EXPECT_EQ(s[R"(modu_request_seconds_bucket{op="messages.send",le="0.01"})"], "1");
  EXPECT_EQ(s[R"(modu_request_seconds_bucket{op="messages.send",le="0.02"})"], "2");
  EXPECT_EQ(s[R"(modu_request_seconds_bucket{op="messages.send",le="10"})"], "2");
  EXPECT_EQ(s[R"(modu_request_seconds_bucket{op="messages.send",le="+Inf"})"], "3");
  EXPECT_EQ(s[R"(modu_request_seconds_count{op="messages.send"})"], "3");
  EXPECT_NEAR(std::stod(s[R"(modu_request_seconds_sum{op="messages.send"})"]), 11.0203, 1e-6);
  EXPECT_EQ(s.size(), 19u);  // 16 bounds, +Inf, sum, count
  EXPECT_EQ(h.count(), 3);
}

TEST(MetricsTest, EmptyHistogramRendersZeros) {
  Metrics m;
  auto b = buckets(m.render(0), "modu_store_commit_seconds");
  ASSERT_EQ(b.size(), 13u);
  for (const auto& [le, n] : b) EXPECT_EQ(n, 0) << le;
}

}  // namespace
}  // namespace modu
