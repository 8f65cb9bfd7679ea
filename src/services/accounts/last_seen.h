// When each device was last seen, written in batches.
//
// A device signs in again (auth.resume) on every connection, and after an outage every
// device does it at once. One write per sign-in would be thousands of commits, each a
// durable sync that also empties every reader's page cache. The times are collected
// instead and written once per `period`: one job per shard, whatever the number of devices.
// A time reaches the store at most `period` late, and a crash loses at most that much. On a
// clean stop nothing is lost: the timer is work of the pool, so joining the pool waits for
// the last write to be queued, and the store's stop finishes it.
#pragma once

#include <boost/asio/steady_timer.hpp>
#include <boost/asio/thread_pool.hpp>

#include <chrono>
#include <memory>
#include <mutex>
#include <utility>
#include <vector>

#include "modu/ids.h"
#include "modu/store.h"

namespace modu {

class LastSeenWriter : public std::enable_shared_from_this<LastSeenWriter> {
 public:
  // `store` must outlive the pool's last handler.
  LastSeenWriter(Store& store, boost::asio::thread_pool& pool, std::chrono::milliseconds period)
      : store_(store), timer_(pool), period_(period) {}

  // Records that `device` was seen at `at`. Thread-safe; never blocks on the store.
  void seen(DeviceId device, TimeMs at);

 private:
  void write_pending();

  Store& store_;
  boost::asio::steady_timer timer_;
  const std::chrono::milliseconds period_;
  std::mutex mutex_;  // guards what follows, and the timer
  std::vector<std::pair<DeviceId, TimeMs>> pending_;
  bool armed_ = false;
};

}  // namespace modu
