#include "histogram.hpp"

#include <algorithm>
#include <bit>
#include <cmath>
#include <cstdio>
#include <cstdlib>

namespace bench {

static constexpr size_t kBuckets = Histogram::kExact + (Histogram::kMaxMsb - Histogram::kSubBits + 1) * Histogram::kHalf;

Histogram::Histogram() : counts_(kBuckets, 0) {}

size_t Histogram::index_of(uint64_t v) {
  if (v < kExact) return size_t(v);
  int msb = 63 - std::countl_zero(v);
  if (msb > kMaxMsb) return kBuckets - 1;
  int e = msb - (kSubBits - 1);  // >= 1; (v >> e) is in [kHalf, kExact)
  return size_t(kExact + uint64_t(e - 1) * kHalf + ((v >> e) - kHalf));
}

uint64_t Histogram::value_at(size_t idx) {
  if (idx < kExact) return idx;
  uint64_t e = (idx - kExact) / kHalf + 1;
  uint64_t m = (idx - kExact) % kHalf + kHalf;
  uint64_t lo = m << e, hi = ((m + 1) << e) - 1;
  return lo + (hi - lo) / 2;
}

void Histogram::record(uint64_t v) {
  counts_[index_of(v)]++;
  total_++;
  min_ = std::min(min_, v);
  max_ = std::max(max_, v);
  sum_ += v;
}

void Histogram::merge(const Histogram& o) {
  for (size_t i = 0; i < kBuckets; ++i) counts_[i] += o.counts_[i];
  total_ += o.total_;
  if (o.total_) {
    min_ = std::min(min_, o.min_);
    max_ = std::max(max_, o.max_);
  }
  sum_ += o.sum_;
}

uint64_t Histogram::percentile(double p) const {
  if (!total_) return 0;
  if (p >= 100.0) return max_;
  uint64_t rank = uint64_t(std::ceil(p / 100.0 * double(total_)));
  if (rank < 1) rank = 1;
  uint64_t seen = 0;
  for (size_t i = 0; i < kBuckets; ++i) {
    seen += counts_[i];
    if (seen >= rank) return std::clamp(value_at(i), min_, max_);
  }
  return max_;
}

std::string Histogram::serialize() const {
  std::string s = std::to_string(total_) + " " + std::to_string(min()) + " " + std::to_string(max_) + " " +
                  std::to_string(uint64_t(sum_)) + "|";
  bool first = true;
  for (size_t i = 0; i < kBuckets; ++i) {
    if (!counts_[i]) continue;
    if (!first) s += ',';
    first = false;
    s += std::to_string(i) + ":" + std::to_string(counts_[i]);
  }
  return s;
}

Histogram Histogram::parse(std::string_view t) {
  Histogram h;
  std::string head(t.substr(0, t.find('|')));
  unsigned long long total = 0, mn = 0, mx = 0, sum = 0;
  if (std::sscanf(head.c_str(), "%llu %llu %llu %llu", &total, &mn, &mx, &sum) != 4) return h;
  h.total_ = total;
  h.min_ = total ? mn : UINT64_MAX;
  h.max_ = mx;
  h.sum_ = sum;
  size_t bar = t.find('|');
  std::string body(bar == std::string_view::npos ? std::string_view{} : t.substr(bar + 1));
  const char* p = body.c_str();
  while (*p) {
    char* end = nullptr;
    unsigned long long idx = std::strtoull(p, &end, 10);
    if (*end != ':') break;
    unsigned long long c = std::strtoull(end + 1, &end, 10);
    if (idx < kBuckets) h.counts_[idx] += c;
    p = (*end == ',') ? end + 1 : end;
  }
  return h;
}

}  // namespace bench
