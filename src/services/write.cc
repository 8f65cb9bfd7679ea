#include "services/write.h"

#include <spdlog/spdlog.h>

namespace modu {

void Effects::deliver(Hub& hub, Metrics& metrics) const {
  for (const auto& e : events_) {
    if (e.part)
      hub.publish_merged(e.merge_key, e.to, e.part);
    else if (e.disconnect_device)
      hub.disconnect_device((*e.to)[0], e.disconnect_device, e.frame);
    else
      hub.publish(e.to, e.frame);
  }
  if (messages_stored_) metrics.messages_stored.fetch_add(messages_stored_, std::memory_order_relaxed);
}

void submit_write(Services& services, Reply reply, Placement placement, WriteFn apply, AfterFn after,
                  WriteHints hints) {
  struct State {
    Effects effects;
    std::string result;
  };
  auto state = std::make_shared<State>();
  services.store.submit(WriteJob{
      .apply =
          [state, apply = std::move(apply)](WriteTx& tx) -> Status {
            auto r = apply(tx, state->effects);
            if (!r.ok()) {
              state->effects = Effects();
              return r.take_error();
            }
            state->result = std::move(r).value();
            return ok_status();
          },
      .done =
          [state, reply = std::move(reply), &services, after = std::move(after)](const Status& status) {
            if (!status.ok()) return reply.fail(status.error());
            state->effects.deliver(services.hub, services.metrics);
            if (after) after(reply, state->result); else reply.ok(state->result);
          },
      .placement = placement.id,
      .client_key = std::move(hints.client_key),
      .checks_before_writing = hints.checks_before_writing,
  });
}

void submit_unanswered_write(Services& services, Placement placement, UnansweredWriteFn apply) {
  auto effects = std::make_shared<Effects>();
  services.store.submit(WriteJob{
      .apply =
          [effects, apply = std::move(apply)](WriteTx& tx) -> Status {
            apply(tx, *effects);
            return ok_status();
          },
      .done =
          [effects, &services](const Status& status) {
            if (!status.ok()) return spdlog::warn("background write failed: {}", status.error().message);
            effects->deliver(services.hub, services.metrics);
          },
      .placement = placement.id,
  });
}

}  // namespace modu
