#include "cluster/batch_codec.h"

#include <cstring>

namespace modu::cluster {
namespace {

constexpr std::uint32_t kMagic = 0x3242444D;  // "MDB2"
constexpr std::size_t kHeaderBytes = 4 + 4 + 8 + 8 + 4 + 4 + 4;

template <class T>
void put(std::string& out, T v) {
  char buf[sizeof(T)];
  std::memcpy(buf, &v, sizeof(T));
  out.append(buf, sizeof(T));
}

class Reader {
 public:
  explicit Reader(std::string_view in) : in_(in) {}
  template <class T>
  bool get(T& v) {
    if (in_.size() < sizeof(T)) return false;
    std::memcpy(&v, in_.data(), sizeof(T));
    in_.remove_prefix(sizeof(T));
    return true;
  }
  bool bytes(std::size_t n, std::string_view& out) {
    if (in_.size() < n) return false;
    out = in_.substr(0, n);
    in_.remove_prefix(n);
    return true;
  }
  std::size_t left() const { return in_.size(); }

 private:
  std::string_view in_;
};

std::size_t event_bytes(const BusEvent& e) { return 4 + 8 * e.users->size() + 8 + 4 + e.frame->size(); }

void put_event(std::string& out, const BusEvent& e) {
  put<std::uint32_t>(out, static_cast<std::uint32_t>(e.users->size()));
  for (UserId u : *e.users) put<std::int64_t>(out, u.value);
  put<std::int64_t>(out, e.disconnect.value);
  put<std::uint32_t>(out, static_cast<std::uint32_t>(e.frame->size()));
  out.append(*e.frame);
}

}  // namespace

std::vector<std::string> encode_batch(int shard, Pos from, Pos to, const std::vector<BusEvent>& events,
                                      std::size_t max_bytes) {
  // Group events into parts first, so each part knows the total count.
  std::vector<std::pair<std::size_t, std::size_t>> ranges;  // [begin, end) of events
  std::size_t begin = 0, size = kHeaderBytes;
  for (std::size_t i = 0; i < events.size(); ++i) {
    std::size_t n = event_bytes(events[i]);
    if (i > begin && size + n > max_bytes) {
      ranges.emplace_back(begin, i);
      begin = i;
      size = kHeaderBytes;
    }
    size += n;
  }
  ranges.emplace_back(begin, events.size());
  std::vector<std::string> out;
  for (std::size_t p = 0; p < ranges.size(); ++p) {
    std::string msg;
    put<std::uint32_t>(msg, kMagic);
    put<std::uint32_t>(msg, static_cast<std::uint32_t>(shard));
    put<std::int64_t>(msg, from);
    put<std::int64_t>(msg, to);
    put<std::uint32_t>(msg, static_cast<std::uint32_t>(p));
    put<std::uint32_t>(msg, static_cast<std::uint32_t>(ranges.size()));
    put<std::uint32_t>(msg, static_cast<std::uint32_t>(ranges[p].second - ranges[p].first));
    for (std::size_t i = ranges[p].first; i < ranges[p].second; ++i) put_event(msg, events[i]);
    out.push_back(std::move(msg));
  }
  return out;
}

std::optional<BusBatch> decode_batch(std::string_view bytes) {
  Reader r(bytes);
  std::uint32_t magic = 0, count = 0;
  BusBatch b;
  if (!r.get(magic) || magic != kMagic) return std::nullopt;
  if (!r.get(b.shard) || b.shard >= static_cast<std::uint32_t>(kMaxShards)) return std::nullopt;
  if (!r.get(b.from) || !r.get(b.to) || !r.get(b.part) || !r.get(b.parts) || !r.get(count)) return std::nullopt;
  if (b.from < 0 || b.to < b.from || b.parts == 0 || b.part >= b.parts) return std::nullopt;
  if (count > r.left() / 16) return std::nullopt;  // each event takes at least 16 bytes
  b.events.reserve(count);
  for (std::uint32_t i = 0; i < count; ++i) {
    std::uint32_t n_users = 0, n_bytes = 0;
    std::int64_t device = 0;
    if (!r.get(n_users) || n_users > r.left() / 8) return std::nullopt;
    auto users = std::make_shared<std::vector<UserId>>();
    users->reserve(n_users);
    for (std::uint32_t u = 0; u < n_users; ++u) {
      std::int64_t id = 0;
      if (!r.get(id)) return std::nullopt;
      users->push_back(UserId(id));
    }
    std::string_view frame;
    if (!r.get(device) || !r.get(n_bytes) || !r.bytes(n_bytes, frame)) return std::nullopt;
    if (device != 0 && users->size() != 1) return std::nullopt;
    b.events.push_back(BusEvent{std::move(users), share(std::string(frame)), DeviceId(device)});
  }
  if (r.left() != 0) return std::nullopt;
  return b;
}

}  // namespace modu::cluster
