#include "services/router.h"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <chrono>
#include <stdexcept>
#include <utility>
#include <vector>

namespace modu {

TimeMs now_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

void Reply::record_latency() const {
  if (latency_)
    latency_->observe(std::chrono::duration<double>(std::chrono::steady_clock::now() - started_).count());
}

void Reply::ok(std::string_view result_json) const {
  record_latency();
  hub_->send_to(conn_, share(ok_frame(id_json_, result_json)));
}

void Reply::fail(const Error& error) const {
  record_latency();
  metrics_->count_error(error.code);
  hub_->send_to(conn_, share(error_frame(id_json_, error)));
}

void Router::add(std::string op, Access access, Handler handler) {
  auto [it, inserted] = ops_.emplace(
      std::move(op), Entry{access, std::move(handler), std::make_unique<LatencyHistogram>(kLatencyBounds)});
  if (!inserted) throw std::logic_error("operation registered twice: " + it->first);
}

void Router::dispatch(const std::shared_ptr<Connection>& conn, Request& request, Hub& hub,
                      Metrics& metrics) const {
  auto it = ops_.find(request.op);
  if (it == ops_.end()) {
    std::string name(request.op.substr(0, 64));
    return Reply(conn, std::move(request.id_json), &hub, &metrics)
        .fail(ErrorCode::kUnknownOp, "unknown operation '" + name + "'");
  }
  Reply reply(conn, std::move(request.id_json), &hub, &metrics, it->second.seconds.get());
  if (it->second.access == Access::kSignedIn && !conn->signed_in())
    return reply.fail(ErrorCode::kUnauthenticated, "sign in first (auth.login, auth.register or auth.resume)");
  Call call{request.args, reply, *conn};
  try {
    it->second.handler(call);
  } catch (const StorageError& e) {
    spdlog::error("{}: storage error: {}", request.op, e.what());
    reply.fail(ErrorCode::kUnavailable, "storage is unavailable; retry");
  } catch (const std::exception& e) {
    spdlog::error("{}: {}", request.op, e.what());
    reply.fail(ErrorCode::kInternal, "internal error");
  }
}

void Router::render_metrics(std::string& out) const {
  std::vector<std::pair<std::string_view, const LatencyHistogram*>> asked;
  for (const auto& [op, entry] : ops_)
    if (entry.seconds->count() > 0) asked.emplace_back(op, entry.seconds.get());
  std::sort(asked.begin(), asked.end());
  out +=
      "# HELP modu_request_seconds Time from a request's dispatch to its answer, by operation "
      "(a write's includes its commit).\n# TYPE modu_request_seconds histogram\n";
  for (const auto& [op, seconds] : asked)
    seconds->render_series(out, "modu_request_seconds", fmt::format("op=\"{}\"", op));
}

}  // namespace modu
