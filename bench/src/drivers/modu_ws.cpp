// Driver for Modu's client protocol v1 (docs/protocol.md): one WebSocket per client at
// /v1/ws, newline-separated JSON frames. Requests we send are batched into one WebSocket
// message while a write is in flight, as the protocol allows.
//
// The WebSocket client is this file's own, on the drivers' shared TCP connection
// (tcp_connection.hpp): the upgrade, and RFC 6455 frames as a client speaks them (masked
// out, unmasked in, pings answered). A generator that reads half a million events a second
// beside the server on one machine takes the server's CPU with every cycle it spends: with
// this client instead of Beast's WebSocket stream, it used 10-20 % less CPU in direct and
// group (docs/benchmarks.md, entry 40). The server's text is checked where it is parsed
// (simdjson validates what it reads).
#include <optional>
#include <utility>

#include <boost/asio.hpp>
#include <simdjson.h>
#include <cstring>
#include <random>
#include <unordered_map>

#include "driver.hpp"
#include "drivers/await_answer.hpp"
#include "drivers/tcp_connection.hpp"
#include "json_util.hpp"

namespace bench {
namespace {

namespace asio = boost::asio;
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

/// A client's read buffer: big enough for what a loop writes a member of a busy group at once
/// (entry 27's pacing), so that takes one read; a larger one (grown for a history page) is
/// given back once it is empty.
constexpr size_t kReadBuffer = 16384;
/// The largest WebSocket message accepted from the server.
constexpr uint64_t kMaxMessage = 8 << 20;

/// A masking key per client (RFC 6455 §5.3), from a generator per thread.
uint32_t masking_key() {
  thread_local std::mt19937 gen{std::random_device{}()};
  return uint32_t(gen());
}

/// Appends one final client frame of `opcode` carrying `payload`, masked with `key`.
void append_client_frame(std::string& out, uint8_t opcode, std::string_view payload, uint32_t key) {
  char header[14];
  size_t n = 0;
  header[n++] = char(0x80 | opcode);
  if (payload.size() < 126) {
    header[n++] = char(0x80 | payload.size());
  } else if (payload.size() <= 0xFFFF) {
    header[n++] = char(0x80 | 126);
    header[n++] = char(payload.size() >> 8);
    header[n++] = char(payload.size());
  } else {
    header[n++] = char(0x80 | 127);
    for (int shift = 56; shift >= 0; shift -= 8) header[n++] = char(uint64_t(payload.size()) >> shift);
  }
  uint8_t mask[4];
  std::memcpy(mask, &key, 4);
  std::memcpy(header + n, mask, 4);
  n += 4;
  out.append(header, n);
  size_t at = out.size();
  out.append(payload);
  char* p = out.data() + at;
  size_t i = 0;
  uint64_t mask8;
  for (int k = 0; k < 8; ++k) reinterpret_cast<uint8_t*>(&mask8)[k] = mask[k % 4];
  for (; i + 8 <= payload.size(); i += 8) {
    uint64_t word;
    std::memcpy(&word, p + i, 8);
    word ^= mask8;
    std::memcpy(p + i, &word, 8);
  }
  for (; i < payload.size(); ++i) p[i] = char(p[i] ^ mask[i % 4]);
}

class ModuClient final : public TcpFramedConnection<ModuClient> {
  friend class TcpFramedConnection<ModuClient>;

 public:
  ModuClient(asio::io_context& ioc, const Endpoint& t, double timeout_s)
      : TcpFramedConnection(ioc, t, timeout_s), key_(masking_key()) {
    read_buffer_bytes_ = kReadBuffer;
  }

  /// Connects, upgrades to a WebSocket at /v1/ws and reads the server's `hello`, all within
  /// the request timeout.
  awaitable<void> connect(asio::ip::address source) override {
    co_await connect_tcp(source, /*deadline=*/true);
    // The key only has to be valid: it guards against caching proxies, and there are none
    // on loopback.
    out_ += "GET /v1/ws HTTP/1.1\r\nHost: " + target_.addr.to_string() + ":" + std::to_string(target_.port) +
            "\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
            "Sec-WebSocket-Version: 13\r\nUser-Agent: modu-bench\r\n\r\n";
    flush();
    auto problem = co_await await_answer<std::string>(ioc_, timeout_, [&](auto answer) { greeted_ = std::move(answer); });
    greeted_ = nullptr;
    if (!problem) {
      close();
      throw BenchError("timeout", "connect: no WebSocket upgrade and hello within the timeout");
    }
    if (!problem->empty()) {
      close();
      throw BenchError("protocol", "connect: " + *problem);
    }
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
    if (!json_.empty()) json_ += '\n';
    json_ += "{\"id\":";
    json_ += std::to_string(id);
    json_ += ",\"op\":\"";
    json_ += op;
    json_ += '"';
    if (!args.empty()) {
      json_ += ",\"args\":";
      json_ += args;
    }
    json_ += '}';
    pending_.emplace(id, std::move(fn));
    if (write_now) flush();
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

  /// Frames the requests that waited into one WebSocket message, as a write starts.
  void before_write() {
    if (json_.empty()) return;
    append_client_frame(out_, 0x1, json_, key_);
    json_.clear();
  }

  /// What has arrived: the upgrade's answer first, then the server's frames.
  void on_bytes() {
    std::string_view in(rbuf_.data(), have_);
    size_t used = 0;
    if (!upgraded_) {
      size_t end = in.find("\r\n\r\n");
      if (end == std::string_view::npos) {
        if (have_ > 16384) greet("no end to the upgrade's answer");
        return;
      }
      if (!in.starts_with("HTTP/1.1 101")) return greet("upgrade refused: " + std::string(in.substr(0, in.find('\r'))));
      upgraded_ = true;
      used = end + 4;
    }
    while (open_) {
      std::string_view rest = in.substr(used);
      if (rest.size() < 2) break;
      auto b0 = uint8_t(rest[0]), b1 = uint8_t(rest[1]);
      if (b1 & 0x80) return lost("a masked frame from the server");
      uint64_t size = b1 & 0x7F;
      size_t header = 2;
      if (size >= 126) {
        header = size == 126 ? 4 : 10;
        if (rest.size() < header) break;
        size = 0;
        for (size_t i = 2; i < header; ++i) size = size << 8 | uint8_t(rest[i]);
      }
      if (size > kMaxMessage) return lost("a frame of " + std::to_string(size) + " bytes from the server");
      if (rest.size() < header + size) break;
      std::string_view payload = rest.substr(header, size);
      used += header + size;
      switch (b0 & 0x0F) {
        case 0x0:  // continuation
        case 0x1:  // text
          if (!(b0 & 0x80) || !fragments_.empty()) {
            fragments_ += payload;
            if (fragments_.size() > kMaxMessage) return lost("a message over 8 MiB from the server");
            if (!(b0 & 0x80)) break;
            on_message(fragments_);
            fragments_.clear();
          } else {
            on_message(payload);
          }
          break;
        case 0x9:  // ping: answered with its payload
          append_client_frame(out_, 0xA, payload, key_);
          flush();
          break;
        case 0xA:  // pong
          break;
        case 0x8:
          return lost("read: the server closed the WebSocket");
        default:
          return lost("an unknown WebSocket opcode from the server");
      }
    }
    if (!open_) return;
    consume(used);
    if (have_ == 0 && rbuf_.size() > kReadBuffer) {
      // A large answer (a history page) leaves a large buffer behind; handing it back lets
      // the next client's page reuse memory that is already mapped instead of faulting in
      // fresh pages, when thousands of clients each read one page (reconnect).
      rbuf_.resize(kReadBuffer);
      rbuf_.shrink_to_fit();
    }
  }

  /// One whole WebSocket message: the `hello` first, then answers and events.
  void on_message(std::string_view msg) {
    if (hello_seen_) return handle_message(msg);
    if (msg.find("\"hello\"") == std::string_view::npos)
      return greet("first frame is not hello: " + std::string(msg.substr(0, 200)));
    hello_seen_ = true;
    greet("");
  }

  /// Ends connect(): `problem` empty when the WebSocket is open and greeted.
  void greet(std::string problem) {
    auto done = std::exchange(greeted_, nullptr);
    if (!problem.empty()) close();
    if (done) done(std::move(problem));
  }

  void fail_all(std::string_view why = "closed") {
    if (greeted_) greet("the connection closed before the hello");
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

  uint32_t key_;          // masks every frame this client sends
  std::string json_;      // requests not yet framed (before_write)
  std::string fragments_;  // a fragmented message's text so far
  bool upgraded_ = false, hello_seen_ = false;
  std::function<void(std::string)> greeted_;  // connect() waits for the hello
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
