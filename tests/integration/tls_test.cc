// TLS: with --tls-cert and --tls-key the one port speaks HTTPS and WSS only.
#include <boost/asio/connect.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>
#include <boost/beast/websocket.hpp>
#include <boost/beast/websocket/ssl.hpp>

#include <cstdlib>
#include <filesystem>

#include "harness/modu_test.h"

namespace modu_it {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace websocket = beast::websocket;
namespace ssl = asio::ssl;

class TlsTest : public ModuTest {
 protected:
  static void SetUpTestSuite() {
    dir_ = std::filesystem::temp_directory_path() / ("modu-tls-" + std::to_string(::getpid()));
    std::filesystem::create_directories(dir_);
    std::string cmd = "openssl req -x509 -newkey rsa:2048 -nodes -days 1 -subj /CN=127.0.0.1 -keyout '" +
                      (dir_ / "key.pem").string() + "' -out '" + (dir_ / "cert.pem").string() +
                      "' >/dev/null 2>&1";
    ASSERT_EQ(std::system(cmd.c_str()), 0) << "openssl could not make a test certificate";
  }
  static void TearDownTestSuite() { std::filesystem::remove_all(dir_); }

  std::vector<std::string> server_args() const override {
    return {"--tls-cert", (dir_ / "cert.pem").string(), "--tls-key", (dir_ / "key.pem").string()};
  }

  static inline std::filesystem::path dir_;
};

TEST_F(TlsTest, HealthzOverHttps) {
  asio::io_context io;
  ssl::context ctx(ssl::context::tls_client);
  ctx.set_verify_mode(ssl::verify_none);  // self-signed test certificate
  beast::ssl_stream<beast::tcp_stream> stream(io, ctx);
  beast::get_lowest_layer(stream).expires_after(std::chrono::seconds(5));
  beast::get_lowest_layer(stream).connect(asio::ip::tcp::endpoint(asio::ip::make_address("127.0.0.1"), port()));
  stream.handshake(ssl::stream_base::client);
  http::request<http::empty_body> req(http::verb::get, "/healthz", 11);
  req.set(http::field::host, "127.0.0.1");
  http::write(stream, req);
  beast::flat_buffer buffer;
  http::response<http::string_body> res;
  http::read(stream, buffer, res);
  EXPECT_EQ(res.result_int(), 200);
  EXPECT_EQ(res.body(), "ok\n");
}

TEST_F(TlsTest, WebSocketOverTlsSpeaksTheProtocol) {
  asio::io_context io;
  ssl::context ctx(ssl::context::tls_client);
  ctx.set_verify_mode(ssl::verify_none);
  websocket::stream<beast::ssl_stream<beast::tcp_stream>> ws(io, ctx);
  beast::get_lowest_layer(ws).expires_after(std::chrono::seconds(5));
  beast::get_lowest_layer(ws).connect(asio::ip::tcp::endpoint(asio::ip::make_address("127.0.0.1"), port()));
  ws.next_layer().handshake(ssl::stream_base::client);
  ws.handshake("127.0.0.1", "/v1/ws");
  beast::flat_buffer buffer;
  ws.read(buffer);
  EXPECT_NE(beast::buffers_to_string(buffer.data()).find("\"event\":\"hello\""), std::string::npos);
  buffer.clear();
  ws.write(asio::buffer(std::string(R"({"id":1,"op":"ping"})")));
  ws.read(buffer);
  EXPECT_EQ(beast::buffers_to_string(buffer.data()), R"({"id":1,"ok":true,"result":{}})");
  ws.close(websocket::close_code::normal);
}

TEST_F(TlsTest, PlainHttpIsRefused) {
  // A plain-text request to the TLS port does not get an HTTP answer.
  int status = 0;
  try {
    status = http_get(port(), "/healthz", std::chrono::seconds(2)).status;
  } catch (const std::exception&) {
    // Refused or reset: also fine.
  }
  EXPECT_NE(status, 200);
}

}  // namespace
}  // namespace modu_it
