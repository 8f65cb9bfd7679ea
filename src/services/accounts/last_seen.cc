#include "services/accounts/last_seen.h"

#include <map>

namespace modu {

void LastSeenWriter::seen(DeviceId device, TimeMs at) {
  std::lock_guard lock(mutex_);
  pending_.emplace_back(device, at);
  if (armed_) return;
  armed_ = true;
  timer_.expires_after(period_);
  timer_.async_wait([self = shared_from_this()](const boost::system::error_code&) { self->write_pending(); });
}

void LastSeenWriter::write_pending() {
  std::vector<std::pair<DeviceId, TimeMs>> due;
  {
    std::lock_guard lock(mutex_);
    due.swap(pending_);
    armed_ = false;
  }
  // A device lives on its user's home shard, and its id says which.
  std::map<int, std::vector<std::pair<DeviceId, TimeMs>>> by_shard;
  for (const auto& entry : due) by_shard[shard_of(entry.first)].push_back(entry);
  for (auto& [shard, devices] : by_shard) {
    std::int64_t placement = devices.front().first.value;
    store_.submit(WriteJob{
        .apply = [devices = std::move(devices)](WriteTx& tx) -> Status {
          for (const auto& [device, at] : devices) tx.touch_device(device, at);
          return ok_status();
        },
        .done = [](const Status&) {},  // nobody waits for it
        .placement = placement,
    });
  }
}

}  // namespace modu
