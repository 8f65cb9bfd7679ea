// Process-wide counters and histograms, rendered in the Prometheus text format at
// GET /metrics. Every update is a relaxed atomic add: safe from any thread, no locks.
#pragma once

#include <array>
#include <atomic>
#include <cstdint>
#include <string>
#include <string_view>

#include "modu/error.h"
#include "modu/store.h"

namespace modu {

// A cumulative histogram with fixed upper bounds (Prometheus `le` buckets).
template <std::size_t N>
class Histogram {
 public:
  explicit constexpr Histogram(std::array<double, N> bounds) : bounds_(bounds) {}
  void observe(double v) {
    for (std::size_t i = 0; i < N; ++i)
      if (v <= bounds_[i]) { buckets_[i].fetch_add(1, std::memory_order_relaxed); break; }
    count_.fetch_add(1, std::memory_order_relaxed);
    sum_micro_.fetch_add(static_cast<std::int64_t>(v * 1e6), std::memory_order_relaxed);
  }
  // Appends the histogram's `# HELP`/`# TYPE` header and its series.
  void render(std::string& out, const char* name, const char* help) const;
  // Appends the series alone, with `labels` (`op="x"`, or empty) on every line: one of several
  // series under a header written once.
  void render_series(std::string& out, const char* name, std::string_view labels) const;
  std::int64_t count() const { return count_.load(std::memory_order_relaxed); }

 private:
  std::array<double, N> bounds_;
  std::array<std::atomic<std::int64_t>, N> buckets_{};
  std::atomic<std::int64_t> count_{0};
  std::atomic<std::int64_t> sum_micro_{0};
};

// Buckets for how long a request takes to answer: 1-2-5 steps from 0.1 ms, for a message's
// commit, to 10 s, past a slow sign-in's hashing.
using LatencyHistogram = Histogram<16>;
inline constexpr std::array<double, 16> kLatencyBounds{0.0001, 0.0002, 0.0005, 0.001, 0.002, 0.005,
                                                       0.01,   0.02,   0.05,   0.1,   0.2,   0.5,
                                                       1,      2,      5,      10};

struct Metrics {
  std::atomic<std::int64_t> connections{0};          // open WebSocket connections
  std::atomic<std::int64_t> connections_total{0};
  std::atomic<std::int64_t> frames_in{0};
  std::atomic<std::int64_t> frames_out{0};
  std::atomic<std::int64_t> ws_messages_out{0};      // WebSocket messages (batches of frames)
  std::atomic<std::int64_t> messages_stored{0};
  std::atomic<std::int64_t> slow_consumers_closed{0};
  std::atomic<std::int64_t> reads_paused{0};          // reads put off while the store catches up
  std::array<std::atomic<std::int64_t>, kErrorCodeCount> errors{};
  // Cluster event bus (zero on a single node).
  std::atomic<std::int64_t> bus_connected{0};
  std::atomic<std::int64_t> bus_batches_out{0};
  std::atomic<std::int64_t> bus_batches_in{0};
  std::atomic<std::int64_t> bus_gaps_skipped{0};
  std::atomic<std::int64_t> bus_batches_waiting{0};

  Histogram<12> batch_size{{1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024, 4096}};
  Histogram<12> commit_seconds{
      {0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1}};

  void count_error(ErrorCode code) {
    errors[static_cast<std::size_t>(code)].fetch_add(1, std::memory_order_relaxed);
  }
  // `queued_writes` and `recent` are sampled by the caller (the store owns them).
  std::string render(std::size_t queued_writes, const RecentMessagesStats& recent = {}) const;
};

}  // namespace modu
