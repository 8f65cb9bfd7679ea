// Self-test of how modu-bench reads a Modu server's own timings from /metrics: one op's
// buckets among others, the window between two readings, and quantiles as bucket bounds.
#include <cmath>
#include <cstdio>
#include <string>

#include "server_metrics.hpp"

static int failures = 0;
static void check(bool ok, const char* what) {
  if (!ok) {
    std::printf("FAIL: %s\n", what);
    failures++;
  }
}

static std::string page(int64_t fast, int64_t mid, int64_t slow) {
  std::string p =
      "# HELP modu_request_seconds Time ...\n# TYPE modu_request_seconds histogram\n"
      "modu_request_seconds_bucket{op=\"auth.login\",le=\"0.001\"} 7\n"
      "modu_request_seconds_bucket{op=\"auth.login\",le=\"+Inf\"} 9\n";
  p += "modu_request_seconds_bucket{op=\"messages.send\",le=\"0.001\"} " + std::to_string(fast) + "\n";
  p += "modu_request_seconds_bucket{op=\"messages.send\",le=\"0.005\"} " + std::to_string(fast + mid) + "\n";
  p += "modu_request_seconds_bucket{op=\"messages.send\",le=\"+Inf\"} " + std::to_string(fast + mid + slow) + "\n";
  p += "modu_request_seconds_sum{op=\"messages.send\"} 1.5\nmodu_request_seconds_count{op=\"messages.send\"} " +
       std::to_string(fast + mid + slow) + "\n";
  return p;
}

int main() {
  using bench::Buckets;
  Buckets b = bench::request_seconds(page(90, 9, 1), "messages.send");
  check(b.size() == 3, "three buckets of messages.send, none of auth.login");
  check(b.size() == 3 && b[0].first == 0.001 && b[0].second == 90, "first bucket");
  check(b.size() == 3 && b[1].first == 0.005 && b[1].second == 99, "cumulative second bucket");
  check(b.size() == 3 && std::isinf(b[2].first) && b[2].second == 100, "+Inf last");
  check(bench::request_seconds(page(1, 1, 1), "messages.read").empty(), "an op never asked for has no buckets");
  check(bench::request_seconds("modu_request_seconds_bucket{op=\"messages.send\",le=\"x\"} 1\n", "messages.send").empty(),
        "a malformed bound is refused");
  check(bench::request_seconds("modu_request_seconds_bucket{op=\"messages.send\",le=\"0.1\"} 5\n"
                               "modu_request_seconds_bucket{op=\"messages.send\",le=\"+Inf\"} 4\n",
                               "messages.send")
            .empty(),
        "counts that fall are not a cumulative histogram");

  // Window: 100 requests before, 300 after, of which 200 fast, 70 mid, 30 slow in between.
  Buckets w = bench::bucket_delta(b, bench::request_seconds(page(290, 79, 31), "messages.send"));
  check(w.size() == 3 && w[0].second == 200 && w[1].second == 270 && w[2].second == 300, "the window's counts");
  check(bench::quantile_at_most(w, 0.5) == 0.001, "p50 in the first bucket");
  check(bench::quantile_at_most(w, 0.9) == 0.005, "p90 (270 of 300) in the second");
  check(bench::quantile_at_most(w, 0.99).has_value() && std::isinf(*bench::quantile_at_most(w, 0.99)), "p99 beyond the bounds");
  check(bench::bucket_delta({}, b) == b, "before the first request: everything is in the window");
  check(bench::bucket_delta(b, Buckets{{0.001, 1}}).empty(), "different bounds cannot be subtracted");
  check(!bench::quantile_at_most(bench::bucket_delta(b, b), 0.5), "no request in the window: no quantile");
  check(!bench::fetch_server_metrics(bench::Endpoint{boost::asio::ip::make_address("127.0.0.1"), 1}, 0.5),
        "nothing listening: no page");

  if (failures) return 1;
  std::printf("ok\n");
  return 0;
}
