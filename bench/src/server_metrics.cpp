#include "server_metrics.hpp"

#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http.hpp>
#include <charconv>
#include <chrono>
#include <cmath>
#include <limits>

namespace bench {

namespace http = boost::beast::http;

std::optional<std::string> fetch_server_metrics(const Endpoint& target, double timeout_s) {
  try {
    boost::asio::io_context ioc;
    boost::beast::tcp_stream stream(ioc);
    stream.expires_after(std::chrono::milliseconds(int64_t(timeout_s * 1000)));
    stream.connect(boost::asio::ip::tcp::endpoint(target.addr, target.port));
    http::request<http::empty_body> req(http::verb::get, "/metrics", 11);
    req.set(http::field::host, target.addr.to_string());
    req.set(http::field::connection, "close");
    http::write(stream, req);
    boost::beast::flat_buffer buf;
    http::response<http::string_body> res;
    http::read(stream, buf, res);
    if (res.result() != http::status::ok) return std::nullopt;
    return std::move(res.body());
  } catch (const std::exception&) {
    return std::nullopt;
  }
}

Buckets request_seconds(std::string_view page, std::string_view op) {
  std::string prefix = "modu_request_seconds_bucket{op=\"" + std::string(op) + "\",le=\"";
  Buckets out;
  for (size_t at = page.find(prefix); at != std::string_view::npos; at = page.find(prefix, at + 1)) {
    if (at != 0 && page[at - 1] != '\n') continue;
    size_t le = at + prefix.size(), le_end = page.find('"', le);
    size_t value = page.find("} ", le_end), line_end = page.find('\n', le_end);
    if (le_end == std::string_view::npos || value == std::string_view::npos || value > line_end) return {};
    std::string_view bound_text = page.substr(le, le_end - le);
    double bound = std::numeric_limits<double>::infinity();
    if (bound_text != "+Inf") {
      auto [p, ec] = std::from_chars(bound_text.data(), bound_text.data() + bound_text.size(), bound);
      if (ec != std::errc() || p != bound_text.data() + bound_text.size()) return {};
    }
    int64_t n = 0;
    std::string_view n_text = page.substr(value + 2, line_end == std::string_view::npos ? std::string_view::npos : line_end - value - 2);
    auto [p, ec] = std::from_chars(n_text.data(), n_text.data() + n_text.size(), n);
    if (ec != std::errc() || p != n_text.data() + n_text.size()) return {};
    if (!out.empty() && (bound <= out.back().first || n < out.back().second)) return {};  // not a cumulative histogram
    out.emplace_back(bound, n);
  }
  return out;
}

Buckets bucket_delta(const Buckets& before, const Buckets& after) {
  if (before.empty()) return after;  // the op had not been asked for yet
  if (before.size() != after.size()) return {};
  Buckets out;
  for (size_t i = 0; i < after.size(); ++i) {
    if (before[i].first != after[i].first || after[i].second < before[i].second) return {};
    out.emplace_back(after[i].first, after[i].second - before[i].second);
  }
  return out;
}

std::optional<double> quantile_at_most(const Buckets& b, double q) {
  if (b.empty() || b.back().second <= 0) return std::nullopt;
  double wanted = std::ceil(q * double(b.back().second));
  for (const auto& [bound, n] : b)
    if (double(n) >= wanted) return bound;
  return b.back().first;
}

}  // namespace bench
