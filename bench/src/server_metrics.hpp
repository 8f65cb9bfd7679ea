// What a Modu server says of its own time (GET /metrics, docs/deploy.md "Monitoring"): the
// buckets of `modu_request_seconds{op=...}`, read at two barriers so a report can split a
// latency into the server's share and the rest (loopback, its event loop's queue, this load
// generator).
#pragma once
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "driver.hpp"

namespace bench {

/// GET /metrics of a Modu server, or nothing when it does not answer 200 within `timeout_s`.
std::optional<std::string> fetch_server_metrics(const Endpoint& target, double timeout_s = 2.0);

/// Cumulative buckets of one labelled histogram series: (upper bound, requests at or below
/// it), ascending, the +Inf bucket last as infinity.
using Buckets = std::vector<std::pair<double, int64_t>>;

/// The `modu_request_seconds` buckets of `op` on a /metrics page; empty when absent.
Buckets request_seconds(std::string_view page, std::string_view op);

/// `after - before`, bucket by bucket (a histogram of what happened in between); empty when
/// the two do not have the same bounds.
Buckets bucket_delta(const Buckets& before, const Buckets& after);

/// The smallest bucket bound with at least the fraction `q` of the requests at or below it:
/// an upper bound of the q-quantile. Nothing when no request was counted.
std::optional<double> quantile_at_most(const Buckets& b, double q);

}  // namespace bench
