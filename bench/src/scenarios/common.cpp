#include "scenarios/common.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <charconv>
#include <cstdio>

#include "procstat.hpp"

namespace bench {

namespace asio = boost::asio;

std::shared_ptr<Client> ShardCtx::new_client(int64_t placement) {
  // Offset by the shard so that the first clients of all shards do not pile on one node.
  int64_t k = (placement >= 0 ? placement : next_target++) + global_shard;
  auto c = driver.make_client(ioc, targets[size_t(k % int64_t(targets.size()))], cfg.timeout);
  clients.push_back(c);
  // Drop closed clients now and then so long runs do not accumulate them.
  if (clients.size() > 64 && clients.size() % 1024 == 0) {
    std::erase_if(clients, [](const std::shared_ptr<Client>& x) { return !x->is_open() && x.use_count() == 1; });
  }
  return c;
}

awaitable<std::shared_ptr<Client>> ShardCtx::connect_client() {
  auto c = new_client();
  auto src = sources.empty() ? asio::ip::address() : sources[size_t(next_source++ % int64_t(sources.size()))];
  co_await c->connect(src);
  co_return c;
}

void ShardCtx::close_all() {
  for (auto& c : clients) c->close();
}

int ShardCtx::share(int total) const {
  return total / shards_total + (global_shard < total % shards_total ? 1 : 0);
}

std::string ShardCtx::handle(char role, int i) const {
  char buf[40];
  std::snprintf(buf, sizeof buf, "b%s%c%dx%d", cfg.run_id.c_str(), role, global_shard, i);
  return buf;
}

awaitable<void> ShardCtx::barrier(const std::string& name) {
  co_await ctl.barrier(ioc, name, failed);
}

awaitable<void> ShardCtx::sleep(double s) {
  asio::steady_timer t(ioc);
  t.expires_after(std::chrono::microseconds(int64_t(s * 1e6)));
  boost::system::error_code ec;
  co_await t.async_wait(asio::redirect_error(asio::use_awaitable, ec));
}

void ShardCtx::record_exception(const char* what, std::exception_ptr e) {
  try {
    std::rethrow_exception(e);
  } catch (const BenchError& b) {
    res.error(std::string(what) + "." + b.code, b.what());
  } catch (const BenchAbort&) {
    throw;
  } catch (const std::exception& x) {
    res.error(what, x.what());
  }
}

awaitable<void> ShardCtx::for_each(int n, int parallel, std::function<awaitable<void>(int)> fn, const char* what) {
  if (n <= 0) co_return;
  struct State {
    explicit State(asio::io_context& io) : timer(io, asio::steady_timer::time_point::max()) {}
    asio::steady_timer timer;
    int next = 0, running = 0, failed = 0;
  };
  auto st = std::make_shared<State>(ioc);
  int workers = std::max(1, std::min(parallel, n));
  st->running = workers;
  for (int w = 0; w < workers; ++w) {
    asio::co_spawn(
        ioc,
        [this, st, n, fn, what]() -> awaitable<void> {
          while (st->next < n) {
            int i = st->next++;
            try {
              co_await fn(i);
            } catch (...) {
              st->failed++;
              record_exception(what, std::current_exception());
            }
          }
          if (--st->running == 0) st->timer.cancel();
        },
        asio::detached);
  }
  while (st->running > 0) {
    boost::system::error_code ec;
    co_await st->timer.async_wait(asio::redirect_error(asio::use_awaitable, ec));
  }
  if (st->failed) throw BenchError(what, std::string(what) + ": " + std::to_string(st->failed) + " of " + std::to_string(n) + " failed");
}

awaitable<bool> ShardCtx::wait_until(std::function<bool()> done, double timeout_s, double poll_s) {
  int64_t end = now_ns() + int64_t(timeout_s * 1e9);
  while (!done()) {
    if (now_ns() >= end) co_return done();
    co_await sleep(poll_s);
  }
  co_return true;
}

Pacer::Pacer(asio::io_context& ioc, double rate)
    : ioc_(ioc), start_ns_(now_ns()), interval_ns_(rate > 0 ? int64_t(1e9 / rate) : 0) {}

awaitable<int64_t> Pacer::next() {
  int64_t at = start_ns_ + k_++ * interval_ns_;
  int64_t now = now_ns();
  if (at > now) {
    asio::steady_timer t(ioc_);
    t.expires_after(std::chrono::nanoseconds(at - now));
    boost::system::error_code ec;
    co_await t.async_wait(asio::redirect_error(asio::use_awaitable, ec));
  }
  co_return interval_ns_ > 0 ? at : now;
}

std::string make_text(int64_t send_ns, int size) {
  std::string t = "t" + std::to_string(send_ns) + " ";
  if (int(t.size()) < size) t.append(size_t(size) - t.size(), 'x');
  return t;
}

int64_t text_send_ns(std::string_view text) {
  if (text.size() < 2 || text[0] != 't') return 0;
  int64_t v = 0;
  auto r = std::from_chars(text.data() + 1, text.data() + text.size(), v);
  if (r.ec != std::errc() || r.ptr == text.data() + 1) return 0;
  return v;
}

static const ScenarioDef kScenarios[] = {
    {"idle", run_idle, "connected", "held"},
    {"direct", run_direct, "go", "drained"},
    {"group", run_group, "go", "drained"},
    {"reconnect", run_reconnect, "missed", "caught-up"},
    {"catch-up", run_catchup, "missed", "caught-up"},
    {"history", run_history, "go", "done"},
};

std::unique_ptr<Driver> make_driver(const std::string& name) {
  if (name == "baseline") return make_baseline_driver();
  if (name == "mqtt") return make_mqtt_driver();
  if (name == "xmpp") return make_xmpp_driver();
  return make_modu_driver();
}

const ScenarioDef* find_scenario(const std::string& name) {
  for (auto& s : kScenarios)
    if (name == s.name) return &s;
  return nullptr;
}

}  // namespace bench
