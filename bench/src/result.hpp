// What a shard measured: counters, min/max marks, latency histograms, errors and
// correctness violations. Results of shards and processes merge into one; they travel
// from worker processes to the coordinator in a small text form.
#pragma once
#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "histogram.hpp"

namespace bench {

struct Result {
  std::map<std::string, int64_t> counters;  // summed on merge
  std::map<std::string, int64_t> mins;      // min on merge (e.g. first send time)
  std::map<std::string, int64_t> maxs;      // max on merge (e.g. last delivery time)
  std::map<std::string, Histogram> hists;   // merged bucket-wise
  std::vector<std::string> samples;         // first error / violation messages
  bool aborted = false;                     // a shard gave up before the end

  static constexpr size_t kMaxSamples = 25;

  void add(const std::string& name, int64_t n = 1) { counters[name] += n; }
  int64_t get(const std::string& name) const {
    auto it = counters.find(name);
    return it == counters.end() ? 0 : it->second;
  }
  void mark_min(const std::string& name, int64_t v);
  void mark_max(const std::string& name, int64_t v);
  Histogram& hist(const std::string& name) { return hists[name]; }

  /// An operational error (request failed, connection lost, timeout): fails the run.
  void error(const std::string& kind, const std::string& msg);
  /// A correctness violation (loss, duplicate, reorder, wrong content): fails the run.
  void violation(const std::string& kind, const std::string& msg);
  int64_t errors() const;
  int64_t violations() const;

  void merge(const Result& other);
  std::string serialize() const;
  static Result parse(std::string_view text);
};

}  // namespace bench
