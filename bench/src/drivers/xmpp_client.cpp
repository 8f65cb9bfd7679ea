// Driver for XMPP servers (Prosody, ejabberd; see bench/peers/), plain TCP c2s on loopback.
//
// Mapping of the scenario operations:
//   account        -> in-band registration (XEP-0077) of "<handle>@localhost", then SASL PLAIN,
//                     resource bind, stream management (XEP-0198) and initial presence
//   1:1 chat       -> <message type='chat'> to the peer's bare JID (chat id = hash of the pair)
//   group chat     -> a MUC room "r<chat id>@conference.localhost" every member joins;
//                     <message type='groupchat'>, whose reflected copy reaches the sender too
//   messages.send  -> the message stanza followed by <r/>; the server's <a h='N'/> (it has
//                     handled our N-th stanza) acknowledges it
//   ping           -> XEP-0199 iq ping to the server
//   a device that comes back -> unavailable presence, then offline storage keeps its 1:1
//                     messages and pushes them at its next initial presence (reconnect)
// The body carries "<sender id> <client id> <text>"; order is checked per sender (no seqs).
#include <utility>

#include <unistd.h>

#include <atomic>
#include <boost/asio.hpp>
#include <charconv>
#include <cstdlib>
#include <deque>
#include <map>
#include <mutex>
#include <unordered_map>

#include "driver.hpp"
#include "drivers/await_answer.hpp"
#include "drivers/tcp_connection.hpp"

namespace bench {
namespace {

namespace asio = boost::asio;

const char* kDomain = "localhost";
const char* kMuc = "conference.localhost";

int64_t fnv1a(std::string_view s) {
  uint64_t h = 1469598103934665603ull;
  for (unsigned char c : s) h = (h ^ c) * 1099511628211ull;
  return int64_t(h & 0x3fffffffffffffull);
}

/// user id -> handle, and direct chat -> its two users, for the chats of this process
/// (all members of a chat live in one process).
std::mutex g_names_mu;
std::unordered_map<int64_t, std::string> g_names;
std::unordered_map<int64_t, std::pair<int64_t, int64_t>> g_directs;

/// Direct chat ids are even, group chat ids odd.
int64_t direct_id(int64_t a, int64_t b) {
  auto [lo, hi] = std::minmax(a, b);
  return fnv1a("d:" + std::to_string(lo) + ":" + std::to_string(hi)) & ~int64_t(1);
}

std::string xml_escape(std::string_view s) {
  std::string o;
  for (char c : s) {
    switch (c) {
      case '<': o += "&lt;"; break;
      case '>': o += "&gt;"; break;
      case '&': o += "&amp;"; break;
      case '\'': o += "&apos;"; break;
      case '"': o += "&quot;"; break;
      default: o += c;
    }
  }
  return o;
}

std::string xml_unescape(std::string_view s) {
  std::string o;
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] != '&') {
      o += s[i];
      continue;
    }
    size_t semi = s.find(';', i);
    if (semi == std::string_view::npos) {
      o += s[i];
      continue;
    }
    std::string_view ent = s.substr(i + 1, semi - i - 1);
    if (ent == "lt") o += '<';
    else if (ent == "gt") o += '>';
    else if (ent == "amp") o += '&';
    else if (ent == "apos") o += '\'';
    else if (ent == "quot") o += '"';
    else o += std::string(s.substr(i, semi - i + 1));
    i = semi;
  }
  return o;
}

std::string base64(std::string_view in) {
  static const char* t = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string o;
  size_t i = 0;
  for (; i + 2 < in.size(); i += 3) {
    uint32_t v = (uint8_t(in[i]) << 16) | (uint8_t(in[i + 1]) << 8) | uint8_t(in[i + 2]);
    o += t[v >> 18], o += t[(v >> 12) & 63], o += t[(v >> 6) & 63], o += t[v & 63];
  }
  if (i + 1 == in.size()) {
    uint32_t v = uint8_t(in[i]) << 16;
    o += t[v >> 18], o += t[(v >> 12) & 63], o += "==";
  } else if (i + 2 == in.size()) {
    uint32_t v = (uint8_t(in[i]) << 16) | (uint8_t(in[i + 1]) << 8);
    o += t[v >> 18], o += t[(v >> 12) & 63], o += t[(v >> 6) & 63], o += '=';
  }
  return o;
}

/// Name of a stanza's top element ("message", "iq", "stream:features", ...).
std::string_view top_name(std::string_view st) {
  size_t e = st.find_first_of(" />\t\r\n", 1);
  return st.substr(1, e - 1);
}

/// Attribute of the top element (first tag only).
std::string attr(std::string_view st, std::string_view name) {
  size_t end = st.find('>');
  std::string_view tag = st.substr(0, end);
  for (size_t p = 0; (p = tag.find(name, p)) != std::string_view::npos; p += name.size()) {
    if (p == 0 || (tag[p - 1] != ' ' && tag[p - 1] != '\t' && tag[p - 1] != '\n')) continue;
    size_t eq = p + name.size();
    if (eq >= tag.size() || tag[eq] != '=') continue;
    char q = tag[eq + 1];
    size_t close = tag.find(q, eq + 2);
    if (close == std::string_view::npos) return {};
    return xml_unescape(tag.substr(eq + 2, close - eq - 2));
  }
  return {};
}

/// Text of the first <name>...</name> child anywhere in the stanza.
bool child_text(std::string_view st, std::string_view name, std::string& out) {
  std::string open = "<" + std::string(name);
  size_t p = 0;
  while ((p = st.find(open, p)) != std::string_view::npos) {
    char c = st[p + open.size()];
    if (c == '>' || c == ' ' || c == '/') break;
    p += open.size();
  }
  if (p == std::string_view::npos) return false;
  size_t gt = st.find('>', p);
  if (gt == std::string_view::npos) return false;
  if (st[gt - 1] == '/') {
    out.clear();
    return true;
  }
  size_t close = st.find("</" + std::string(name) + ">", gt);
  if (close == std::string_view::npos) return false;
  out = xml_unescape(st.substr(gt + 1, close - gt - 1));
  return true;
}

std::atomic<uint64_t> g_conn_counter{0};

using Pred = std::function<bool(std::string_view)>;

class XmppClient final : public TcpFramedConnection<XmppClient> {
  friend class TcpFramedConnection<XmppClient>;

 public:
  XmppClient(asio::io_context& ioc, const Endpoint& t, double timeout_s) : TcpFramedConnection(ioc, t, timeout_s) {}

  awaitable<void> connect(asio::ip::address source) override { co_await connect_tcp(source, /*deadline=*/false); }

  awaitable<Account> register_account(const std::string& handle) override {
    co_await open_stream();
    std::string id = next_id();
    std::string r = co_await request("<iq type='set' id='" + id + "'><query xmlns='jabber:iq:register'><username>" + handle +
                                         "</username><password>bench-password-1</password></query></iq>",
                                     id, "register");
    if (attr(r, "type") != "result") throw BenchError("register", "registration refused: " + r.substr(0, 300));
    Account a;
    a.handle = a.token = handle;
    a.user_id = fnv1a(handle);
    co_await login(handle);
    co_return a;
  }

  awaitable<void> resume(const Account& a) override {
    co_await open_stream();
    co_await login(a.token);
  }

  // Unavailable first: with no available resource the server stores what arrives (offline
  // storage, pushed at the next initial presence) instead of holding it for a resumption.
  awaitable<void> go_offline() override {
    if (open_) {
      count_out();
      write("<presence type='unavailable'/>");
      std::string id = next_id();
      co_await request("<iq type='get' id='" + id + "' to='" + kDomain + "'><ping xmlns='urn:xmpp:ping'/></iq>", id, "ping");
      write("</stream:stream>");
      co_await drain_writes();
    }
    close();
  }

  awaitable<ChatInfo> open_direct(int64_t peer) override {
    int64_t id = direct_id(me_, peer);
    {
      std::lock_guard lk(g_names_mu);
      g_directs[id] = {me_, peer};
    }
    co_return ChatInfo{id, 0};
  }

  awaitable<ChatInfo> create_group(const std::vector<int64_t>&) override {
    ChatInfo c{fnv1a("g:" + handle_ + ":" + std::to_string(++groups_)) | 1, 0};
    co_await join(c);
    // Unlock the room (Prosody keeps a new room locked until its owner configures it).
    std::string id = next_id();
    co_await request("<iq type='set' id='" + id + "' to='" + room(c.chat_id) +
                         "'><query xmlns='http://jabber.org/protocol/muc#owner'><x xmlns='jabber:x:data' type='submit'/></query></iq>",
                     id, "room config");
    co_return c;
  }

  awaitable<ChatInfo> get_chat(int64_t id) override { co_return ChatInfo{id, 0}; }

  awaitable<void> join(const ChatInfo& chat) override {
    if (!is_group(chat.chat_id) || joined_.count(chat.chat_id)) co_return;
    joined_[chat.chat_id] = true;
    std::string to = room(chat.chat_id) + "/" + handle_;
    std::string stanza = "<presence to='" + to + "'><x xmlns='http://jabber.org/protocol/muc'><history maxstanzas='0'/></x></presence>";
    count_out();
    // (Predicates are named locals: GCC 12 double-destroys lambda temporaries in co_await.)
    Pred own_presence = [to](std::string_view st) {
      return top_name(st) == "presence" && attr(st, "from") == to;  // our own occupant presence
    };
    co_await wait_for(stanza, own_presence, "join room");
  }

  awaitable<SyncPage> sync(const SyncCursor&, int) override { throw BenchError("unsupported", "no sync over XMPP"); }
  awaitable<HistoryPage> history(int64_t, int64_t, int) override { throw BenchError("unsupported", "history over MAM is not driven"); }
  awaitable<int64_t> send_wait(int64_t chat_id, std::string_view cid, std::string_view text) override {
    // The error is copied: Ack's view of it dies with the call.
    auto ack = co_await await_answer<Outcome>(ioc_, timeout_, [&](auto answer) {
      send(chat_id, cid, text, [answer](const Ack& a) { answer(Outcome{a.ok, std::string(a.error)}); });
    });
    if (!ack) throw BenchError("timeout", "send: no acknowledgement");
    if (!ack->ok) throw BenchError(ack->detail, "send refused or connection closed");
    co_return 0;
  }

  void send(int64_t chat_id, std::string_view cid, std::string_view text, std::function<void(const Ack&)> done) override {
    if (!open_) return done(Ack{false, 0, "closed"});
    std::string to, type;
    if (is_group(chat_id)) {
      to = room(chat_id);
      type = "groupchat";
    } else {
      to = peer_jid(chat_id);
      type = "chat";
      if (to.empty()) return done(Ack{false, 0, "unknown_peer"});
    }
    std::string body = std::to_string(me_) + " " + std::string(cid) + " " + std::string(text);
    write("<message to='" + to + "' type='" + type + "' id='" + xml_escape(cid) + "'><body>" + xml_escape(body) +
          "</body></message><r xmlns='urn:xmpp:sm:3'/>");
    unacked_.emplace(count_out(), std::move(done));
  }

  void mark_read(int64_t, int64_t seq, std::function<void(const Ack&)> done) override { done(Ack{true, seq, {}}); }

  void ping(std::function<void(const Ack&)> done) override {
    if (!open_) return done(Ack{false, 0, "closed"});
    std::string id = next_id();
    count_out();
    iq_cbs_[id] = [done = std::move(done)](std::string_view st) { done(Ack{attr(st, "type") == "result", 0, {}}); };
    write("<iq type='get' id='" + id + "' to='" + kDomain + "'><ping xmlns='urn:xmpp:ping'/></iq>");
  }

  size_t outstanding() const override { return unacked_.size() + iq_cbs_.size(); }

 private:
  static bool is_group(int64_t chat) { return chat & 1; }  // group ids are odd, direct even
  static std::string room(int64_t chat) { return "r" + std::to_string(chat) + "@" + kMuc; }

  std::string peer_jid(int64_t chat) {
    std::lock_guard lk(g_names_mu);
    auto it = g_directs.find(chat);
    if (it == g_directs.end()) return {};
    int64_t peer = it->second.first == me_ ? it->second.second : it->second.first;
    auto n = g_names.find(peer);
    return n == g_names.end() ? std::string() : n->second + "@" + kDomain;
  }

  std::string next_id() { return "b" + std::to_string(++ids_); }
  /// Counts a stanza we send (stream management numbers them once enabled).
  uint64_t count_out() { return ++stanzas_out_; }

  awaitable<void> open_stream() {
    std::string hdr = std::string("<?xml version='1.0'?><stream:stream to='") + kDomain +
                      "' xmlns='jabber:client' xmlns:stream='http://etherx.jabber.org/streams' version='1.0'>";
    Pred features = [](std::string_view st) { return top_name(st) == "stream:features"; };
    co_await wait_for(hdr, features, "stream features");
  }

  awaitable<void> login(const std::string& handle) {
    handle_ = handle;
    me_ = fnv1a(handle);
    {
      std::lock_guard lk(g_names_mu);
      g_names[me_] = handle;
    }
    std::string cred = std::string("\0", 1) + handle + std::string("\0", 1) + "bench-password-1";
    Pred sasl_done = [](std::string_view st) { return top_name(st) == "success" || top_name(st) == "failure"; };
    std::string auth = "<auth xmlns='urn:ietf:params:xml:ns:xmpp-sasl' mechanism='PLAIN'>" + base64(cred) + "</auth>";
    std::string r = co_await wait_for(auth, sasl_done, "sasl");
    if (top_name(r) != "success") throw BenchError("invalid_credentials", "SASL failed: " + r.substr(0, 200));
    co_await open_stream();
    std::string id = next_id();
    std::string resource = "b" + std::to_string(getpid()) + "-" + std::to_string(g_conn_counter++);
    r = co_await request("<iq type='set' id='" + id + "'><bind xmlns='urn:ietf:params:xml:ns:xmpp-bind'><resource>" + resource +
                             "</resource></bind></iq>",
                         id, "bind");
    if (attr(r, "type") != "result") throw BenchError("bind", "bind failed: " + r.substr(0, 200));
    Pred sm_done = [](std::string_view st) { return top_name(st) == "enabled" || top_name(st) == "failed"; };
    std::string enable = "<enable xmlns='urn:xmpp:sm:3'/>";
    r = co_await wait_for(enable, sm_done, "stream management");
    if (top_name(r) != "enabled") throw BenchError("sm", "stream management refused: " + r.substr(0, 200));
    stanzas_out_ = 0;  // <a h=…/> counts from here
    stanzas_in_ = 0;
    count_out();
    write("<presence/>");
  }

  /// Sends an iq and waits for the answer with the same id.
  awaitable<std::string> request(const std::string& stanza, const std::string& id, const char* what) {
    if (sm_on()) count_out();
    Pred answer = [id](std::string_view st) { return top_name(st) == "iq" && attr(st, "id") == id; };
    std::string r = co_await wait_for(stanza, answer, what);
    co_return r;
  }
  bool sm_on() const { return true; }

  /// Writes `bytes` and waits for the first stanza matching `pred`.
  awaitable<std::string> wait_for(const std::string& bytes, const Pred& pred, const char* what) {
    auto stanza = co_await await_answer<std::string>(ioc_, timeout_, [&](auto answer) {
      waiters_.push_back({pred, [answer](std::string_view s) { answer(std::string(s)); }});
      write(bytes);
    });
    if (!stanza) throw BenchError(open_ ? "timeout" : "closed", std::string(what) + ": no answer");
    if (stanza->empty()) throw BenchError("closed", std::string(what) + ": connection closed");
    co_return std::move(*stanza);
  }

  /// Cuts complete top-level stanzas (children of <stream:stream>) out of the buffer.
  void on_bytes() {
    size_t pos = scan_pos_;
    size_t consumed = 0;
    while (pos < have_) {
      if (rbuf_[pos] != '<') {
        ++pos;
        continue;
      }
      // Find the end of this tag, honouring quotes.
      size_t p = pos + 1;
      char q = 0;
      for (; p < have_; ++p) {
        char c = rbuf_[p];
        if (q) {
          if (c == q) q = 0;
        } else if (c == '\'' || c == '"') {
          q = c;
        } else if (c == '>') {
          break;
        }
      }
      if (p >= have_) break;  // incomplete tag
      std::string_view tag(rbuf_.data() + pos, p - pos + 1);
      if (tag.rfind("<?", 0) == 0) {
        consumed = pos = p + 1;
        continue;
      }
      if (tag.rfind("<stream:stream", 0) == 0) {
        depth_ = 1;
        consumed = pos = p + 1;
        continue;
      }
      if (tag.rfind("</stream:stream", 0) == 0) {
        lost("server closed the stream");
        return;
      }
      bool closing = tag[1] == '/';
      bool selfclose = tag[tag.size() - 2] == '/';
      if (!closing && depth_ == 1) stanza_start_ = pos;
      if (closing) depth_--;
      else if (!selfclose) depth_++;
      pos = p + 1;
      if (depth_ == 1) {
        handle(std::string_view(rbuf_.data() + stanza_start_, pos - stanza_start_));
        if (!open_) return;
        consumed = pos;
      }
    }
    if (depth_ <= 1) {
      // Drop everything before the next stanza.
      consume(consumed);
      scan_pos_ = pos - consumed;
    } else {
      // Inside a stanza: keep it whole, rescan from its start next time.
      consume(stanza_start_);
      scan_pos_ = 0;
      depth_ = 1;
    }
  }

  void handle(std::string_view st) {
    std::string_view n0 = top_name(st);
    if (n0 == "message" || n0 == "iq" || n0 == "presence") stanzas_in_++;
    for (auto it = waiters_.begin(); it != waiters_.end(); ++it) {
      if (it->pred(st)) {
        auto cb = std::move(it->done);
        waiters_.erase(it);
        cb(st);
        return;
      }
    }
    std::string_view name = top_name(st);
    if (name == "a") {  // stream management ack: everything up to h is handled
      uint64_t h = std::strtoull(attr(st, "h").c_str(), nullptr, 10);
      while (!unacked_.empty() && unacked_.begin()->first <= h) {
        auto cb = std::move(unacked_.begin()->second);
        unacked_.erase(unacked_.begin());
        cb(Ack{true, 0, {}});
      }
    } else if (name == "r") {
      write("<a xmlns='urn:xmpp:sm:3' h='" + std::to_string(stanzas_in_) + "'/>");
    } else if (name == "message") {
      on_message(st);
    } else if (name == "iq") {
      auto it = iq_cbs_.find(attr(st, "id"));
      if (it != iq_cbs_.end()) {
        auto cb = std::move(it->second);
        iq_cbs_.erase(it);
        cb(st);
      } else if (attr(st, "type") == "get" || attr(st, "type") == "set") {
        count_out();
        write("<iq type='error' id='" + xml_escape(attr(st, "id")) + "' to='" + xml_escape(attr(st, "from")) +
              "'><error type='cancel'><feature-not-implemented xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/></error></iq>");
      }
    }
  }

  void on_message(std::string_view st) {
    std::string body;
    if (!child_text(st, "body", body)) return;
    std::string from = attr(st, "from");
    MessageEvent e;
    if (attr(st, "type") == "groupchat") {
      // from = r<chat>@conference.localhost/nick
      size_t at = from.find('@');
      if (from.empty() || from[0] != 'r' || at == std::string::npos) return;
      std::from_chars(from.data() + 1, from.data() + at, e.chat_id);
    } else {
      e.chat_id = direct_id(me_, fnv1a(from.substr(0, from.find('@'))));
    }
    size_t s1 = body.find(' ');
    size_t s2 = s1 == std::string::npos ? s1 : body.find(' ', s1 + 1);
    if (s2 == std::string::npos) return;
    std::from_chars(body.data(), body.data() + s1, e.sender_id);
    e.client_id = std::string_view(body).substr(s1 + 1, s2 - s1 - 1);
    e.text = std::string_view(body).substr(s2 + 1);
    e.kind = "text";
    if (handlers.on_message) handlers.on_message(e);
  }

  void fail_all() {
    auto waiters = std::move(waiters_);
    waiters_.clear();
    for (auto& w : waiters) w.done({});
    auto un = std::move(unacked_);
    unacked_.clear();
    for (auto& [n, cb] : un) cb(Ack{false, 0, "closed"});
    auto iqs = std::move(iq_cbs_);
    iq_cbs_.clear();
    for (auto& [id, cb] : iqs) cb("<iq type='error'/>");
  }

  struct Waiter {
    Pred pred;
    std::function<void(std::string_view)> done;
  };
  size_t scan_pos_ = 0, stanza_start_ = 0;
  int depth_ = 0;
  uint64_t ids_ = 0, stanzas_out_ = 0, stanzas_in_ = 0;
  int64_t me_ = 0;
  int groups_ = 0;
  std::string handle_;
  std::deque<Waiter> waiters_;
  std::map<uint64_t, std::function<void(const Ack&)>> unacked_;
  std::unordered_map<std::string, std::function<void(std::string_view)>> iq_cbs_;
  std::unordered_map<int64_t, bool> joined_;
};

class XmppDriver final : public Driver {
 public:
  std::string name() const override { return "xmpp"; }
  bool has_history() const override { return false; }
  bool has_server_seq() const override { return false; }
  bool has_reads() const override { return false; }
  bool echoes_sender(bool group) const override { return group; }
  bool pushes_missed() const override { return true; }
  std::shared_ptr<Client> make_client(asio::io_context& ioc, const Endpoint& t, double timeout_s) override {
    return std::make_shared<XmppClient>(ioc, t, timeout_s);
  }
};

}  // namespace

std::unique_ptr<Driver> make_xmpp_driver() { return std::make_unique<XmppDriver>(); }

}  // namespace bench
