// Plain HTTP endpoints (/healthz, /metrics, /v1/info), the Origin check at the WebSocket
// upgrade, and the handshake and idle timeouts (docs/protocol.md, top and "Limits").
#include <memory>
#include <thread>
#include <vector>

#include "harness/modu_test.h"

namespace modu_it {
namespace {

using Clock = std::chrono::steady_clock;

class HttpTest : public ModuTest {};

TEST_F(HttpTest, HealthzIsOk) {
  HttpResponse r = http_get(port(), "/healthz");
  EXPECT_EQ(r.status, 200);
  EXPECT_NE(r.body.find("ok"), std::string::npos) << r.body;
}

TEST_F(HttpTest, InfoReportsServerAndProtocol) {
  HttpResponse r = http_get(port(), "/v1/info");
  ASSERT_EQ(r.status, 200);
  JsonRef info = JsonRef::parse(r.body);
  EXPECT_EQ(info["server"].str(), "modu");
  EXPECT_EQ(info["protocol"].i64(), 1);
  EXPECT_FALSE(info["version"].str().empty());
}

TEST_F(HttpTest, MetricsCountConnectionsAndStoredMessages) {
  auto alice = new_user("alice");
  auto bob = new_user("bob");
  std::int64_t chat = direct_chat(*alice, bob.id())["chat_id"].i64();
  for (int i = 0; i < 3; ++i) send_text(*alice, chat, "counted " + std::to_string(i));

  HttpResponse r = http_get(port(), "/metrics");
  ASSERT_EQ(r.status, 200);
  EXPECT_NE(r.body.find("modu_connections"), std::string::npos) << r.body;
  EXPECT_NE(r.body.find("modu_messages_stored_total"), std::string::npos) << r.body;
  auto connections = metric_value(r.body, "modu_connections");
  ASSERT_TRUE(connections.has_value()) << r.body;
  EXPECT_GE(*connections, 2) << "alice and bob are connected";
  auto stored = metric_value(r.body, "modu_messages_stored_total");
  ASSERT_TRUE(stored.has_value()) << r.body;
  EXPECT_GE(*stored, 3);

  // Closed connections are no longer counted.
  alice.client.reset();
  bob.client.reset();
  std::optional<double> after;
  for (auto until = Clock::now() + 3s; Clock::now() < until; std::this_thread::sleep_for(50ms)) {
    after = metric_value(http_get(port(), "/metrics").body, "modu_connections");
    if (after && *after <= *connections - 2) break;
  }
  ASSERT_TRUE(after.has_value());
  EXPECT_LE(*after, *connections - 2);
}

// The value of one labelled series ("name{labels}") on a /metrics page, if present.
std::optional<double> labelled_value(const std::string& page, const std::string& series) {
  std::size_t at = page.find("\n" + series + " ");
  if (at == std::string::npos) return std::nullopt;
  return std::stod(page.substr(at + series.size() + 2));
}

TEST_F(HttpTest, MetricsTimeEachOperationAsked) {
  auto alice = new_user("alice");
  auto bob = new_user("bob");
  std::int64_t chat = direct_chat(*alice, bob.id())["chat_id"].i64();
  for (int i = 0; i < 4; ++i) send_text(*alice, chat, "timed " + std::to_string(i));
  EXPECT_EQ(alice->error("no.such.op"), "unknown_op");

  std::string page = http_get(port(), "/metrics").body;
  EXPECT_NE(page.find("# TYPE modu_request_seconds histogram\n"), std::string::npos) << page;
  auto sends = labelled_value(page, R"(modu_request_seconds_count{op="messages.send"})");
  ASSERT_TRUE(sends.has_value()) << page;
  EXPECT_EQ(*sends, 4);
  auto all_sends = labelled_value(page, R"(modu_request_seconds_bucket{op="messages.send",le="+Inf"})");
  ASSERT_TRUE(all_sends.has_value()) << page;
  EXPECT_EQ(*all_sends, 4);
  auto seconds = labelled_value(page, R"(modu_request_seconds_sum{op="messages.send"})");
  ASSERT_TRUE(seconds.has_value()) << page;
  EXPECT_GT(*seconds, 0) << "a send waits for its commit";
  // Operations never asked for, and names no operation has, get no series.
  EXPECT_EQ(page.find(R"(op="messages.delete")"), std::string::npos) << page;
  EXPECT_EQ(page.find("no.such.op"), std::string::npos) << page;
}

TEST_F(HttpTest, ConnectionWithoutOriginIsAccepted) {
  auto client = connect();
  EXPECT_EQ(client->hello()["event"].str(), "hello");
}

TEST_F(HttpTest, ForeignBrowserOriginIsRefusedWith403) {
  for (const char* origin : {"http://evil.test", "null", "http://127.0.0.1.evil.test"}) {
    try {
      Client client(port(), ClientOptions{.origin = origin});
      ADD_FAILURE() << "the upgrade from Origin " << origin << " was accepted";
    } catch (const HandshakeRefused& refused) {
      EXPECT_EQ(refused.status, 403) << origin;
    }
  }
  // The server is unaffected.
  connect()->register_user("alice");
}

TEST_F(HttpTest, OwnHostOriginIsAccepted) {
  Client client(port(), ClientOptions{.origin = "http://127.0.0.1:" + std::to_string(port())});
  client.register_user("alice");
}

// Connections that arrive together wait in the kernel's accept queue until the server takes
// them, one by one, dealing them out to its loops (two here). Every one must be served.
TEST_F(HttpTest, ConnectionsArrivingTogetherAreAllServed) {
  constexpr int kConnections = 300;
  std::vector<std::unique_ptr<RawTcpConnection>> connections;
  for (int i = 0; i < kConnections; ++i) connections.push_back(std::make_unique<RawTcpConnection>(port()));
  for (auto& c : connections)
    ASSERT_TRUE(c->send("GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n"));
  int served = 0;
  for (auto& c : connections) {
    EXPECT_TRUE(c->wait_closed(5s));
    if (c->received().starts_with("HTTP/1.1 200")) ++served;
  }
  EXPECT_EQ(served, kConnections);
}

class HttpAllowOriginTest : public ModuTest {
  std::vector<std::string> server_args() const override {
    return {"--allow-origin", "http://example.test", "--allow-origin", "https://app.example.test"};
  }
};

TEST_F(HttpAllowOriginTest, ListedOriginsAreAcceptedOthersRefused) {
  Client listed(port(), ClientOptions{.origin = "http://example.test"});
  listed.register_user("alice");
  Client second(port(), ClientOptions{.origin = "https://app.example.test"});
  second.register_user("bob");
  for (const char* origin : {"http://evil.test", "http://example.test.evil.test", "https://example.test"}) {
    try {
      Client client(port(), ClientOptions{.origin = origin});
      ADD_FAILURE() << "upgrade from " << origin << " was accepted";
    } catch (const HandshakeRefused& refused) {
      EXPECT_EQ(refused.status, 403) << origin;
    }
  }
}

class HttpTimeoutsTest : public ModuTest {
  std::vector<std::string> server_args() const override {
    return {"--handshake-timeout", "1", "--idle-timeout", "2"};
  }
};

TEST_F(HttpTimeoutsTest, PartialHandshakeIsClosedWithinHandshakeTimeout) {
  RawTcpConnection slow(port());
  auto started = Clock::now();
  slow.send("GET /v1/ws HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\n");
  EXPECT_TRUE(slow.wait_closed(4s)) << "a partial request must not hold the connection";
  EXPECT_LT(Clock::now() - started, 3500ms);
}

TEST_F(HttpTimeoutsTest, TricklingHandshakeIsClosedWithinHandshakeTimeout) {
  RawTcpConnection slow(port());
  auto started = Clock::now();
  const std::string request = "GET /v1/ws HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Padding: aaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\r\n";
  bool closed = false;
  for (std::size_t i = 0; i < request.size() && Clock::now() - started < 5s; ++i) {
    if (!slow.send(request.substr(i, 1)) || slow.wait_closed(150ms)) {
      closed = true;
      break;
    }
  }
  EXPECT_TRUE(closed) << "one byte at a time must not keep the handshake alive";
  EXPECT_LT(Clock::now() - started, 3500ms);
}

TEST_F(HttpTimeoutsTest, SilentTcpConnectionIsClosed) {
  RawTcpConnection silent(port());
  EXPECT_TRUE(silent.wait_closed(4s));
}

TEST_F(HttpTimeoutsTest, IdleWebSocketIsClosedActiveOneIsNot) {
  auto idle = new_user("alice");
  auto active = new_user("bob");
  // bob sends a request every 250 ms for twice the idle timeout; alice neither sends nor
  // answers pings meanwhile (her socket is not read).
  auto until = Clock::now() + 4s;
  while (Clock::now() < until) {
    active->ok("ping");
    std::this_thread::sleep_for(250ms);
  }
  EXPECT_TRUE(active->is_open());
  CloseInfo closed = idle->wait_closed(3s);
  EXPECT_TRUE(closed.closed) << "an idle connection is closed after --idle-timeout 2";
  active->ok("ping");
}

TEST_F(HttpTimeoutsTest, ListeningConnectionThatAnswersPingsStaysOpen) {
  // A client that sends nothing but keeps reading (our WebSocket client answers the
  // server's pings with pongs while it reads) is alive, e.g. an open app waiting for events.
  auto listener = new_user("alice");
  listener->pump(5s);
  EXPECT_TRUE(listener->is_open()) << "closed although it answered every ping";
  listener->ok("ping");
}

}  // namespace
}  // namespace modu_it
