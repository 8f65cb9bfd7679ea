#include "cluster/sequencer.h"

namespace modu::cluster {

Sequencer::Sequencer(Pos start, std::chrono::milliseconds gap_timeout, Deliver deliver, Resync resync)
    : next_(start), gap_timeout_(gap_timeout), deliver_(std::move(deliver)), resync_(std::move(resync)) {}

void Sequencer::offer(BusBatch part, Clock::time_point now) {
  std::lock_guard lock(mu_);
  if (part.from != part.to && part.to <= next_) return;  // already delivered or skipped
  if (part.parts == 1) return accept(part.from, Ready{part.to, std::move(part.events)}, now);
  // Parts of one batch share `from`; `to` and `parts` must agree.
  Assembly& a = assembling_[part.from];
  if (a.parts == 0) {
    a.to = part.to;
    a.parts = part.parts;
    a.events.resize(part.parts);
    a.first_seen = now;
  }
  if (a.to != part.to || a.parts != part.parts || part.part >= a.parts) return;
  if (a.events[part.part].empty()) ++a.received;
  a.events[part.part] = std::move(part.events);
  if (a.received < a.parts) return;
  Ready ready{a.to, {}};
  for (auto& chunk : a.events)
    for (auto& e : chunk) ready.events.push_back(std::move(e));
  assembling_.erase(part.from);
  accept(part.from, std::move(ready), now);
}

void Sequencer::accept(Pos from, Ready batch, Clock::time_point now) {
  if (from == batch.to) {  // no position: no order to keep
    deliver_(batch.events);
    return;
  }
  ready_.insert_or_assign(from, std::move(batch));
  drain(now);
}

void Sequencer::drain(Clock::time_point now) {
  while (!ready_.empty()) {
    auto it = ready_.begin();
    if (it->second.to <= next_) {  // stale: a skipped gap arriving late
      ready_.erase(it);
      continue;
    }
    if (it->first > next_) break;  // a gap: an earlier batch is still on its way
    deliver_(it->second.events);
    next_ = it->second.to;
    ready_.erase(it);
  }
  if (ready_.empty()) gap_since_.reset();
  else if (!gap_since_) gap_since_ = now;
}

void Sequencer::tick(Clock::time_point now) {
  std::lock_guard lock(mu_);
  // Parts that never completed count as lost.
  for (auto it = assembling_.begin(); it != assembling_.end();) {
    if (now - it->second.first_seen > gap_timeout_) it = assembling_.erase(it);
    else ++it;
  }
  if (!gap_since_ || now - *gap_since_ < gap_timeout_ || ready_.empty()) return;
  next_ = ready_.begin()->first;
  ++skipped_;
  resync_();
  gap_since_.reset();
  drain(now);
}

Pos Sequencer::delivered() const {
  std::lock_guard lock(mu_);
  return next_;
}

std::size_t Sequencer::waiting() const {
  std::lock_guard lock(mu_);
  return ready_.size();
}

std::uint64_t Sequencer::skipped() const {
  std::lock_guard lock(mu_);
  return skipped_;
}

}  // namespace modu::cluster
