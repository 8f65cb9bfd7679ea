#include "result.hpp"

#include <algorithm>
#include <sstream>

namespace bench {

void Result::mark_min(const std::string& n, int64_t v) {
  auto [it, fresh] = mins.emplace(n, v);
  if (!fresh) it->second = std::min(it->second, v);
}
void Result::mark_max(const std::string& n, int64_t v) {
  auto [it, fresh] = maxs.emplace(n, v);
  if (!fresh) it->second = std::max(it->second, v);
}

void Result::error(const std::string& kind, const std::string& msg) {
  add("error." + kind);
  if (samples.size() < kMaxSamples) samples.push_back("error " + kind + ": " + msg);
}
void Result::violation(const std::string& kind, const std::string& msg) {
  add("violation." + kind);
  if (samples.size() < kMaxSamples) samples.push_back("VIOLATION " + kind + ": " + msg);
}

static int64_t sum_prefix(const std::map<std::string, int64_t>& m, const std::string& prefix) {
  int64_t s = 0;
  for (auto& [k, v] : m)
    if (k.rfind(prefix, 0) == 0) s += v;
  return s;
}
int64_t Result::errors() const { return sum_prefix(counters, "error."); }
int64_t Result::violations() const { return sum_prefix(counters, "violation."); }

void Result::merge(const Result& o) {
  for (auto& [k, v] : o.counters) counters[k] += v;
  for (auto& [k, v] : o.mins) mark_min(k, v);
  for (auto& [k, v] : o.maxs) mark_max(k, v);
  for (auto& [k, h] : o.hists) hists[k].merge(h);
  for (auto& s : o.samples)
    if (samples.size() < kMaxSamples) samples.push_back(s);
  aborted |= o.aborted;
}

static std::string oneline(std::string s) {
  std::replace(s.begin(), s.end(), '\n', ' ');
  return s;
}

std::string Result::serialize() const {
  std::ostringstream o;
  if (aborted) o << "a\n";
  for (auto& [k, v] : counters) o << "c " << k << " " << v << "\n";
  for (auto& [k, v] : mins) o << "n " << k << " " << v << "\n";
  for (auto& [k, v] : maxs) o << "x " << k << " " << v << "\n";
  for (auto& [k, h] : hists) o << "h " << k << " " << h.serialize() << "\n";
  for (auto& s : samples) o << "s " << oneline(s) << "\n";
  return o.str();
}

Result Result::parse(std::string_view text) {
  Result r;
  std::istringstream in{std::string(text)};
  std::string line;
  while (std::getline(in, line)) {
    if (line == "a") { r.aborted = true; continue; }
    if (line.size() < 2) continue;
    char t = line[0];
    std::string rest = line.substr(2);
    if (t == 's') { r.samples.push_back(rest); continue; }
    size_t sp = rest.find(' ');
    if (sp == std::string::npos) continue;
    std::string key = rest.substr(0, sp), val = rest.substr(sp + 1);
    if (t == 'c') r.counters[key] += std::stoll(val);
    else if (t == 'n') r.mark_min(key, std::stoll(val));
    else if (t == 'x') r.mark_max(key, std::stoll(val));
    else if (t == 'h') r.hists[key].merge(Histogram::parse(val));
  }
  return r;
}

}  // namespace bench
