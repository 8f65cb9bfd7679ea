// The wire form of a committed batch's events between nodes.
//
// Every node publishes what each of its committed batches announces — the shard it wrote
// and the position range of that shard it covered, and its events (recipients, the encoded frame, and for a sign-out the
// device to close) — and every node delivers the batches of all nodes to its own
// connections in position order, per shard (sequencer.h).
//
// Format (little-endian), one batch or one part of a large batch per bus message:
//   u32 magic "MDB2", u32 shard, i64 from, i64 to, u32 part, u32 parts, u32 events,
//   then per event: u32 users, i64 × users, i64 disconnect_device, u32 bytes, frame bytes.
// `decode_batch` accepts only exactly this, with every count bounded by the message size.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "modu/ids.h"
#include "protocol/frames.h"
#include "realtime/hub.h"

namespace modu::cluster {

using BusEvent = Hub::Event;

// A batch's events, or one part of them. A batch with from == to has no position (its
// events, such as sign-outs, need no order).
struct BusBatch {
  std::uint32_t shard = 0;  // below kMaxShards
  Pos from = 0;
  Pos to = 0;
  std::uint32_t part = 0;
  std::uint32_t parts = 1;
  std::vector<BusEvent> events;
};

// Encodes a batch as one or more messages of at most about `max_bytes` each (an event is
// never split; one larger than the limit travels alone).
std::vector<std::string> encode_batch(int shard, Pos from, Pos to, const std::vector<BusEvent>& events,
                                      std::size_t max_bytes);

// The batch part in `bytes`, or nullopt if it is not a well-formed message.
std::optional<BusBatch> decode_batch(std::string_view bytes);

}  // namespace modu::cluster
