// Self-test of modu-bench's histogram: percentiles within the promised 0.8 % relative error,
// exact small values, and lossless serialize/parse + merge (as workers ship them).
#include <cmath>
#include <cstdio>

#include "histogram.hpp"

using bench::Histogram;

static int failures = 0;
static void check(bool ok, const char* what) {
  if (!ok) {
    std::printf("FAIL: %s\n", what);
    failures++;
  }
}

int main() {
  Histogram h;
  for (uint64_t v = 1; v <= 1000000; ++v) h.record(v);
  for (double p : {1.0, 50.0, 90.0, 99.0, 99.9}) {
    double want = p / 100 * 1e6, got = double(h.percentile(p));
    check(std::fabs(got - want) / want <= 0.008, "percentile within 0.8 %");
  }
  check(h.percentile(100) == 1000000 && h.max() == 1000000 && h.min() == 1, "min/max exact");
  for (uint64_t v = 0; v < Histogram::kExact; ++v) check(Histogram::value_at(Histogram::index_of(v)) == v, "small values exact");

  Histogram a, b;
  for (uint64_t v = 0; v < 5000; ++v) (v % 2 ? a : b).record(v * 997);
  Histogram merged = Histogram::parse(a.serialize());
  merged.merge(Histogram::parse(b.serialize()));
  Histogram all;
  for (uint64_t v = 0; v < 5000; ++v) all.record(v * 997);
  check(merged.count() == all.count() && merged.percentile(99) == all.percentile(99) && merged.max() == all.max(),
        "serialize/parse/merge is lossless");
  std::printf("%d passed, %d failed\n", failures ? 0 : 1, failures ? 1 : 0);
  return failures ? 1 : 0;
}
