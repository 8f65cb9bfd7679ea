// Scenarios about stored messages: `reconnect`, `catch-up` and `history`.
//
// reconnect: N clients, each in a 1:1 chat with its own helper account, go offline; every
//            helper sends K messages; then all N reconnect at once and catch up through
//            auth.resume + sync sent together (from their stored position, each chat's
//            summary carrying up to --sync-messages of its new messages) + messages.history
//            for any gap before those. Per-device catch-up time and time until all are
//            caught up.
// catch-up:  one device misses X messages spread over Y chats, then reconnects and syncs:
//            time to full sync, split into connect+resume, sync pages, history pages.
// history:   one chat holds --messages messages; --readers connections load its newest page
//            (messages.history without a cursor) for --duration: page latency.
//
// Against servers without sync (MQTT, XMPP), reconnect has the devices sign in again and
// be pushed what they missed (persistent sessions, offline storage); see run_reconnect_pushed.
//
// Correctness: a caught-up device must end up with exactly the seqs base+1..last of each
// chat, each once, ascending, all sent by the helper, with the chat's last_seq from sync
// matching the acknowledged sends; newest pages must be the last `page` seqs, contiguous.
#include "scenarios/common.hpp"

#include <charconv>
#include <optional>
#include <random>
#include <set>
#include <unordered_map>

#include "procstat.hpp"

namespace bench {
namespace {

/// Sends `total` messages round-robin over `chats` from `helper`'s device on several
/// connections (so the per-connection rate limit is respected). Returns the last acked
/// seq of each chat; checks the seqs of each chat are contiguous above `base`.
awaitable<std::vector<int64_t>> fill(ShardCtx& ctx, const Account& helper, const std::vector<int64_t>& chats,
                                     const std::vector<int64_t>& base, int total) {
  const Config& cfg = ctx.cfg;
  const int burst = 150;  // stays under the server's default burst of 200 requests
  int conns = std::clamp((total + burst - 1) / burst, 1, 32);
  std::vector<std::set<int64_t>> seqs(chats.size());
  co_await ctx.for_each(conns, conns, [&](int w) -> awaitable<void> {
    auto c = co_await ctx.connect_client();
    co_await c->resume(helper);
    int mine = total / conns + (w < total % conns ? 1 : 0);
    Pacer pacer(ctx.ioc, mine > burst ? cfg.per_conn_rate : 0);
    for (int j = 0; j < mine; ++j) {
      int64_t global = int64_t(j) * conns + w;
      size_t ci = size_t(global % int64_t(chats.size()));
      co_await pacer.next();
      std::string cid = ctx.handle('f', w) + "-" + std::to_string(j);
      int64_t seq = co_await c->send_wait(chats[ci], cid, make_text(now_ns(), cfg.size));
      if (!seqs[ci].insert(seq).second) ctx.res.violation("duplicate_seq", "two sends got seq " + std::to_string(seq));
    }
    c->close();
  }, "setup.fill");
  std::vector<int64_t> last(chats.size());
  for (size_t i = 0; i < chats.size(); ++i) {
    int64_t n = int64_t(seqs[i].size());
    last[i] = base[i] + n;
    if (n && (*seqs[i].begin() != base[i] + 1 || *seqs[i].rbegin() != base[i] + n))
      ctx.res.violation("seq_mismatch", "chat " + std::to_string(chats[i]) + ": fill seqs are not " + std::to_string(base[i] + 1) + ".." +
                                            std::to_string(base[i] + n));
  }
  ctx.res.add("messages_stored", total);
  co_return last;
}

/// Follows sync from `pos` to the end, asking for up to `messages_per_chat` messages in each
/// summary; returns the final position and keeps every chat's newest summary in `chats`.
/// `first`, when given, is the page from `pos` already fetched (Client::resume_and_sync).
awaitable<SyncCursor> sync_all(ShardCtx& ctx, Client& c, SyncCursor pos, int messages_per_chat,
                               std::unordered_map<int64_t, SyncedChat>* chats, int* requests,
                               std::optional<SyncPage> first = std::nullopt) {
  for (int page = 0; page < 10000; ++page) {
    SyncPage p;  // not a ?: around the co_await: g++ 12 miscompiles that (the run crashed)
    if (page == 0 && first) p = std::move(*first);
    else p = co_await c.sync(pos, messages_per_chat);
    if (requests) ++*requests;
    if (chats)
      for (auto& ch : p.chats) {
        SyncedChat& kept = (*chats)[ch.chat_id];
        if (ch.last_seq >= kept.last_seq) kept = std::move(ch);
      }
    for (size_t shard = 0; shard < pos.size(); ++shard)
      if (shard >= p.pos.size() || p.pos[shard] < pos[shard])
        ctx.res.violation("sync_pos", "sync position of shard " + std::to_string(shard) + " went back from " +
                                          std::to_string(pos[shard]));
    pos = p.pos;
    if (!p.has_more) co_return pos;
  }
  throw BenchError("sync", "sync did not finish in 10000 pages");
}

/// Catches a device holding seqs 1..`held` of a chat up to `last`, as docs/protocol.md says:
/// the sync's list of the chat's tail, after the gap before it is paged with messages.history
/// (all of it when the sync listed nothing). Checks that the device gets exactly held+1..last,
/// ascending, each once, all from `sender`. Returns how many arrived.
awaitable<int64_t> catch_up_chat(ShardCtx& ctx, Client& c, const SyncedChat& synced, int64_t held, int64_t last, int64_t sender,
                                 int* requests) {
  const int64_t chat = synced.chat_id;
  int64_t next = held + 1;
  auto take = [&](const StoredMessage& m, const char* from) {
    if (m.seq != next) {
      ctx.res.violation(m.seq < next ? "duplicate" : "gap_or_reorder", std::string(from) + " of chat " + std::to_string(chat) + " gave seq " +
                                                                           std::to_string(m.seq) + " expecting " + std::to_string(next));
      next = std::max(next, m.seq + 1);
      return;
    }
    if (m.sender_id != sender || !m.sent_ns)
      ctx.res.violation("content", "chat " + std::to_string(chat) + " seq " + std::to_string(m.seq) + " is not the helper's message");
    next++;
  };
  // The list is the chat's tail; what it starts past is paged. Seqs the device holds are skipped.
  const int64_t first_listed = synced.messages.empty() ? synced.last_seq + 1 : synced.messages.front().seq;
  for (int page = 0; page < 100000 && next < first_listed; ++page) {
    HistoryPage h = co_await c.history(chat, next - 1, 200);
    if (requests) ++*requests;
    for (auto& m : h.messages)
      if (m.seq < first_listed) take(m, "history");
    if (!h.has_more || h.messages.empty()) break;
  }
  for (auto& m : synced.messages)
    if (m.seq > held) take(m, "sync");
  if (next - 1 != last)
    ctx.res.violation("lost", "chat " + std::to_string(chat) + ": caught up to seq " + std::to_string(next - 1) + " of " + std::to_string(last));
  co_return next - 1 - held;
}

/// The summary sync gave of `chat`, or a violation and nullptr.
const SyncedChat* synced_chat(ShardCtx& ctx, const std::unordered_map<int64_t, SyncedChat>& chats, int64_t chat, int64_t last) {
  auto it = chats.find(chat);
  if (it == chats.end()) {
    ctx.res.violation("sync_missing", "sync did not list chat " + std::to_string(chat));
    return nullptr;
  }
  if (it->second.last_seq != last)
    ctx.res.violation("sync_last_seq", "sync says chat " + std::to_string(chat) + " ends at " + std::to_string(it->second.last_seq) + ", expected " +
                                           std::to_string(last));
  return &it->second;
}

}  // namespace

namespace {

/// Reconnect's device i: its account (registered on `c`), its helper's account, still
/// connected, and the direct chat the helper opened to the device.
struct DevicePair {
  Account acct, helper;
  std::shared_ptr<Client> helper_conn;
  ChatInfo chat;
};

awaitable<DevicePair> register_pair(ShardCtx& ctx, Client& c, int i) {
  DevicePair p;
  p.acct = co_await c.register_account(ctx.handle('r', i));
  p.helper_conn = co_await ctx.connect_client();
  p.helper = co_await p.helper_conn->register_account(ctx.handle('h', i));
  p.chat = co_await p.helper_conn->open_direct(p.acct.user_id);
  co_return p;
}

/// The client id of the k-th message device i misses in reconnect.
std::string missed_client_id(ShardCtx& ctx, int i, int k) { return ctx.handle('k', i) + "-" + std::to_string(k); }

/// All n devices reconnect at once (paced by --connect-rate), or each at a uniformly random
/// time within --connect-spread seconds. `catch_up(i, client)` signs device i in on its new
/// connection and brings it up to date, returning how many messages it got. Records each
/// device's time from connecting to caught up.
awaitable<void> reconnect_all(ShardCtx& ctx, int n, const std::function<awaitable<int64_t>(int, Client&)>& catch_up) {
  Pacer pacer(ctx.ioc, ctx.cfg.connect_rate / ctx.shards_total);
  // With a spread: each device's return time, from a generator seeded per process.
  std::vector<int64_t> return_at;
  if (const int64_t spread_ns = int64_t(ctx.cfg.connect_spread * 1e9); spread_ns > 0) {
    std::mt19937_64 random(0x6d6f6475u + uint64_t(ctx.global_shard));
    const int64_t start_ns = now_ns();
    return_at.resize(size_t(n));
    for (auto& at : return_at) at = start_ns + int64_t(random() % uint64_t(spread_ns));
  }
  int64_t caught = 0;
  co_await ctx.for_each(n, n, [&](int i) -> awaitable<void> {
    if (!return_at.empty()) {
      int64_t wait_ns = return_at[size_t(i)] - now_ns();
      if (wait_ns > 0) co_await ctx.sleep(double(wait_ns) / 1e9);
    } else {
      co_await pacer.next();
    }
    int64_t t0 = now_ns();
    ctx.res.mark_min("t_reconnect_start", t0);
    auto c = co_await ctx.connect_client();
    int64_t got = co_await catch_up(i, *c);
    int64_t t1 = now_ns();
    ctx.res.hist("device_catch_up").record(uint64_t(t1 - t0));
    ctx.res.mark_max("t_all_caught_up", t1);
    ctx.res.add("messages_caught_up", got);
    caught++;
    c->close();
  }, "catch_up");
  ctx.res.add("devices_caught_up", caught);
  co_await ctx.barrier("caught-up");
}

/// reconnect against a server that pushes what a device missed when it signs in again
/// (Driver::pushes_missed: MQTT persistent sessions, XMPP offline storage). Same shape as
/// the sync version; each device must get exactly its helper's messages, in order, once.
awaitable<void> run_reconnect_pushed(ShardCtx& ctx) {
  const Config& cfg = ctx.cfg;
  int n = ctx.share(cfg.conns);
  std::vector<DevicePair> devs(static_cast<size_t>(n));
  ScopeExit guard{[&] { ctx.close_all(); }};

  co_await ctx.for_each(n, cfg.setup_parallel, [&](int i) -> awaitable<void> {
    DevicePair& d = devs[size_t(i)];
    auto c = co_await ctx.connect_client();
    d = co_await register_pair(ctx, *c, i);
    c->close();
    auto dev = co_await ctx.connect_client();  // the lasting session that will miss messages
    co_await dev->resume_lasting(d.acct);
    co_await dev->join(d.chat);
    co_await dev->go_offline();
  }, "setup.devices");
  co_await ctx.barrier("online");

  co_await ctx.for_each(n, cfg.setup_parallel, [&](int i) -> awaitable<void> {
    DevicePair& d = devs[size_t(i)];
    for (int k = 0; k < cfg.missed; ++k)
      co_await d.helper_conn->send_wait(d.chat.chat_id, missed_client_id(ctx, i, k), make_text(now_ns(), cfg.size));
    d.helper_conn->close();
  }, "setup.fill");
  ctx.res.add("messages_stored", int64_t(n) * cfg.missed);
  co_await ctx.barrier("missed");

  co_await reconnect_all(ctx, n, [&](int i, Client& c) -> awaitable<int64_t> {
    DevicePair& d = devs[size_t(i)];
    // Shared with the handler, which stays set until the connection closes: a duplicate
    // pushed after the last expected message is still caught.
    auto next = std::make_shared<int>(0);
    c.handlers.on_message = [&ctx, next, chat = d.chat.chat_id, sender = d.helper.user_id](const MessageEvent& e) {
      if (e.chat_id != chat) return;
      size_t dash = e.client_id.rfind('-');
      int k = -1;
      if (dash != std::string_view::npos) std::from_chars(e.client_id.data() + dash + 1, e.client_id.data() + e.client_id.size(), k);
      if (e.sender_id != sender || k < 0 || !text_send_ns(e.text))
        ctx.res.violation("content", "chat " + std::to_string(chat) + ": " + std::string(e.client_id) + " is not the helper's message");
      else if (k < *next) ctx.res.violation("duplicate", "chat " + std::to_string(chat) + " got " + std::string(e.client_id) + " again");
      else if (k > *next)
        ctx.res.violation("gap_or_reorder", "chat " + std::to_string(chat) + " got " + std::string(e.client_id) + " expecting " + std::to_string(*next));
      *next = std::max(*next, k + 1);
    };
    co_await c.resume_lasting(d.acct);
    if (!co_await ctx.wait_until([&] { return *next >= cfg.missed; }, std::max(cfg.timeout, 30.0)))
      ctx.res.violation("lost", "chat " + std::to_string(d.chat.chat_id) + ": got " + std::to_string(*next) + " of " + std::to_string(cfg.missed));
    co_return *next;
  });
}

}  // namespace

awaitable<void> run_reconnect(ShardCtx& ctx) {
  if (ctx.driver.pushes_missed()) co_return co_await run_reconnect_pushed(ctx);
  const Config& cfg = ctx.cfg;
  int n = ctx.share(cfg.conns);
  struct Dev : DevicePair {
    int64_t base = 0, last = 0;
    SyncCursor pos;
  };
  std::vector<Dev> devs(static_cast<size_t>(n));
  ScopeExit guard{[&] { ctx.close_all(); }};

  co_await ctx.for_each(n, cfg.setup_parallel, [&](int i) -> awaitable<void> {
    Dev& d = devs[size_t(i)];
    auto c = co_await ctx.connect_client();
    static_cast<DevicePair&>(d) = co_await register_pair(ctx, *c, i);
    co_await ctx.sleep(0.1);
    d.base = (co_await c->get_chat(d.chat.chat_id)).last_seq;
    d.pos = co_await sync_all(ctx, *c, {}, 0, nullptr, nullptr);
    c->close();  // the device goes offline
  }, "setup.devices");
  co_await ctx.barrier("online");

  // Every helper sends K messages to its offline peer.
  co_await ctx.for_each(n, cfg.setup_parallel, [&](int i) -> awaitable<void> {
    Dev& d = devs[size_t(i)];
    Pacer pacer(ctx.ioc, cfg.missed > 150 ? cfg.per_conn_rate : 0);
    std::set<int64_t> seqs;
    for (int k = 0; k < cfg.missed; ++k) {
      co_await pacer.next();
      seqs.insert(co_await d.helper_conn->send_wait(d.chat.chat_id, missed_client_id(ctx, i, k), make_text(now_ns(), cfg.size)));
    }
    d.last = d.base + int64_t(seqs.size());
    if (!seqs.empty() && (*seqs.begin() != d.base + 1 || *seqs.rbegin() != d.last))
      ctx.res.violation("seq_mismatch", "chat " + std::to_string(d.chat.chat_id) + " seqs are not contiguous");
    d.helper_conn->close();
  }, "setup.fill");
  ctx.res.add("messages_stored", int64_t(n) * cfg.missed);
  co_await ctx.barrier("missed");

  // All devices reconnect at once.
  co_await reconnect_all(ctx, n, [&](int i, Client& c) -> awaitable<int64_t> {
    Dev& d = devs[size_t(i)];
    // Signed in and the first sync page in one round trip, as a reconnecting app would.
    SyncPage first = co_await c.resume_and_sync(d.acct, d.pos, cfg.sync_messages);
    std::unordered_map<int64_t, SyncedChat> synced;
    int requests = 0;
    d.pos = co_await sync_all(ctx, c, d.pos, cfg.sync_messages, &synced, &requests, std::move(first));
    int64_t got = 0;
    if (const SyncedChat* chat = synced_chat(ctx, synced, d.chat.chat_id, d.last))
      got = co_await catch_up_chat(ctx, c, *chat, d.base, d.last, d.helper.user_id, &requests);
    ctx.res.add("requests", requests);
    co_return got;
  });
}

awaitable<void> run_catchup(ShardCtx& ctx) {
  const Config& cfg = ctx.cfg;
  ScopeExit guard{[&] { ctx.close_all(); }};
  int y = std::max(1, cfg.chats);
  auto dev = co_await ctx.connect_client();
  Account me = co_await dev->register_account(ctx.handle('c', 0));
  auto hc = co_await ctx.connect_client();
  Account helper = co_await hc->register_account(ctx.handle('h', 0));
  std::vector<int64_t> chats(static_cast<size_t>(y)), base(static_cast<size_t>(y));
  const std::vector<int64_t> just_me(1, me.user_id);
  co_await ctx.for_each(y, cfg.setup_parallel, [&](int i) -> awaitable<void> {
    chats[size_t(i)] = (co_await hc->create_group(just_me)).chat_id;
  }, "setup.chats");
  co_await ctx.sleep(0.2);
  co_await ctx.for_each(y, cfg.setup_parallel, [&](int i) -> awaitable<void> {
    base[size_t(i)] = (co_await dev->get_chat(chats[size_t(i)])).last_seq;
  }, "setup.chats");
  SyncCursor pos = co_await sync_all(ctx, *dev, {}, 0, nullptr, nullptr);
  dev->close();
  hc->close();
  co_await ctx.barrier("online");
  std::vector<int64_t> last = co_await fill(ctx, helper, chats, base, cfg.messages);
  co_await ctx.barrier("missed");

  int64_t t0 = now_ns();
  auto c = co_await ctx.connect_client();
  co_await c->resume(me);
  int64_t t1 = now_ns();
  std::unordered_map<int64_t, SyncedChat> synced;
  int requests = 0;
  co_await sync_all(ctx, *c, pos, cfg.sync_messages, &synced, &requests);
  int64_t t2 = now_ns();
  int64_t got = 0;
  co_await ctx.for_each(y, 4, [&](int i) -> awaitable<void> {
    if (const SyncedChat* chat = synced_chat(ctx, synced, chats[size_t(i)], last[size_t(i)]))
      got += co_await catch_up_chat(ctx, *c, *chat, base[size_t(i)], last[size_t(i)], helper.user_id, &requests);
  }, "catch_up.history");
  int64_t t3 = now_ns();
  ctx.res.hist("catch_up_total").record(uint64_t(t3 - t0));
  ctx.res.hist("catch_up_connect_resume").record(uint64_t(t1 - t0));
  ctx.res.hist("catch_up_sync").record(uint64_t(t2 - t1));
  ctx.res.hist("catch_up_history").record(uint64_t(t3 - t2));
  ctx.res.add("messages_caught_up", got);
  ctx.res.add("requests", requests);
  ctx.res.add("chats", y);
  co_await ctx.barrier("caught-up");
}

awaitable<void> run_history(ShardCtx& ctx) {
  const Config& cfg = ctx.cfg;
  ScopeExit guard{[&] { ctx.close_all(); }};
  auto rc = co_await ctx.connect_client();
  Account reader = co_await rc->register_account(ctx.handle('q', 0));
  auto hc = co_await ctx.connect_client();
  Account helper = co_await hc->register_account(ctx.handle('h', 0));
  int64_t chat = (co_await hc->open_direct(reader.user_id)).chat_id;
  co_await ctx.sleep(0.1);
  int64_t base = (co_await rc->get_chat(chat)).last_seq;
  rc->close();
  hc->close();
  const std::vector<int64_t> chat_v(1, chat), base_v(1, base);
  std::vector<int64_t> last = co_await fill(ctx, helper, chat_v, base_v, cfg.messages);
  int64_t final_seq = last[0];
  int64_t expect = std::min<int64_t>(cfg.page, final_seq);
  co_await ctx.barrier("setup");
  co_await ctx.barrier("go");

  int64_t end = now_ns() + int64_t(cfg.duration * 1e9);
  co_await ctx.for_each(cfg.readers, cfg.readers, [&](int) -> awaitable<void> {
    auto c = co_await ctx.connect_client();
    co_await c->resume(reader);
    Pacer pacer(ctx.ioc, cfg.per_conn_rate);
    for (int i = 0; i < 1000000 && now_ns() < end; ++i) {
      int64_t at = co_await pacer.next();
      HistoryPage h = co_await c->history(chat, -1, cfg.page);
      int64_t now = now_ns();
      ctx.res.hist("newest_page").record(uint64_t(now - at));
      ctx.res.add("pages");
      ctx.res.mark_min("t_first_send", at);
      ctx.res.mark_max("t_last_ack", now);
      bool ok = int64_t(h.messages.size()) == expect && !h.messages.empty() && h.messages.back().seq == final_seq;
      for (size_t k = 1; ok && k < h.messages.size(); ++k) ok = h.messages[k].seq == h.messages[k - 1].seq + 1;
      if (!ok)
        ctx.res.violation("page", "newest page has " + std::to_string(h.messages.size()) + " messages ending at " +
                                      (h.messages.empty() ? std::string("-") : std::to_string(h.messages.back().seq)) + ", expected " +
                                      std::to_string(expect) + " ending at " + std::to_string(final_seq));
    }
    c->close();
  }, "history");
  co_await ctx.barrier("done");
}

}  // namespace bench
