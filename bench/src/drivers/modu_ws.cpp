// Driver for Modu's client protocol v1 (docs/protocol.md): one WebSocket per client at
// /v1/ws, newline-separated JSON frames. Requests we send are batched into one WebSocket
// message while a write is in flight, as the protocol allows.
#include <optional>
#include <utility>

#include <boost/asio.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/websocket.hpp>
#include <simdjson.h>
#include <unordered_map>

#include "driver.hpp"
#include "drivers/await_answer.hpp"
#include "drivers/tcp_connection.hpp"
#include "json_util.hpp"

namespace bench {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace websocket = beast::websocket;
using asio::ip::tcp;
using namespace simdjson;

/// A response as seen by a callback; `result` is valid only during the callback.
struct Reply {
  bool ok = false;
  std::string_view error;
  dom::element result;
};
using ReplyFn = std::function<void(const Reply&)>;

/// Parser for answers read from sockets (one per thread: clients of a thread share it).
dom::parser& frame_parser() {
  thread_local dom::parser p;
  return p;
}

/// Events are most of what a load generator reads (every delivery, every read receipt), and
/// their checks need a few fields each: they are read On-Demand, without building the tree.
/// The frame is copied into a padded buffer first, as On-Demand reads past the end.
struct EventReader {
  ondemand::parser parser;
  std::string padded;

  simdjson_result<ondemand::document> iterate(std::string_view frame) {
    padded.reserve(frame.size() + SIMDJSON_PADDING);
    padded.assign(frame);
    return parser.iterate(padded.data(), padded.size(), padded.capacity());
  }
};
EventReader& event_reader() {
  thread_local EventReader r;
  return r;
}

/// An absent or mistyped field leaves `out` as it was (the protocol's checks catch zeros).
template <typename T>
void read_field(ondemand::object& o, std::string_view key, T& out) {
  T v;
  if (!o[key].get(v)) out = v;
}

int64_t get_i64(dom::element e, const char* key, int64_t dflt = 0) {
  int64_t v;
  if (e[key].get_int64().get(v)) return dflt;
  return v;
}
std::string_view get_str(dom::element e, const char* key) {
  std::string_view v;
  if (e[key].get_string().get(v)) return {};
  return v;
}

/// The seq of the message a messages.send answer carries, or 0 if it lacks one.
int64_t sent_seq(dom::element result) {
  dom::element m;
  return result["message"].get(m) ? 0 : get_i64(m, "seq");
}

ChatInfo parse_chat(dom::element chat) {
  return ChatInfo{get_i64(chat, "chat_id"), get_i64(chat, "last_seq")};
}

/// A `messages` array of a history page or a sync summary, appended to `out`.
void parse_messages(dom::array messages, std::vector<StoredMessage>& out) {
  out.reserve(out.size() + messages.size());
  for (dom::element m : messages) {
    StoredMessage& s = out.emplace_back();
    s.seq = get_i64(m, "seq");
    s.sender_id = get_i64(m, "sender_id");
    s.sent_ns = text_send_ns(get_str(m, "text"));
  }
}

/// Read buffer capacity a client keeps between frames; larger ones are released.
constexpr size_t kKeptReadBuffer = 8192;

class ModuClient final : public Client, public std::enable_shared_from_this<ModuClient> {
 public:
  ModuClient(asio::io_context& ioc, const Endpoint& t, double timeout_s)
      : ioc_(ioc), ws_(ioc), target_(t), timeout_(std::chrono::milliseconds(int64_t(timeout_s * 1000))) {}

  awaitable<void> connect(asio::ip::address source) override {
    auto self = shared_from_this();
    auto& sock = beast::get_lowest_layer(ws_);
    auto timed_out = std::make_shared<bool>(false);
    asio::steady_timer timer(ioc_);
    timer.expires_after(timeout_);
    timer.async_wait([self, timed_out](beast::error_code ec) {
      if (ec) return;
      *timed_out = true;
      beast::error_code ignore;
      beast::get_lowest_layer(self->ws_).close(ignore);
    });
    try {
      co_await connect_socket(sock, source, target_);
      ws_.read_message_max(8 << 20);
      ws_.auto_fragment(false);
      ws_.set_option(websocket::stream_base::decorator([](websocket::request_type& req) {
        req.set(beast::http::field::user_agent, "modu-bench");
      }));
      std::string host = target_.addr.to_string() + ":" + std::to_string(target_.port);
      co_await ws_.async_handshake(host, "/v1/ws", asio::use_awaitable);
      // The server greets every connection with a `hello` event.
      co_await ws_.async_read(rbuf_, asio::use_awaitable);
      std::string_view first(static_cast<const char*>(rbuf_.data().data()), rbuf_.size());
      if (first.find("\"hello\"") == std::string_view::npos)
        throw BenchError("protocol", "first frame is not hello: " + std::string(first.substr(0, 200)));
      rbuf_.consume(rbuf_.size());
    } catch (const BenchError&) {
      timer.cancel();
      throw;
    } catch (const std::exception& e) {
      timer.cancel();
      throw BenchError(*timed_out ? "timeout" : "connect", std::string("connect: ") + e.what());
    }
    timer.cancel();
    ws_.text(true);
    open_ = true;
    start_read();
  }

  awaitable<Account> register_account(const std::string& handle) override {
    std::string args = "{\"handle\":" + json_string(handle) +
                       ",\"password\":\"bench-password-1\",\"display_name\":" + json_string(handle) +
                       ",\"device\":{\"kind\":\"pc\",\"name\":\"modu-bench\"}}";
    Account a = co_await call<Account>("auth.register", args, [](dom::element r) {
      Account a;
      a.token = std::string(get_str(r, "token"));
      dom::element profile;
      if (!r["profile"].get(profile)) a.user_id = get_i64(profile, "user_id");
      return a;
    });
    a.handle = handle;
    if (a.token.empty() || !a.user_id) throw BenchError("protocol", "auth.register result lacks token/user_id");
    co_return a;
  }

  awaitable<void> resume(const Account& a) override {
    co_await call<bool>("auth.resume", resume_args(a), [](dom::element) { return true; });
  }

  /// Both requests leave in one WebSocket message: the server takes a connection's requests
  /// in order and auth.resume signs in at once, so the sync runs signed in (docs/protocol.md).
  awaitable<SyncPage> resume_and_sync(const Account& a, const SyncCursor& since, int messages_per_chat) override {
    auto resume_error = std::make_shared<std::string>();
    request("auth.resume", resume_args(a), [resume_error](const Reply& r) {
      if (!r.ok) *resume_error = r.error;
    }, /*write_now=*/false);
    co_return co_await sync_after_resume(resume_error, sync(since, messages_per_chat), "auth.resume");
  }

  awaitable<ChatInfo> open_direct(int64_t peer) override {
    co_return co_await chat_call("chats.direct", "{\"user_id\":" + std::to_string(peer) + "}");
  }

  awaitable<ChatInfo> create_group(const std::vector<int64_t>& ids) override {
    std::string a = "{\"title\":\"bench\",\"user_ids\":[";
    for (size_t i = 0; i < ids.size(); ++i) a += (i ? "," : "") + std::to_string(ids[i]);
    a += "]}";
    co_return co_await chat_call("chats.create_group", a);
  }

  awaitable<ChatInfo> get_chat(int64_t chat_id) override {
    co_return co_await chat_call("chats.get", "{\"chat_id\":" + std::to_string(chat_id) + "}");
  }

  awaitable<SyncPage> sync(const SyncCursor& since, int messages_per_chat) override {
    std::string cursor;  // a number on one shard, an array on several
    if (since.size() <= 1) {
      cursor = std::to_string(since.empty() ? 0 : since[0]);
    } else {
      for (int64_t p : since) cursor += (cursor.empty() ? "[" : ",") + std::to_string(p);
      cursor += "]";
    }
    std::string args = "{\"since\":" + cursor + ",\"limit\":500";
    if (messages_per_chat > 0) args += ",\"messages\":" + std::to_string(messages_per_chat);
    args += "}";
    co_return co_await call<SyncPage>("sync", args, [](dom::element r) {
      SyncPage p;
      dom::array positions;
      if (!r["pos"].get_array().get(positions)) {
        for (dom::element e : positions) p.pos.push_back(e.get_int64().value_unsafe());
      } else {
        p.pos.push_back(get_i64(r, "pos"));
      }
      bool more = false;
      if (!r["has_more"].get_bool().get(more)) p.has_more = more;
      dom::array chats;
      if (!r["chats"].get_array().get(chats))
        for (dom::element c : chats) {
          SyncedChat& chat = p.chats.emplace_back();
          static_cast<ChatInfo&>(chat) = parse_chat(c);
          dom::array listed;
          if (!c["messages"].get_array().get(listed)) {
            chat.listed = true;
            parse_messages(listed, chat.messages);
          }
        }
      return p;
    });
  }

  awaitable<HistoryPage> history(int64_t chat_id, int64_t after_seq, int limit) override {
    std::string a = "{\"chat_id\":" + std::to_string(chat_id) + ",\"limit\":" + std::to_string(limit);
    if (after_seq >= 0) a += ",\"after_seq\":" + std::to_string(after_seq);
    a += "}";
    co_return co_await call<HistoryPage>("messages.history", a, [](dom::element r) {
      HistoryPage h;
      bool more = false;
      if (!r["has_more"].get_bool().get(more)) h.has_more = more;
      dom::array msgs;
      if (!r["messages"].get_array().get(msgs)) parse_messages(msgs, h.messages);
      return h;
    });
  }

  awaitable<int64_t> send_wait(int64_t chat_id, std::string_view client_id, std::string_view text) override {
    int64_t seq = co_await call<int64_t>("messages.send", send_args(chat_id, client_id, text), sent_seq);
    if (!seq) throw BenchError("protocol", "messages.send result lacks message.seq");
    co_return seq;
  }

  void send(int64_t chat_id, std::string_view client_id, std::string_view text,
            std::function<void(const Ack&)> done) override {
    request("messages.send", send_args(chat_id, client_id, text), [done = std::move(done)](const Reply& r) {
      Ack a;
      a.ok = r.ok;
      a.error = r.error;
      if (r.ok) a.seq = sent_seq(r.result);
      done(a);
    });
  }

  void mark_read(int64_t chat_id, int64_t seq, std::function<void(const Ack&)> done) override {
    request("messages.read", "{\"chat_id\":" + std::to_string(chat_id) + ",\"seq\":" + std::to_string(seq) + "}",
            [done = std::move(done)](const Reply& r) {
              Ack a;
              a.ok = r.ok;
              a.error = r.error;
              if (r.ok) a.seq = get_i64(r.result, "read_seq");
              done(a);
            });
  }

  void ping(std::function<void(const Ack&)> done) override {
    request("ping", "", [done = std::move(done)](const Reply& r) {
      Ack a;
      a.ok = r.ok;
      a.error = r.error;
      done(a);
    });
  }

  void close() override {
    if (!open_ && !closing_) {
      fail_all("closed");
      return;
    }
    open_ = false;
    closing_ = true;
    beast::error_code ec;
    beast::get_lowest_layer(ws_).shutdown(tcp::socket::shutdown_both, ec);
    beast::get_lowest_layer(ws_).close(ec);
    fail_all("closed");
  }

  bool is_open() const override { return open_; }
  size_t outstanding() const override { return pending_.size(); }

 private:
  static std::string send_args(int64_t chat_id, std::string_view client_id, std::string_view text) {
    std::string a = "{\"chat_id\":" + std::to_string(chat_id) + ",\"client_id\":";
    json_append_string(a, client_id);
    a += ",\"text\":";
    json_append_string(a, text);
    a += "}";
    return a;
  }

  awaitable<ChatInfo> chat_call(const char* op, std::string args) {
    ChatInfo c = co_await call<ChatInfo>(op, std::move(args), [](dom::element r) {
      dom::element chat;
      return r["chat"].get(chat) ? ChatInfo{} : parse_chat(chat);
    });
    if (!c.chat_id) throw BenchError("protocol", std::string(op) + " result lacks chat.chat_id");
    co_return c;
  }

  static std::string resume_args(const Account& a) { return "{\"token\":" + json_string(a.token) + "}"; }

  /// Queues one request frame; `fn` runs exactly once (response, or failure on close).
  /// Without `write_now` the frame waits for the next request's write.
  void request(std::string_view op, std::string_view args, ReplyFn fn, bool write_now = true) {
    if (!open_) {
      Reply r;
      r.error = "closed";
      fn(r);
      return;
    }
    uint64_t id = next_id_++;
    if (!out_.empty()) out_ += '\n';
    out_ += "{\"id\":";
    out_ += std::to_string(id);
    out_ += ",\"op\":\"";
    out_ += op;
    out_ += '"';
    if (!args.empty()) {
      out_ += ",\"args\":";
      out_ += args;
    }
    out_ += '}';
    pending_.emplace(id, std::move(fn));
    if (write_now && !writing_) start_write();
  }

  /// Awaitable request: returns `decode(result)`, decoded straight from the parsed frame
  /// (no copy of the result is kept); throws BenchError on an error answer or a timeout.
  template <class T, class Decode>
  awaitable<T> call(std::string_view op, std::string args, Decode decode) {
    struct Answer {
      std::optional<T> value;  // empty: the request failed with `error`
      std::string error;
    };
    auto r = co_await await_answer<Answer>(ioc_, timeout_, [&](auto answer) {
      request(op, args, [answer, decode](const Reply& r) {
        answer(r.ok ? Answer{decode(r.result), {}} : Answer{std::nullopt, std::string(r.error)});
      });
    });
    if (!r) throw BenchError("timeout", std::string(op) + ": no response within the timeout");
    if (!r->value) throw BenchError(r->error, std::string(op) + " failed: " + r->error);
    co_return std::move(*r->value);
  }

  void start_write() {
    if (out_.empty() || !open_) return;
    writing_ = true;
    wbuf_.swap(out_);
    out_.clear();
    ws_.async_write(asio::buffer(wbuf_), [self = shared_from_this()](beast::error_code ec, size_t) {
      self->writing_ = false;
      self->wbuf_.clear();
      if (ec) {
        self->lost("write: " + ec.message());
        return;
      }
      self->start_write();
    });
  }

  void start_read() {
    ws_.async_read(rbuf_, [self = shared_from_this()](beast::error_code ec, size_t) {
      if (ec) {
        self->lost("read: " + ec.message());
        return;
      }
      auto data = self->rbuf_.data();
      self->handle_message(std::string_view(static_cast<const char*>(data.data()), data.size()));
      self->rbuf_.consume(self->rbuf_.size());
      // A large answer (a history page) leaves a large buffer behind; handing it back lets
      // the next client's page reuse memory that is already mapped instead of faulting in
      // fresh pages, when thousands of clients each read one page (reconnect).
      if (self->rbuf_.capacity() > kKeptReadBuffer) self->rbuf_.shrink_to_fit();
      if (self->open_) self->start_read();
    });
  }

  void lost(const std::string& why) {
    bool was_open = open_;
    open_ = false;
    beast::error_code ignore;
    beast::get_lowest_layer(ws_).close(ignore);
    fail_all("closed");
    if (was_open && !closing_ && handlers.on_lost) handlers.on_lost(why);
    closing_ = false;
  }

  void fail_all(std::string_view why) {
    auto pend = std::move(pending_);
    pending_.clear();
    Reply r;
    r.error = why;
    for (auto& [id, fn] : pend) fn(r);
  }

  void handle_message(std::string_view msg) {
    while (!msg.empty()) {
      size_t nl = msg.find('\n');
      std::string_view line = msg.substr(0, nl);
      msg = nl == std::string_view::npos ? std::string_view{} : msg.substr(nl + 1);
      if (!line.empty()) handle_frame(line);
    }
  }

  void unparsable(std::string_view line) {
    if (handlers.on_lost) handlers.on_lost("unparsable frame from server: " + std::string(line.substr(0, 120)));
  }

  // The server writes every event as {"event":"<name>",…,"data":{…}}.
  void handle_event(std::string_view line) {
    ondemand::document doc;
    ondemand::object f, data;
    std::string_view ev;
    if (event_reader().iterate(line).get(doc) || doc.get_object().get(f) || f["event"].get_string().get(ev))
      return unparsable(line);
    bool wanted = (ev == "message.new" && handlers.on_message) || (ev == "chat.read" && handlers.on_read);
    if (!wanted) return;
    if (f["data"].get_object().get(data)) return unparsable(line);
    if (ev == "message.new") {
      ondemand::object m;
      if (data["message"].get_object().get(m)) return unparsable(line);
      MessageEvent e;  // fields in the order the server writes them
      read_field(m, "chat_id", e.chat_id);
      read_field(m, "seq", e.seq);
      read_field(m, "client_id", e.client_id);
      read_field(m, "sender_id", e.sender_id);
      read_field(m, "kind", e.kind);
      read_field(m, "text", e.text);
      read_field(m, "unread", e.unread);
      handlers.on_message(e);
    } else {
      int64_t chat = 0;
      read_field(data, "chat_id", chat);
      ondemand::object unread;
      if (!data["unread"].get_object().get(unread)) {
        ReadEvent e{chat, 0, 0};
        read_field(unread, "until_seq", e.until_seq);
        ondemand::array steps;
        if (unread["steps"].get_array().get(steps)) return unparsable(line);
        thread_local std::vector<std::pair<int64_t, int64_t>> steps_seen;  // scratch, not per client
        steps_seen.clear();
        for (auto st : steps) {
          ondemand::array pair;
          int64_t seq = 0, count = 0;
          if (st.get_array().get(pair)) return unparsable(line);
          auto it = pair.begin();
          if ((*it).get_int64().get(seq)) return unparsable(line);
          ++it;
          if ((*it).get_int64().get(count)) return unparsable(line);
          steps_seen.emplace_back(seq, count);
        }
        e.unread_steps = steps_seen;
        return handlers.on_read(e);
      }
      ondemand::array reads;
      if (data["reads"].get_array().get(reads)) return unparsable(line);
      for (auto r : reads) {
        ondemand::object o;
        if (r.get_object().get(o)) return unparsable(line);
        ReadEvent e{chat, 0, 0};
        read_field(o, "user_id", e.user_id);
        read_field(o, "read_seq", e.read_seq);
        handlers.on_read(e);
      }
    }
  }

  void handle_frame(std::string_view line) {
    if (line.starts_with(R"({"event":)")) return handle_event(line);
    dom::element f;
    if (frame_parser().parse(line.data(), line.size()).get(f)) return unparsable(line);
    uint64_t id;
    if (f["id"].get_uint64().get(id)) {
      // id null: the server could not parse one of our frames.
      if (handlers.on_lost) handlers.on_lost("response without id: " + std::string(line.substr(0, 160)));
      return;
    }
    auto it = pending_.find(id);
    if (it == pending_.end()) return;
    ReplyFn fn = std::move(it->second);
    pending_.erase(it);
    Reply r;
    bool ok = false;
    r.ok = !f["ok"].get_bool().get(ok) && ok;
    if (r.ok) {
      if (f["result"].get(r.result)) r.ok = false, r.error = "protocol";
    } else {
      dom::element err;
      r.error = !f["error"].get(err) ? get_str(err, "code") : std::string_view("protocol");
      if (r.error.empty()) r.error = "protocol";
    }
    fn(r);
  }

  asio::io_context& ioc_;
  websocket::stream<tcp::socket> ws_;
  Endpoint target_;
  std::chrono::milliseconds timeout_;
  beast::flat_buffer rbuf_;
  std::string out_, wbuf_;
  bool writing_ = false, open_ = false, closing_ = false;
  uint64_t next_id_ = 1;
  std::unordered_map<uint64_t, ReplyFn> pending_;
};

class ModuDriver final : public Driver {
 public:
  std::string name() const override { return "modu"; }
  bool has_history() const override { return true; }
  size_t read_pointers_up_to() const override { return 100; }  // docs/protocol.md, "Read counts"
  std::shared_ptr<Client> make_client(asio::io_context& ioc, const Endpoint& t, double timeout_s) override {
    return std::make_shared<ModuClient>(ioc, t, timeout_s);
  }
};

}  // namespace

std::unique_ptr<Driver> make_modu_driver() { return std::make_unique<ModuDriver>(); }

}  // namespace bench
