// Fuzz target: the cluster bus message decoder (cluster/batch_codec.h), which reads what
// other nodes publish on NATS.
//
// Invariants: decoding never reads out of bounds or allocates beyond what the input can
// hold; an accepted message has a sane range (0 <= from <= to, part < parts) and a
// sign-out event has exactly one recipient; and re-encoding the decoded events as one part
// decodes to the same batch.
#include <cstdint>
#include <string_view>

#include "cluster/batch_codec.h"
#include "fuzz_check.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace modu;
  std::string_view input(reinterpret_cast<const char*>(data), size);
  auto batch = cluster::decode_batch(input);
  if (!batch) return 0;
  MODU_FUZZ_CHECK(batch->from >= 0 && batch->from <= batch->to, input);
  MODU_FUZZ_CHECK(batch->part < batch->parts, input);
  for (const auto& e : batch->events)
    if (e.disconnect.value != 0) MODU_FUZZ_CHECK(e.users->size() == 1, input);
  auto again = cluster::encode_batch(static_cast<int>(batch->shard), batch->from, batch->to, batch->events, SIZE_MAX);
  MODU_FUZZ_CHECK(again.size() == 1, input);
  auto round = cluster::decode_batch(again[0]);
  MODU_FUZZ_CHECK(round && round->events.size() == batch->events.size(), input);
  for (std::size_t i = 0; i < round->events.size(); ++i) {
    MODU_FUZZ_CHECK(*round->events[i].frame == *batch->events[i].frame, input);
    MODU_FUZZ_CHECK(*round->events[i].users == *batch->events[i].users, input);
  }
  return 0;
}
