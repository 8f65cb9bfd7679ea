// `idle`: N authenticated connections held open with heartbeats.
//
// Accounts (--users, fewer than connections because registration costs an argon2id hash
// on the server) are registered first on throwaway connections. The coordinator samples the
// server's RSS at the `before-connect` barrier, then every connection connects (at
// --connect-rate) and signs in with auth.resume, and RSS is sampled again at `connected`:
// the difference over N is the server's memory per connection. During --duration each
// connection sends a `ping` request every --heartbeat seconds (staggered); every ping must
// be answered and no connection may drop.
#include "scenarios/common.hpp"

#include "procstat.hpp"

namespace bench {

awaitable<void> run_idle(ShardCtx& ctx) {
  const Config& cfg = ctx.cfg;
  int n = ctx.share(cfg.conns);
  int nu = n ? std::max(1, std::min(n, ctx.share(cfg.users))) : 0;
  std::vector<Account> accounts(static_cast<size_t>(nu));
  co_await ctx.for_each(nu, cfg.setup_parallel, [&](int i) -> awaitable<void> {
    auto c = co_await ctx.connect_client();
    accounts[size_t(i)] = co_await c->register_account(ctx.handle('i', i));
    c->close();
  }, "setup.register");
  co_await ctx.sleep(0.2);  // let the server release the setup connections
  co_await ctx.barrier("before-connect");

  std::vector<std::shared_ptr<Client>> conns(static_cast<size_t>(n));
  Pacer pacer(ctx.ioc, cfg.connect_rate / ctx.shards_total);
  int64_t lost = 0;
  int64_t pings = 0, pongs = 0, ping_failed = 0;
  ScopeExit guard{[&] {
    for (auto& c : conns)
      if (c) c->handlers = {};
    ctx.close_all();
  }};
  co_await ctx.for_each(n, std::max(64, cfg.setup_parallel), [&](int i) -> awaitable<void> {
    co_await pacer.next();
    int64_t t0 = now_ns();
    auto c = co_await ctx.connect_client();
    c->handlers.on_lost = [&ctx, &lost](const std::string& why) {
      lost++;
      ctx.res.error("conn_lost", why);
    };
    co_await c->resume(accounts[size_t(i % nu)]);
    ctx.res.hist("connect_and_resume").record(uint64_t(now_ns() - t0));
    conns[size_t(i)] = c;
    ctx.res.add("connected");
  }, "connect");
  co_await ctx.barrier("connected");

  // Hold: connection i pings at offset (i / n) of every heartbeat interval.
  int64_t start = now_ns(), end = start + int64_t(cfg.duration * 1e9);
  int64_t hb = int64_t(cfg.heartbeat * 1e9);
  int64_t done_upto = 0;  // pings issued so far in "connection-intervals"
  while (n > 0) {
    int64_t now = now_ns();
    if (now >= end) break;
    int64_t due = (now - start) * n / std::max<int64_t>(hb, 1);
    for (; done_upto < due; ++done_upto) {
      auto& c = conns[size_t(done_upto % n)];
      if (!c || !c->is_open()) continue;
      int64_t t0 = now_ns();
      pings++;
      c->ping([&ctx, &pongs, &ping_failed, t0](const Ack& a) {
        if (a.ok) {
          pongs++;
          ctx.res.hist("ping_rtt").record(uint64_t(now_ns() - t0));
        } else {
          ping_failed++;
          if (a.error != "closed") ctx.res.error("ping." + std::string(a.error), "ping failed");
        }
      });
    }
    co_await ctx.sleep(0.01);
  }
  co_await ctx.wait_until([&] { return pongs + ping_failed >= pings; }, cfg.timeout);
  if (pongs + ping_failed < pings) ctx.res.error("ping.unanswered", std::to_string(pings - pongs - ping_failed) + " pings unanswered");
  int64_t open = 0;
  for (auto& c : conns) open += c && c->is_open();
  ctx.res.add("pings", pings);
  ctx.res.add("pongs", pongs);
  ctx.res.add("open_at_end", open);
  co_await ctx.barrier("held");
}

}  // namespace bench
