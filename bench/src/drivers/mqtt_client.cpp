// Driver for an MQTT 3.1.1 broker (Mosquitto as a peer to compare with; see bench/peers/).
//
// Mapping of the scenario operations:
//   account        -> a client id (handle + connection number); no password, no server state
//   chat           -> topic "modu/<chat_id>"; chat ids are hashes of the members (direct) or
//                     of the creator (group); every member subscribes with QoS 1 (join())
//   messages.send  -> PUBLISH QoS 1, acknowledged by PUBACK; payload "<sender> <client_id> <text>"
//   message.new    -> an incoming PUBLISH (we answer QoS 1 with PUBACK)
//   ping           -> PINGREQ / PINGRESP
//   a device that comes back -> a persistent session (fixed client id, clean session off):
//                     the broker queues its QoS 1 messages while it is away (reconnect)
// MQTT has no per-chat sequence numbers, no read pointers and no history: idle, direct,
// group and reconnect run, with ordering checked per sender (see traffic.cpp, backlog.cpp).
#include <utility>

#include <unistd.h>

#include <atomic>
#include <boost/asio.hpp>
#include <charconv>
#include <deque>
#include <unordered_map>

#include "driver.hpp"
#include "drivers/await_answer.hpp"
#include "drivers/tcp_connection.hpp"

namespace bench {
namespace {

namespace asio = boost::asio;

int64_t fnv1a(std::string_view s) {
  uint64_t h = 1469598103934665603ull;
  for (unsigned char c : s) h = (h ^ c) * 1099511628211ull;
  return int64_t(h & 0x3fffffffffffffull);  // positive, JSON-safe
}

void put_u16(std::string& o, size_t v) {
  o += char((v >> 8) & 0xff);
  o += char(v & 0xff);
}
void put_str(std::string& o, std::string_view s) {
  put_u16(o, s.size());
  o += s;
}
std::string packet(uint8_t header, const std::string& body) {
  std::string p(1, char(header));
  size_t len = body.size();
  do {
    uint8_t b = len % 128;
    len /= 128;
    if (len) b |= 0x80;
    p += char(b);
  } while (len);
  return p + body;
}

std::atomic<uint64_t> g_conn_counter{0};

class MqttClient final : public TcpFramedConnection<MqttClient> {
  friend class TcpFramedConnection<MqttClient>;

 public:
  MqttClient(asio::io_context& ioc, const Endpoint& t, double timeout_s) : TcpFramedConnection(ioc, t, timeout_s) {}

  awaitable<void> connect(asio::ip::address source) override { co_await connect_tcp(source, /*deadline=*/false); }

  awaitable<Account> register_account(const std::string& handle) override {
    Account a;
    a.handle = a.token = handle;
    a.user_id = fnv1a(handle);
    co_await mqtt_connect(handle);
    co_return a;
  }
  awaitable<void> resume(const Account& a) override { co_await mqtt_connect(a.token); }
  // The device's session outlives its connections: a fixed client id, clean session off.
  awaitable<void> resume_lasting(const Account& a) override { co_await mqtt_connect(a.token, /*lasting=*/true); }
  awaitable<void> go_offline() override {
    write(std::string("\xe0\x00", 2));  // DISCONNECT
    co_await drain_writes();
    close();
  }

  awaitable<ChatInfo> open_direct(int64_t peer) override {
    auto [lo, hi] = std::minmax(me_, peer);
    co_return ChatInfo{fnv1a("d:" + std::to_string(lo) + ":" + std::to_string(hi)), 0};
  }
  awaitable<ChatInfo> create_group(const std::vector<int64_t>&) override {
    co_return ChatInfo{fnv1a("g:" + client_id_ + ":" + std::to_string(++groups_)), 0};
  }
  awaitable<ChatInfo> get_chat(int64_t id) override { co_return ChatInfo{id, 0}; }
  awaitable<void> join(const ChatInfo& chat) override {
    uint16_t pid = next_pid();
    std::string body;
    put_u16(body, pid);
    put_str(body, topic(chat.chat_id));
    body += char(1);  // QoS 1
    co_await wait_for([&](std::function<void(bool)> cb) { subs_[pid] = std::move(cb); }, packet(0x82, body), "subscribe");
  }
  awaitable<SyncPage> sync(const SyncCursor&, int) override { throw BenchError("unsupported", "MQTT has no sync"); }
  awaitable<HistoryPage> history(int64_t, int64_t, int) override { throw BenchError("unsupported", "MQTT has no history"); }
  awaitable<int64_t> send_wait(int64_t chat_id, std::string_view cid, std::string_view text) override {
    uint16_t pid = 0;
    std::string p = publish(chat_id, cid, text, pid);
    co_await wait_for([&](std::function<void(bool)> cb) {
      pubs_[pid] = [cb = std::move(cb)](const Ack& a) { cb(a.ok); };
    }, p, "publish");
    co_return 0;
  }

  void send(int64_t chat_id, std::string_view cid, std::string_view text, std::function<void(const Ack&)> done) override {
    if (!open_) return done(Ack{false, 0, "closed"});
    uint16_t pid = 0;
    std::string p = publish(chat_id, cid, text, pid);
    pubs_[pid] = std::move(done);
    write(p);
  }
  void mark_read(int64_t, int64_t seq, std::function<void(const Ack&)> done) override { done(Ack{true, seq, {}}); }
  void ping(std::function<void(const Ack&)> done) override {
    if (!open_) return done(Ack{false, 0, "closed"});
    pings_.push_back(std::move(done));
    write(std::string("\xc0\x00", 2));
  }
  size_t outstanding() const override { return pubs_.size() + pings_.size(); }

 private:
  static std::string topic(int64_t chat) { return "modu/" + std::to_string(chat); }

  uint16_t next_pid() {
    if (++pid_ == 0) pid_ = 1;
    return pid_;
  }

  std::string publish(int64_t chat, std::string_view cid, std::string_view text, uint16_t& pid) {
    pid = next_pid();
    std::string body;
    put_str(body, topic(chat));
    put_u16(body, pid);
    body += std::to_string(me_);
    body += ' ';
    body += cid;
    body += ' ';
    body += text;
    return packet(0x32, body);  // PUBLISH, QoS 1
  }

  awaitable<void> mqtt_connect(const std::string& account, bool lasting = false) {
    me_ = fnv1a(account);
    client_id_ = lasting ? account + ".device" : account + "." + std::to_string(getpid()) + "." + std::to_string(g_conn_counter++);
    std::string body;
    put_str(body, "MQTT");
    body += char(4);                    // protocol level 3.1.1
    body += char(lasting ? 0 : 0x02);  // clean session unless the session must last
    put_u16(body, 300);  // keepalive seconds
    put_str(body, client_id_);
    co_await wait_for([&](std::function<void(bool)> cb) { connack_ = std::move(cb); }, packet(0x10, body), "connect");
  }

  /// Sends `bytes` after `arm` stored a completion; waits for it with the request timeout.
  awaitable<void> wait_for(const std::function<void(std::function<void(bool)>)>& arm, const std::string& bytes, const char* what) {
    auto ok = co_await await_answer<bool>(ioc_, timeout_, [&](auto answer) {
      arm(answer);
      write(bytes);
    });
    if (!ok) throw BenchError("timeout", std::string(what) + ": no answer");
    if (!*ok) throw BenchError("refused", std::string(what) + " refused or connection closed");
  }

  /// Handles the complete packets received.
  void on_bytes() {
    size_t pos = 0;
    for (;;) {
      if (have_ - pos < 2) break;
      size_t len = 0, mul = 1, i = pos + 1;
      bool complete = false;
      for (; i < have_ && i < pos + 5; ++i) {
        len += size_t(uint8_t(rbuf_[i]) & 0x7f) * mul;
        mul *= 128;
        if (!(uint8_t(rbuf_[i]) & 0x80)) {
          complete = true;
          ++i;
          break;
        }
      }
      if (!complete || have_ - i < len) break;
      handle(uint8_t(rbuf_[pos]), std::string_view(rbuf_.data() + i, len));
      pos = i + len;
      if (!open_) return;
    }
    consume(pos);
  }

  static uint16_t u16(std::string_view b, size_t at) { return uint16_t((uint8_t(b[at]) << 8) | uint8_t(b[at + 1])); }

  void handle(uint8_t header, std::string_view body) {
    switch (header >> 4) {
      case 2:  // CONNACK
        if (connack_) {
          auto cb = std::move(connack_);
          connack_ = nullptr;
          cb(body.size() >= 2 && body[1] == 0);
        }
        break;
      case 9: {  // SUBACK
        if (body.size() < 3) break;
        auto it = subs_.find(u16(body, 0));
        if (it == subs_.end()) break;
        auto cb = std::move(it->second);
        subs_.erase(it);
        cb(uint8_t(body[2]) != 0x80);
        break;
      }
      case 4: {  // PUBACK
        if (body.size() < 2) break;
        auto it = pubs_.find(u16(body, 0));
        if (it == pubs_.end()) break;
        auto cb = std::move(it->second);
        pubs_.erase(it);
        cb(Ack{true, 0, {}});
        break;
      }
      case 13:  // PINGRESP
        if (!pings_.empty()) {
          auto cb = std::move(pings_.front());
          pings_.pop_front();
          cb(Ack{true, 0, {}});
        }
        break;
      case 3: {  // PUBLISH
        int qos = (header >> 1) & 3;
        if (body.size() < 2) break;
        size_t tl = u16(body, 0);
        if (body.size() < 2 + tl + (qos ? 2 : 0)) break;
        std::string_view t = body.substr(2, tl);
        size_t at = 2 + tl;
        if (qos) {
          std::string ack("\x40\x02", 2);
          ack += body.substr(at, 2);
          write(ack);
          at += 2;
        }
        std::string_view payload = body.substr(at);
        MessageEvent e;
        std::string_view chat = t.substr(t.rfind('/') + 1);
        std::from_chars(chat.data(), chat.data() + chat.size(), e.chat_id);
        size_t s1 = payload.find(' ');
        size_t s2 = s1 == std::string_view::npos ? s1 : payload.find(' ', s1 + 1);
        if (s2 == std::string_view::npos) break;
        std::from_chars(payload.data(), payload.data() + s1, e.sender_id);
        e.client_id = payload.substr(s1 + 1, s2 - s1 - 1);
        e.text = payload.substr(s2 + 1);
        e.kind = "text";
        if (handlers.on_message) handlers.on_message(e);
        break;
      }
      default:
        break;
    }
  }

  void fail_all() {
    if (connack_) {
      auto cb = std::move(connack_);
      connack_ = nullptr;
      cb(false);
    }
    auto subs = std::move(subs_);
    subs_.clear();
    for (auto& [id, cb] : subs) cb(false);
    auto pubs = std::move(pubs_);
    pubs_.clear();
    for (auto& [id, cb] : pubs) cb(Ack{false, 0, "closed"});
    auto pings = std::move(pings_);
    pings_.clear();
    for (auto& cb : pings) cb(Ack{false, 0, "closed"});
  }

  uint16_t pid_ = 0;
  int64_t me_ = 0;
  int groups_ = 0;
  std::string client_id_;
  std::function<void(bool)> connack_;
  std::unordered_map<uint16_t, std::function<void(bool)>> subs_;
  std::unordered_map<uint16_t, std::function<void(const Ack&)>> pubs_;
  std::deque<std::function<void(const Ack&)>> pings_;
};

class MqttDriver final : public Driver {
 public:
  std::string name() const override { return "mqtt"; }
  bool has_history() const override { return false; }
  bool has_server_seq() const override { return false; }
  bool has_reads() const override { return false; }
  bool pushes_missed() const override { return true; }
  std::shared_ptr<Client> make_client(asio::io_context& ioc, const Endpoint& t, double timeout_s) override {
    return std::make_shared<MqttClient>(ioc, t, timeout_s);
  }
};

}  // namespace

std::unique_ptr<Driver> make_mqtt_driver() { return std::make_unique<MqttDriver>(); }

}  // namespace bench
