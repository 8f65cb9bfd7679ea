#include "services/router.h"

#include <spdlog/spdlog.h>

#include <chrono>
#include <stdexcept>

namespace modu {

TimeMs now_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

void Reply::ok(std::string_view result_json) const {
  hub_->send_to(conn_, share(ok_frame(id_json_, result_json)));
}

void Reply::fail(const Error& error) const {
  metrics_->count_error(error.code);
  hub_->send_to(conn_, share(error_frame(id_json_, error)));
}

void Router::add(std::string op, Access access, Handler handler) {
  auto [it, inserted] = ops_.emplace(std::move(op), Entry{access, std::move(handler)});
  if (!inserted) throw std::logic_error("operation registered twice: " + it->first);
}

void Router::dispatch(const std::shared_ptr<Connection>& conn, Request& request, Hub& hub,
                      Metrics& metrics) const {
  Reply reply(conn, std::move(request.id_json), &hub, &metrics);
  auto it = ops_.find(request.op);
  if (it == ops_.end()) {
    std::string name(request.op.substr(0, 64));
    return reply.fail(ErrorCode::kUnknownOp, "unknown operation '" + name + "'");
  }
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

}  // namespace modu
