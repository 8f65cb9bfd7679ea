#include "net/read_gate.h"

namespace modu {

void ReadGate::park(std::function<void()> resume) {
  parked_.push_back(std::move(resume));
  if (!checking_) check_later();
}

void ReadGate::check_later() {
  checking_ = true;
  timer_.expires_after(kCheckEvery);
  timer_.async_wait([this](boost::system::error_code ec) {
    checking_ = false;
    if (!ec) check();
  });
}

void ReadGate::check() {
  if (parked_.empty()) return;
  if (!open()) return check_later();
  // A resumed connection may park again at once (its pipeline is full); it then waits for
  // the next check, like the rest of the next round.
  auto resuming = std::move(parked_);
  parked_.clear();
  for (auto& resume : resuming) resume();
}

}  // namespace modu
