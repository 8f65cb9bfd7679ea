// `direct` and `group`: live traffic between online members.
//
// direct: users in pairs, one 1:1 chat per pair (chats.direct), both sides sending.
// group:  rooms of M members (chats.create_group), every member sending, and every member
//         marking what it received as read every --read-interval so chat.read flows.
// Sends are open-loop at --rate (all shards together); latency is measured from the
// scheduled send time, so a stalled server cannot hide its backlog (no coordinated omission),
// to the completion of the read that brought the answer or delivery (arrival_ns()).
// With --warmup the same load runs first for that long and is drained: its messages are
// checked like the others, but the measured window (timings, counts, the server's CPU) starts
// after it, on a store that already holds them.
//
// Correctness, checked on every delivery: every member (sender included) must receive each
// message exactly once, in seq order, with no gap; at the end every member must hold every
// acknowledged message, and the server's seqs must be exactly our acknowledged sends. Group
// runs also check that read pointers seen by members never go backwards and end at each
// member's final read; in rooms too big for pointers (Driver::read_pointers_up_to), that
// each message's unread count never rises and, among the chat's newest 256 (what live counts
// cover), ends at 0 once everyone has read everything.
#include "scenarios/common.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <algorithm>
#include <cmath>
#include <numeric>
#include <random>
#include <unordered_map>

#include "procstat.hpp"

namespace bench {
namespace {

// How many of a chat's newest messages a chat.read with counts covers at most.
constexpr int64_t kLiveCountsWindow = 256;

// The seed of --order random: every run shuffles its senders the same way.
constexpr unsigned kOrderSeed = 20261206;

struct TChat {
  int64_t id = 0;
  int64_t base = 0;        // last seq before the measured traffic
  int64_t max_seq = 0;     // highest acknowledged seq
  int64_t acked = 0;
  std::vector<int> members;  // indices into users
  bool counts = false;       // chat.read carries unread counts, not members' pointers
};

// What a member knows of the others is kept in vectors indexed by their place in the chat
// (TUser::place), not in maps by id: in rooms of 1,000, a hash map per member made every
// delivery a cache miss and took over a quarter of this generator's CPU.
struct TUser {
  std::shared_ptr<Client> client;
  Account acct;
  int chat = -1;
  int place = 0;            // index into its chat's members
  int64_t next_seq = 0;     // next seq this member must receive
  int64_t read_sent = 0;    // highest seq we marked read
  int64_t sent = 0, acked = 0;
  int64_t own_seq = 0;      // seq of this member's last acknowledged message
  // Chats with pointers (not counts), by place: the highest read_seq a chat.read said. A
  // member's own message also moves its pointer (see chat_reads_seen).
  std::vector<int64_t> reads_told;
  std::vector<int64_t> from_sender;  // without server seqs, by place: the sender's last counter
  std::vector<int32_t> unread;  // counts chats: seq base+1+i -> unread count known (-1: none)
};

struct Traffic {
  ShardCtx& ctx;
  bool group;
  std::vector<TUser> users;
  std::vector<TChat> chats;
  std::unordered_map<int64_t, int> chat_index;  // chat_id -> index
  std::unordered_map<int64_t, int> user_index;  // user_id -> index into users
  bool measuring = false;
  bool seqless = false;  // the server has no per-chat seq (MQTT): check per-sender counters
  bool self_echo = true;  // senders receive their own messages
  int64_t sent = 0, acked = 0, failed = 0;
  int64_t reads_inflight = 0;
  bool stop_reads = false;

  /// What every event counts, looked up in the shard's Result once: at 500,000 deliveries a
  /// second, looking each name up again cost this generator a twentieth of its CPU.
  struct Tally {
    int64_t& delivered;
    int64_t& delivered_self;
    int64_t& read_updates;
    int64_t& reads_sent;
    int64_t& last_delivery;  // a max mark (the Result keeps maxs; 0 is below every time)
    int64_t& last_ack;
    Histogram& send_to_delivery;
    Histogram& send_to_ack;
    Histogram& send_lag;
    explicit Tally(Result& r)
        : delivered(r.counters["delivered"]),
          delivered_self(r.counters["delivered_self"]),
          read_updates(r.counters["read_updates"]),
          reads_sent(r.counters["reads_sent"]),
          last_delivery(r.maxs["t_last_delivery"]),
          last_ack(r.maxs["t_last_ack"]),
          send_to_delivery(r.hist("send_to_delivery")),
          send_to_ack(r.hist("send_to_ack")),
          send_lag(r.hist("send_lag")) {}
  };
  Tally tally;

  Traffic(ShardCtx& c, bool g) : ctx(c), group(g), tally(c.res) {}
  ~Traffic() {
    // Callbacks point at this object: silence the handlers and complete (fail) every
    // outstanding request while it still exists.
    for (auto& u : users)
      if (u.client) u.client->handlers = {};
    ctx.close_all();
  }

  /// Our client_id: "<send time>-u<sender index>-<counter>". Like the web client's ids
  /// (web/src/store/session.ts) it starts with the send time in base 36 milliseconds, so
  /// ids sort by time, as real clients' do.
  static std::string make_cid(int64_t at_ns, int sender, int64_t counter) {
    char time36[16];
    char* end = time36 + sizeof time36;
    char* p = end;
    for (auto ms = uint64_t(at_ns / 1'000'000); ms != 0 || p == end; ms /= 36)
      *--p = "0123456789abcdefghijklmnopqrstuvwxyz"[ms % 36];
    return std::string(p, end) + "-u" + std::to_string(sender) + "-" + std::to_string(counter);
  }

  /// Parses what make_cid made.
  static bool parse_cid(std::string_view cid, int& sender, int64_t& counter) {
    size_t u = cid.find("-u");
    if (u == std::string_view::npos) return false;
    cid.remove_prefix(u + 2);
    size_t dash = cid.find('-');
    if (dash == std::string_view::npos) return false;
    sender = std::atoi(std::string(cid.substr(0, dash)).c_str());
    counter = std::atoll(std::string(cid.substr(dash + 1)).c_str());
    return counter > 0;
  }

  void on_message_seqless(int ui, const MessageEvent& e) {
    auto it = chat_index.find(e.chat_id);
    TUser& u = users[size_t(ui)];
    if (it == chat_index.end() || u.chat != it->second) {
      ctx.res.add("events.other_chat");
      return;
    }
    int sender;
    int64_t k;
    if (!parse_cid(e.client_id, sender, k) || sender < 0 || size_t(sender) >= users.size() || users[size_t(sender)].chat != u.chat) {
      ctx.res.violation("content", "unknown client_id '" + std::string(e.client_id) + "'");
      return;
    }
    int64_t& last = u.from_sender[size_t(users[size_t(sender)].place)];
    if (k == last + 1) {
      last = k;
      int64_t now = arrival_ns();
      send_due(now);
      if (!measuring) return;
      if (sender == ui) {
        tally.delivered_self++;
      } else {
        tally.delivered++;
        int64_t t = text_send_ns(e.text);
        if (t) tally.send_to_delivery.record(uint64_t(std::max<int64_t>(0, now - t)));
      }
      tally.last_delivery = std::max(tally.last_delivery, now);
    } else if (k <= last) {
      ctx.res.violation("duplicate", "member " + std::to_string(ui) + " got message " + std::string(e.client_id) + " again");
    } else {
      ctx.res.violation("gap_or_reorder", "member " + std::to_string(ui) + " got " + std::string(e.client_id) + " after counter " +
                                              std::to_string(last));
      last = k;
    }
  }

  void on_message(int ui, const MessageEvent& e) {
    if (seqless) return on_message_seqless(ui, e);
    auto it = chat_index.find(e.chat_id);
    if (it == chat_index.end() || users[size_t(ui)].chat != it->second) {
      ctx.res.add("events.other_chat");
      return;
    }
    TChat& ch = chats[size_t(it->second)];
    TUser& u = users[size_t(ui)];
    if (e.seq <= ch.base || !u.next_seq) {
      ctx.res.add("events.before_run");
      return;
    }
    if (e.seq == u.next_seq) {
      u.next_seq++;
      if (ch.counts) note_unread(u, ch, e);
      int64_t now = arrival_ns();
      send_due(now);
      if (!measuring) return;
      if (e.sender_id == u.acct.user_id) {
        tally.delivered_self++;
      } else {
        tally.delivered++;
        int64_t t = text_send_ns(e.text);
        if (t) tally.send_to_delivery.record(uint64_t(std::max<int64_t>(0, now - t)));
        else ctx.res.violation("content", "chat " + std::to_string(e.chat_id) + " seq " + std::to_string(e.seq) + ": text is not ours");
      }
      tally.last_delivery = std::max(tally.last_delivery, now);
    } else if (e.seq < u.next_seq) {
      ctx.res.violation("duplicate", "user " + std::to_string(u.acct.user_id) + " chat " + std::to_string(e.chat_id) +
                                         " got seq " + std::to_string(e.seq) + " again (expected " + std::to_string(u.next_seq) + ")");
    } else {
      ctx.res.violation("gap_or_reorder", "user " + std::to_string(u.acct.user_id) + " chat " + std::to_string(e.chat_id) +
                                              " got seq " + std::to_string(e.seq) + " while expecting " + std::to_string(u.next_seq));
      u.next_seq = e.seq + 1;
    }
  }

  /// The place in `ch` of the user with id `user_id`; -1 if that user is not one of its members.
  int place_of(int64_t user_id, const TChat& ch) const {
    auto it = user_index.find(user_id);
    if (it == user_index.end() || chats[size_t(users[size_t(it->second)].chat)].id != ch.id) return -1;
    return users[size_t(it->second)].place;
  }

  void note_unread(TUser& u, const TChat& ch, const MessageEvent& e) {
    if (e.unread < 0 || e.unread >= int64_t(ch.members.size()))
      ctx.res.violation("unread_range", "chat " + std::to_string(ch.id) + " seq " + std::to_string(e.seq) + " came with unread " +
                                            std::to_string(e.unread) + " among " + std::to_string(ch.members.size()) + " members");
    size_t i = size_t(e.seq - ch.base - 1);
    while (u.unread.size() <= i) u.unread.push_back(-1);  // mostly one step: cheaper than resize
    u.unread[i] = int32_t(e.unread);
  }

  void on_unread_counts(TUser& u, const TChat& ch, const ReadEvent& e) {
    tally.read_updates++;
    const auto& steps = e.unread_steps;
    for (size_t k = 0; k < steps.size(); ++k) {
      int64_t from = std::max(steps[k].first, ch.base + 1);
      int64_t to = std::min(k + 1 < steps.size() ? steps[k + 1].first - 1 : e.until_seq, ch.base + int64_t(u.unread.size()));
      for (int64_t seq = from; seq <= to; ++seq) {
        int32_t& held = u.unread[size_t(seq - ch.base - 1)];
        if (held < 0) continue;
        if (steps[k].second > held)
          ctx.res.violation("unread_rose", "user " + std::to_string(u.acct.user_id) + " saw the unread count of seq " + std::to_string(seq) +
                                               " in chat " + std::to_string(ch.id) + " go from " + std::to_string(held) + " to " +
                                               std::to_string(steps[k].second));
        held = int32_t(steps[k].second);
      }
    }
  }

  void on_read(int ui, const ReadEvent& e) {
    TUser& u = users[size_t(ui)];
    if (!measuring || e.user_id == u.acct.user_id) return;
    auto it = chat_index.find(e.chat_id);
    if (it == chat_index.end() || it->second != u.chat) return;
    const TChat& ch = chats[size_t(it->second)];
    if (ch.counts != (e.user_id == 0)) {
      ctx.res.violation("read_kind", "chat " + std::to_string(ch.id) + " of " + std::to_string(ch.members.size()) + " members sent " +
                                         (e.user_id ? "a member's pointer" : "unread counts"));
      return;
    }
    if (ch.counts) return on_unread_counts(u, ch, e);
    // A chat.read may be behind what the reader's own later message implied (read receipts of
    // a batch go out together, after it; docs/protocol.md), never behind an earlier chat.read.
    int p = place_of(e.user_id, ch);
    if (p < 0) {
      ctx.res.violation("read_member", "chat " + std::to_string(ch.id) + " sent the read pointer of user " + std::to_string(e.user_id) +
                                           ", who is not a member");
      return;
    }
    int64_t& told = u.reads_told[size_t(p)];
    if (e.read_seq < told)
      ctx.res.violation("read_regressed", "user " + std::to_string(u.acct.user_id) + " saw read_seq of " + std::to_string(e.user_id) +
                                              " go from " + std::to_string(told) + " to " + std::to_string(e.read_seq));
    told = std::max(told, e.read_seq);
    tally.read_updates++;
  }

  void send_one(int ui, int64_t at) {
    TUser& u = users[size_t(ui)];
    TChat& ch = chats[size_t(u.chat)];
    std::string cid = make_cid(at, ui, ++u.sent);
    sent++;
    if (measuring) {
      ctx.res.mark_min("t_first_send", at);
      // How late this generator hands the send to its client, against the schedule: time
      // that counts against the server in every latency here, though no server caused it.
      tally.send_lag.record(uint64_t(std::max<int64_t>(0, now_ns() - at)));
    }
    u.client->send(ch.id, cid, make_text(at, ctx.cfg.size), [this, ci = u.chat, at, ui, timed = measuring](const Ack& a) {
      int64_t now = arrival_ns();
      send_due(now);
      if (!a.ok) {
        failed++;
        ctx.res.error("send." + std::string(a.error), "messages.send failed: " + std::string(a.error));
        return;
      }
      acked++;
      users[size_t(ui)].acked++;
      users[size_t(ui)].own_seq = std::max(users[size_t(ui)].own_seq, a.seq);
      TChat& c = chats[size_t(ci)];
      c.acked++;
      if (seqless) {
        c.max_seq = c.acked;  // no seqs: count acknowledged sends instead
      } else {
        c.max_seq = std::max(c.max_seq, a.seq);
        if (a.seq <= c.base) ctx.res.violation("seq", "ack seq " + std::to_string(a.seq) + " not above the chat's start");
      }
      if (!timed) return;
      tally.send_to_ack.record(uint64_t(std::max<int64_t>(0, now - at)));
      tally.last_ack = std::max(tally.last_ack, now);
    });
  }

  void mark_read(int ui, int64_t seq) {
    TUser& u = users[size_t(ui)];
    if (seq <= u.read_sent) return;
    u.read_sent = seq;
    reads_inflight++;
    tally.reads_sent++;
    u.client->mark_read(chats[size_t(u.chat)].id, seq, [this](const Ack& a) {
      reads_inflight--;
      if (!a.ok) ctx.res.error("read." + std::string(a.error), "messages.read failed: " + std::string(a.error));
    });
  }

  awaitable<void> read_loop() {
    while (!stop_reads) {
      co_await ctx.sleep(ctx.cfg.read_interval);
      if (stop_reads) break;
      for (size_t i = 0; i < users.size(); ++i)
        if (users[i].next_seq > 1) mark_read(int(i), users[i].next_seq - 1);
    }
  }

  bool all_delivered() const {
    if (acked + failed < sent) return false;
    if (seqless) {
      for (size_t i = 0; i < users.size(); ++i)
        for (int m : chats[size_t(users[i].chat)].members) {
          if (!self_echo && size_t(m) == i) continue;
          auto& u = users[i];
          if (u.from_sender[size_t(users[size_t(m)].place)] < users[size_t(m)].acked) return false;
        }
      return true;
    }
    for (auto& u : users)
      if (u.next_seq - 1 < chats[size_t(u.chat)].max_seq) return false;
    return true;
  }

  /// Counts chats: the first of the chat's newest kLiveCountsWindow messages that member `u`
  /// holds with an unread count above 0 (0: none). Live counts cover no older ones; a client
  /// gets theirs again with the history pages it loads (docs/protocol.md, "Read counts").
  int64_t first_unread(const TUser& u, const TChat& ch) const {
    size_t newest_from = size_t(std::max<int64_t>(0, ch.max_seq - ch.base - kLiveCountsWindow));
    for (size_t i = newest_from; i < u.unread.size(); ++i)
      if (u.unread[i] != 0) return ch.base + 1 + int64_t(i);
    return 0;
  }

  /// Whether every member of `ch` has seen every member's last read; with `report`, each
  /// miss is a violation.
  bool chat_reads_seen(const TChat& ch, bool report) const {
    bool all = true;
    for (int a : ch.members) {
      const TUser& u = users[size_t(a)];
      if (ch.counts) {
        int64_t seq = first_unread(u, ch);
        if (!seq) continue;
        all = false;
        if (report)
          ctx.res.violation("unread_stale", "chat " + std::to_string(ch.id) + ": user " + std::to_string(u.acct.user_id) + " holds seq " +
                                                std::to_string(seq) + " with unread " + std::to_string(u.unread[size_t(seq - ch.base - 1)]) +
                                                " after every member read everything");
        else
          return false;
        continue;
      }
      // The protocol moves a sender's read pointer to its own new message without a
      // chat.read event; clients infer it from message.new. Deliveries are checked to come
      // exactly once and in order, so a member that holds the chat up to b's last message
      // knows that pointer, and one that does not has a delivery missing, reported as such.
      const int64_t holds = u.next_seq - 1;
      for (int b : ch.members) {
        if (a == b || !users[size_t(b)].read_sent) continue;  // b never marked anything read
        int64_t want = users[size_t(b)].read_sent;
        int64_t own = users[size_t(b)].own_seq;
        int64_t got = std::max(u.reads_told[size_t(users[size_t(b)].place)], own <= holds ? own : 0);
        if (got >= want) continue;
        all = false;
        if (report)
          ctx.res.violation("read_missing", "chat " + std::to_string(ch.id) + ": user " + std::to_string(u.acct.user_id) + " saw read_seq " +
                                                std::to_string(got) + " of user " + std::to_string(users[size_t(b)].acct.user_id) +
                                                ", who read up to " + std::to_string(want));
        else
          return false;
      }
      if (!all && !report) return false;
    }
    return all;
  }

  bool all_reads_seen() const {
    if (reads_inflight) return false;
    for (auto& ch : chats)
      if (!chat_reads_seen(ch, false)) return false;
    return true;
  }

  void report_missing_reads() {
    if (reads_inflight) ctx.res.error("read.unanswered", std::to_string(reads_inflight) + " messages.read requests unanswered");
    for (auto& ch : chats) chat_reads_seen(ch, true);
  }

  awaitable<void> run() {
    const Config& cfg = ctx.cfg;
    seqless = !ctx.driver.has_server_seq();
    self_echo = ctx.driver.echoes_sender(group);
    int n_chats, per_chat;
    if (group) {
      n_chats = ctx.share(cfg.rooms);
      per_chat = cfg.members;
    } else {
      n_chats = ctx.share(cfg.conns / 2);
      per_chat = 2;
    }
    users.resize(size_t(n_chats * per_chat));
    chats.resize(size_t(n_chats));
    for (int c = 0; c < n_chats; ++c)
      for (int m = 0; m < per_chat; ++m) {
        int ui = c * per_chat + m;
        users[size_t(ui)].chat = c;
        users[size_t(ui)].place = m;
        chats[size_t(c)].members.push_back(ui);
      }

    // Setup: every user registers on the connection it keeps for the run.
    co_await ctx.for_each(int(users.size()), cfg.setup_parallel, [&](int ui) -> awaitable<void> {
      TUser& u = users[size_t(ui)];
      u.client = ctx.new_client(ui);  // members of a chat on different nodes when there are several
      u.client->handlers.on_message = [this, ui](const MessageEvent& e) { on_message(ui, e); };
      u.client->handlers.on_read = [this, ui](const ReadEvent& e) { on_read(ui, e); };
      u.client->handlers.on_lost = [this](const std::string& why) { ctx.res.error("conn_lost", why); };
      auto src = ctx.sources.empty() ? boost::asio::ip::address() : ctx.sources[size_t(ui) % ctx.sources.size()];
      co_await u.client->connect(src);
      u.acct = co_await u.client->register_account(ctx.handle(group ? 'g' : 'd', ui));
    }, "setup.register");
    co_await ctx.for_each(n_chats, cfg.setup_parallel, [&](int c) -> awaitable<void> {
      TChat& ch = chats[size_t(c)];
      TUser& owner = users[size_t(ch.members[0])];
      ChatInfo info;
      if (group) {
        std::vector<int64_t> ids;
        for (size_t m = 1; m < ch.members.size(); ++m) ids.push_back(users[size_t(ch.members[m])].acct.user_id);
        info = co_await owner.client->create_group(ids);
      } else {
        info = co_await owner.client->open_direct(users[size_t(ch.members[1])].acct.user_id);
      }
      ch.id = info.chat_id;
      chat_index[ch.id] = c;
      for (int ui : ch.members) co_await users[size_t(ui)].client->join(info);
    }, "setup.chats");
    // Let creation events settle, then take each chat's starting seq.
    co_await ctx.sleep(0.2);
    co_await ctx.for_each(n_chats, cfg.setup_parallel, [&](int c) -> awaitable<void> {
      TChat& ch = chats[size_t(c)];
      ChatInfo info = co_await users[size_t(ch.members[0])].client->get_chat(ch.id);
      ch.base = ch.max_seq = info.last_seq;
      ch.counts = ch.members.size() > ctx.driver.read_pointers_up_to();
      for (int ui : ch.members) {
        TUser& u = users[size_t(ui)];
        u.next_seq = ch.base + 1;
        if (!ch.counts) u.reads_told.assign(ch.members.size(), 0);
        if (seqless) u.from_sender.assign(ch.members.size(), 0);
      }
    }, "setup.chats");
    for (size_t ui = 0; ui < users.size(); ++ui) user_index[users[ui].acct.user_id] = int(ui);
    ctx.res.add("users", int64_t(users.size()));
    ctx.res.add("chats", n_chats);

    co_await ctx.barrier("setup");
    if (cfg.warmup > 0) {
      co_await send_at_rate(cfg.warmup);
      if (!co_await ctx.wait_until([&] { return all_delivered(); }, cfg.drain))
        ctx.res.error("warmup.undrained", "the warm-up's sends were not all acknowledged and delivered within --drain");
      ctx.res.add("warmup_sent", sent);
      start_measured_window();
      co_await ctx.barrier("warmed-up");
    }
    co_await ctx.barrier("go");
    measuring = true;
    if (group && cfg.read_interval > 0 && ctx.driver.has_reads())
      boost::asio::co_spawn(ctx.ioc, read_loop(), boost::asio::detached);

    co_await send_at_rate(cfg.duration);
    ctx.res.add("sent", sent);

    // Drain: wait for every ack and every delivery.
    co_await ctx.wait_until([&] { return all_delivered(); }, cfg.drain);
    stop_reads = true;
    if (group && ctx.driver.has_reads()) {
      for (size_t i = 0; i < users.size(); ++i)
        if (users[i].next_seq > 1) mark_read(int(i), users[i].next_seq - 1);
      if (!co_await ctx.wait_until([&] { return all_reads_seen(); }, cfg.drain)) report_missing_reads();
    }
    verify();
    co_await ctx.barrier("drained");
    ctx.close_all();
  }

  /// Open-loop sending for `seconds`: this shard's share of the rate, its users taking
  /// turns in `sender_order` (--order). A timer sends what is due while the shard is idle;
  /// while it is busy reading, the handlers of what it reads send what has come due
  /// (send_due), so a burst of events does not hold the sends back until the timer's turn.
  awaitable<void> send_at_rate(double seconds) {
    double rate = ctx.cfg.rate / ctx.shards_total;
    if (users.empty() || rate <= 0) co_return;
    if (sender_order.empty()) {
      sender_order.resize(users.size());
      std::iota(sender_order.begin(), sender_order.end(), 0);
      if (ctx.cfg.order == "random") std::shuffle(sender_order.begin(), sender_order.end(), std::mt19937(kOrderSeed));
    }
    schedule = Schedule{now_ns(), rate, int64_t(std::ceil(seconds * rate))};
    while (schedule.next < schedule.count) {
      send_due(now_ns());
      if (schedule.next >= schedule.count) break;
      // Sleep until the next message is due (at least 0.2 ms, so high rates go in batches).
      co_await ctx.sleep(std::max<double>(double(schedule.at(schedule.next) - now_ns()) / 1e9, 0.0002));
    }
  }

  /// The sends of one send_at_rate: message k is due at start + k / rate.
  struct Schedule {
    int64_t start = 0;
    double rate = 0;
    int64_t count = 0;  // messages in all
    int64_t next = 0;   // the first not sent yet
    size_t rr = 0;      // the next sender's place in sender_order
    int64_t at(int64_t k) const { return start + int64_t(double(k) * 1e9 / rate); }
  };
  Schedule schedule;
  std::vector<int> sender_order;  // users, in the order they take turns (--order)
  bool sending_due = false;

  /// Sends every message of the schedule that is due by `now`.
  void send_due(int64_t now) {
    if (sending_due || schedule.next >= schedule.count || now < schedule.at(schedule.next)) return;
    sending_due = true;  // a send that fails at once answers inside send_one
    int64_t due = std::min(schedule.count, int64_t(double(now - schedule.start) * schedule.rate / 1e9) + 1);
    for (; schedule.next < due; ++schedule.next)
      send_one(sender_order[schedule.rr++ % sender_order.size()], schedule.at(schedule.next));
    sending_due = false;
  }

  /// After a drained warm-up: what was sent so far becomes the chats' history, and the
  /// counts start again. A sender's counter goes on (client ids stay unique), and so do the
  /// per-sender counters of servers without seqs, which count every message.
  void start_measured_window() {
    for (auto& ch : chats) {
      if (seqless) ch.max_seq = 0;  // there it counts acknowledged sends
      else ch.base = ch.max_seq;
      ch.acked = 0;
    }
    for (auto& u : users) u.unread.clear();  // indexed from the chat's base
    sent = acked = failed = 0;
  }

  void verify() {
    Result& r = ctx.res;
    r.add("acked", acked);
    if (acked + failed < sent) r.error("unacked", std::to_string(sent - acked - failed) + " sends never got a response");
    for (auto& ch : chats) {
      if (ch.max_seq - ch.base != ch.acked)
        r.violation("seq_mismatch", "chat " + std::to_string(ch.id) + ": " + std::to_string(ch.acked) + " sends acknowledged but seqs run " +
                                        std::to_string(ch.base + 1) + ".." + std::to_string(ch.max_seq));
    }
    int64_t lost = 0;
    if (seqless) {
      for (size_t i = 0; i < users.size(); ++i)
        for (int m : chats[size_t(users[i].chat)].members) {
          if (!self_echo && size_t(m) == i) continue;
          int64_t have = users[i].from_sender[size_t(users[size_t(m)].place)];
          if (have < users[size_t(m)].acked) {
            lost += users[size_t(m)].acked - have;
            r.violation("lost", "member " + std::to_string(i) + " has " + std::to_string(have) + " of " + std::to_string(users[size_t(m)].acked) +
                                    " messages of member " + std::to_string(m));
          }
        }
      r.add("lost_deliveries", lost);
      int64_t expected = 0;
      for (auto& ch : chats) expected += ch.acked * (int64_t(ch.members.size()) - (self_echo ? 0 : 1));
      r.add("expected_deliveries", expected);
      return;
    }
    for (auto& u : users) {
      const TChat& ch = chats[size_t(u.chat)];
      int64_t have = u.next_seq - 1;
      if (have < ch.max_seq) {
        lost += ch.max_seq - have;
        r.violation("lost", "user " + std::to_string(u.acct.user_id) + " chat " + std::to_string(ch.id) + " holds up to seq " +
                                std::to_string(have) + " of " + std::to_string(ch.max_seq));
      }
    }
    r.add("lost_deliveries", lost);
    int64_t expected = 0;
    for (auto& ch : chats) expected += ch.acked * int64_t(ch.members.size());
    r.add("expected_deliveries", expected);
  }
};

}  // namespace

awaitable<void> run_direct(ShardCtx& ctx) {
  Traffic t(ctx, false);
  co_await t.run();
}

awaitable<void> run_group(ShardCtx& ctx) {
  Traffic t(ctx, true);
  co_await t.run();
}

}  // namespace bench
