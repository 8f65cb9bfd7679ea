// HDR-style latency histogram for modu-bench.
//
// Values (nanoseconds) are kept exactly below 256 and, above that, in 128 linear
// sub-buckets per power of two, so any recorded value is reproduced within 1/128
// (~0.8 %) relative error while the whole range up to 2^47 ns (~39 h) costs ~43 KiB.
// Histograms of different shards and processes merge by adding counts.
#pragma once
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace bench {

class Histogram {
 public:
  static constexpr int kSubBits = 8;                     // 256 exact values, then 128 per octave
  static constexpr uint64_t kExact = 1ull << kSubBits;   // 256
  static constexpr uint64_t kHalf = kExact / 2;          // 128
  static constexpr int kMaxMsb = 47;                     // larger values are clamped

  Histogram();
  void record(uint64_t value);
  void merge(const Histogram& other);

  uint64_t count() const { return total_; }
  uint64_t min() const { return total_ ? min_ : 0; }
  uint64_t max() const { return max_; }
  double mean() const { return total_ ? double(sum_ / total_) : 0.0; }
  /// Value at percentile p (0 < p <= 100); 0 when empty.
  uint64_t percentile(double p) const;

  /// Compact sparse text form ("total min max sum|idx:count,idx:count...").
  std::string serialize() const;
  static Histogram parse(std::string_view text);

  static size_t index_of(uint64_t value);
  static uint64_t value_at(size_t index);  // midpoint of the bucket

 private:
  std::vector<uint64_t> counts_;
  uint64_t total_ = 0;
  uint64_t min_ = UINT64_MAX;
  uint64_t max_ = 0;
  long double sum_ = 0;
};

}  // namespace bench
