// Driver for modu-baseline (bench/baseline/server.cpp), the raw-TCP fan-out server.
// Line protocol, one request or event per line:
//   client: "<id> <op> <args...>"   server: "<id> ok <fields...>" | "<id> err <code>" | "! <event...>"
// See bench/baseline/server.cpp for the operations.
#include <utility>

#include <boost/asio.hpp>
#include <charconv>
#include <unordered_map>

#include "driver.hpp"
#include "drivers/await_answer.hpp"
#include "drivers/tcp_connection.hpp"
#include "baseline/line_protocol.hpp"

namespace bench {
namespace {

namespace asio = boost::asio;

using baseline_protocol::field;
using baseline_protocol::to_i64;

struct LineReply {
  bool ok = false;
  std::string_view error;
  std::string_view rest;  // fields after "ok"
};
using LineFn = std::function<void(const LineReply&)>;

class BaselineClient final : public TcpFramedConnection<BaselineClient> {
  friend class TcpFramedConnection<BaselineClient>;

 public:
  BaselineClient(asio::io_context& ioc, const Endpoint& t, double timeout_s) : TcpFramedConnection(ioc, t, timeout_s) {}

  awaitable<void> connect(asio::ip::address source) override { co_await connect_tcp(source, /*deadline=*/true); }

  awaitable<Account> register_account(const std::string& handle) override {
    std::string r = co_await call("reg " + handle);
    std::string_view v = r;
    Account a;
    a.handle = handle;
    a.user_id = to_i64(field(v));
    a.token = std::to_string(a.user_id);
    co_return a;
  }
  awaitable<void> resume(const Account& a) override { co_await call("resume " + a.token); }
  /// Both lines leave in one write; the server takes them in order.
  awaitable<SyncPage> resume_and_sync(const Account& a, const SyncCursor& since, int messages_per_chat) override {
    auto resume_error = std::make_shared<std::string>();
    request("resume " + a.token, [resume_error](const LineReply& r) {
      if (!r.ok) *resume_error = std::string(r.error);
    }, /*write_now=*/false);
    co_return co_await sync_after_resume(resume_error, sync(since, messages_per_chat), "resume");
  }
  awaitable<ChatInfo> open_direct(int64_t peer) override { co_return chat(co_await call("direct " + std::to_string(peer))); }
  awaitable<ChatInfo> create_group(const std::vector<int64_t>& ids) override {
    std::string l = "group ";
    for (size_t i = 0; i < ids.size(); ++i) l += (i ? "," : "") + std::to_string(ids[i]);
    co_return chat(co_await call(l));
  }
  awaitable<ChatInfo> get_chat(int64_t id) override { co_return chat(co_await call("get " + std::to_string(id))); }
  awaitable<SyncPage> sync(const SyncCursor& since, int messages_per_chat) override {
    std::string r = co_await call("sync " + std::to_string(since.empty() ? 0 : since[0]) + " " + std::to_string(messages_per_chat));
    std::string_view rest = r;
    SyncPage p;
    p.pos.push_back(to_i64(field(rest, '\t')));
    while (!rest.empty()) {
      std::string_view head = field(rest, '\t');
      SyncedChat& chat = p.chats.emplace_back();
      chat.chat_id = to_i64(field(head));
      chat.last_seq = to_i64(field(head));
      int64_t k = to_i64(field(head));
      chat.listed = messages_per_chat > 0;
      for (int64_t i = 0; i < k && !rest.empty(); ++i) chat.messages.push_back(record(field(rest, '\t')));
    }
    co_return p;
  }
  awaitable<HistoryPage> history(int64_t chat_id, int64_t after_seq, int limit) override {
    std::string r = co_await call("hist " + std::to_string(chat_id) + " " + std::to_string(after_seq) + " " + std::to_string(limit));
    std::string_view rest = r;
    HistoryPage h;
    h.has_more = field(rest, '\t') == "1";
    while (!rest.empty()) h.messages.push_back(record(field(rest, '\t')));
    co_return h;
  }
  awaitable<int64_t> send_wait(int64_t chat_id, std::string_view client_id, std::string_view text) override {
    std::string r = co_await call("send " + std::to_string(chat_id) + " " + std::string(client_id) + " " + std::string(text));
    co_return to_i64(r);
  }

  void send(int64_t chat_id, std::string_view client_id, std::string_view text,
            std::function<void(const Ack&)> done) override {
    std::string l = "send " + std::to_string(chat_id) + " ";
    l += client_id;
    l += ' ';
    l += text;
    request(l, [done = std::move(done)](const LineReply& r) {
      Ack a;
      a.ok = r.ok;
      a.error = r.error;
      if (r.ok) {
        std::string_view v = r.rest;
        a.seq = to_i64(field(v));
      }
      done(a);
    });
  }
  void mark_read(int64_t chat_id, int64_t seq, std::function<void(const Ack&)> done) override {
    request("read " + std::to_string(chat_id) + " " + std::to_string(seq), [done = std::move(done)](const LineReply& r) {
      Ack a;
      a.ok = r.ok;
      a.error = r.error;
      std::string_view v = r.rest;
      if (r.ok) a.seq = to_i64(field(v));
      done(a);
    });
  }
  void ping(std::function<void(const Ack&)> done) override {
    request("ping", [done = std::move(done)](const LineReply& r) {
      Ack a;
      a.ok = r.ok;
      a.error = r.error;
      done(a);
    });
  }
  size_t outstanding() const override { return pending_.size(); }

 private:
  /// "<seq> <sender_id> <client_id> <text>"
  static StoredMessage record(std::string_view r) {
    StoredMessage m;
    m.seq = to_i64(field(r));
    m.sender_id = to_i64(field(r));
    field(r);
    m.sent_ns = text_send_ns(r);
    return m;
  }

  static ChatInfo chat(const std::string& r) {
    std::string_view v = r;
    ChatInfo c;
    c.chat_id = to_i64(field(v));
    c.last_seq = to_i64(field(v));
    return c;
  }

  void request(std::string_view line, LineFn fn, bool write_now = true) {
    if (!open_) {
      LineReply r;
      r.error = "closed";
      fn(r);
      return;
    }
    uint64_t id = next_id_++;
    out_ += std::to_string(id);
    out_ += ' ';
    out_ += line;
    out_ += '\n';
    pending_.emplace(id, std::move(fn));
    if (write_now) flush();
  }

  awaitable<std::string> call(std::string line) {
    auto r = co_await await_answer<Outcome>(ioc_, timeout_, [&](auto answer) {
      request(line, [answer](const LineReply& r) { answer(Outcome{r.ok, std::string(r.ok ? r.rest : r.error)}); });
    });
    if (!r) throw BenchError("timeout", line.substr(0, line.find(' ')) + ": no response");
    if (!r->ok) throw BenchError(r->detail, line.substr(0, line.find(' ')) + " failed: " + r->detail);
    co_return std::move(r->detail);
  }

  /// Handles the complete lines received.
  void on_bytes() {
    std::string_view buf(rbuf_.data(), have_);
    size_t start = 0;
    for (;;) {
      size_t nl = buf.find('\n', start);
      if (nl == std::string_view::npos) break;
      handle_line(buf.substr(start, nl - start));
      start = nl + 1;
    }
    consume(start);
  }

  void handle_line(std::string_view l) {
    std::string_view f = field(l);
    if (f == "!") {
      std::string_view ev = field(l);
      if (ev == "m" && handlers.on_message) {
        MessageEvent e;
        e.chat_id = to_i64(field(l));
        e.seq = to_i64(field(l));
        e.sender_id = to_i64(field(l));
        e.client_id = field(l);
        e.text = l;
        e.kind = "text";
        handlers.on_message(e);
      } else if (ev == "r" && handlers.on_read) {
        ReadEvent e;
        e.chat_id = to_i64(field(l));
        e.user_id = to_i64(field(l));
        e.read_seq = to_i64(field(l));
        handlers.on_read(e);
      }
      return;
    }
    auto it = pending_.find(uint64_t(to_i64(f)));
    if (it == pending_.end()) return;
    LineFn fn = std::move(it->second);
    pending_.erase(it);
    LineReply r;
    std::string_view status = field(l);
    r.ok = status == "ok";
    if (r.ok) r.rest = l;
    else r.error = l.empty() ? std::string_view("protocol") : field(l);
    fn(r);
  }

  void fail_all() {
    auto pend = std::move(pending_);
    pending_.clear();
    LineReply r;
    r.error = "closed";
    for (auto& [id, fn] : pend) fn(r);
  }

  uint64_t next_id_ = 1;
  std::unordered_map<uint64_t, LineFn> pending_;
};

class BaselineDriver final : public Driver {
 public:
  std::string name() const override { return "baseline"; }
  bool has_history() const override { return true; }
  std::shared_ptr<Client> make_client(asio::io_context& ioc, const Endpoint& t, double timeout_s) override {
    return std::make_shared<BaselineClient>(ioc, t, timeout_s);
  }
};

}  // namespace

std::unique_ptr<Driver> make_baseline_driver() { return std::make_unique<BaselineDriver>(); }

}  // namespace bench
