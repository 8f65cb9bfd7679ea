#include "harness/http.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cstring>
#include <sstream>
#include <stdexcept>

namespace modu_it {
namespace {

using Clock = std::chrono::steady_clock;

int connect_loopback(std::uint16_t port) {
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) throw std::runtime_error("socket() failed");
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(port);
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
    ::close(fd);
    throw std::runtime_error("connect to 127.0.0.1:" + std::to_string(port) + " failed");
  }
  return fd;
}

// Returns false when the peer closed or reset the connection.
bool send_all(int fd, std::string_view bytes) {
  while (!bytes.empty()) {
    ssize_t n = ::send(fd, bytes.data(), bytes.size(), MSG_NOSIGNAL);
    if (n < 0) {
      if (errno == EINTR) continue;
      if (errno == EPIPE || errno == ECONNRESET) return false;
      throw std::runtime_error(std::string("send failed: ") + std::strerror(errno));
    }
    bytes.remove_prefix(static_cast<std::size_t>(n));
  }
  return true;
}

// Reads until EOF/error or the deadline. Returns true on EOF or error (peer closed).
bool read_until_closed(int fd, std::string& out, Clock::time_point deadline) {
  while (true) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
    if (left.count() <= 0) return false;
    pollfd p{fd, POLLIN, 0};
    int r = ::poll(&p, 1, static_cast<int>(left.count()));
    if (r < 0 && errno == EINTR) continue;
    if (r <= 0) continue;
    char buf[8192];
    ssize_t n = ::recv(fd, buf, sizeof buf, 0);
    if (n > 0) {
      out.append(buf, static_cast<std::size_t>(n));
      continue;
    }
    if (n < 0 && errno == EINTR) continue;
    return true;
  }
}

std::string lower(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return std::tolower(c); });
  return s;
}

}  // namespace

HttpResponse http_get(std::uint16_t port, const std::string& target, std::chrono::milliseconds timeout) {
  auto deadline = Clock::now() + timeout;
  int fd = connect_loopback(port);
  std::string raw;
  try {
    (void)send_all(fd, "GET " + target + " HTTP/1.1\r\nHost: 127.0.0.1:" + std::to_string(port) +
                     "\r\nConnection: close\r\n\r\n");
    // Read until the server closes, or until a complete Content-Length body arrived.
    while (true) {
      std::string chunk;
      bool closed = read_until_closed(fd, chunk, std::min(deadline, Clock::now() + std::chrono::milliseconds(50)));
      raw += chunk;
      if (closed) break;
      auto head_end = raw.find("\r\n\r\n");
      if (head_end != std::string::npos) {
        auto head = lower(raw.substr(0, head_end));
        auto cl = head.find("content-length:");
        if (cl != std::string::npos) {
          std::size_t length = std::stoul(head.substr(cl + 15));
          if (raw.size() >= head_end + 4 + length) break;
        }
      }
      if (Clock::now() >= deadline) {
        ::close(fd);
        throw std::runtime_error("timed out reading HTTP response for " + target + "; got: " + raw);
      }
    }
  } catch (...) {
    if (fd >= 0) ::close(fd);
    throw;
  }
  ::close(fd);

  HttpResponse response;
  auto head_end = raw.find("\r\n\r\n");
  if (raw.rfind("HTTP/1.", 0) != 0 || head_end == std::string::npos)
    throw std::runtime_error("not an HTTP response for " + target + ": " + raw.substr(0, 200));
  response.status = std::stoi(raw.substr(9, 3));
  std::string head = raw.substr(0, head_end);
  std::size_t line_start = head.find("\r\n");
  while (line_start != std::string::npos) {
    line_start += 2;
    auto line_end = head.find("\r\n", line_start);
    std::string line = head.substr(line_start, line_end == std::string::npos ? std::string::npos : line_end - line_start);
    auto colon = line.find(':');
    if (colon != std::string::npos) {
      std::string value = line.substr(colon + 1);
      value.erase(0, value.find_first_not_of(' '));
      response.headers[lower(line.substr(0, colon))] = value;
    }
    line_start = line_end;
  }
  response.body = raw.substr(head_end + 4);
  if (auto te = response.headers.find("transfer-encoding");
      te != response.headers.end() && lower(te->second).find("chunked") != std::string::npos) {
    std::string decoded, &body = response.body;
    std::size_t pos = 0;
    while (pos < body.size()) {
      auto eol = body.find("\r\n", pos);
      if (eol == std::string::npos) break;
      std::size_t size = std::stoul(body.substr(pos, eol - pos), nullptr, 16);
      if (size == 0) break;
      decoded += body.substr(eol + 2, size);
      pos = eol + 2 + size + 2;
    }
    response.body = decoded;
  }
  return response;
}

RawTcpConnection::RawTcpConnection(std::uint16_t port) : fd_(connect_loopback(port)) {}
RawTcpConnection::~RawTcpConnection() {
  if (fd_ >= 0) ::close(fd_);
}
bool RawTcpConnection::send(std::string_view bytes) { return send_all(fd_, bytes); }
bool RawTcpConnection::wait_closed(std::chrono::milliseconds timeout) {
  return read_until_closed(fd_, received_, Clock::now() + timeout);
}

RawWebSocket::RawWebSocket(std::uint16_t port, const std::string& target, std::string_view after_request)
    : tcp_(port) {
  tcp_.send("GET " + target + " HTTP/1.1\r\nHost: 127.0.0.1:" + std::to_string(port) +
            "\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
            "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n" +
            std::string(after_request));
  auto deadline = Clock::now() + std::chrono::seconds(5);
  std::size_t head_end;
  while ((head_end = tcp_.received().find("\r\n\r\n")) == std::string::npos) {
    bool closed = tcp_.wait_closed(std::chrono::milliseconds(20));
    if (tcp_.received().find("\r\n\r\n") != std::string::npos) continue;
    if (closed || Clock::now() >= deadline)
      throw std::runtime_error("raw WebSocket upgrade failed: " + tcp_.received());
  }
  if (tcp_.received().rfind("HTTP/1.1 101", 0) != 0)
    throw std::runtime_error("raw WebSocket upgrade refused: " + tcp_.received().substr(0, head_end));
  consumed_ = head_end + 4;
}

std::string RawWebSocket::client_frame(int opcode, std::string_view payload, bool fin, bool masked) {
  std::string frame;
  frame += static_cast<char>((fin ? 0x80 : 0) | (opcode & 0x0f));
  const char mask_bit = masked ? static_cast<char>(0x80) : 0;
  const std::size_t n = payload.size();
  if (n < 126) {
    frame += static_cast<char>(mask_bit | n);
  } else if (n < 65536) {
    frame += static_cast<char>(mask_bit | 126);
    frame += static_cast<char>((n >> 8) & 0xff);
    frame += static_cast<char>(n & 0xff);
  } else {
    frame += static_cast<char>(mask_bit | 127);
    for (int shift = 56; shift >= 0; shift -= 8) frame += static_cast<char>((n >> shift) & 0xff);
  }
  if (!masked) return frame.append(payload);
  const unsigned char mask[4] = {0x12, 0x34, 0x56, 0x78};
  for (unsigned char m : mask) frame += static_cast<char>(m);
  for (std::size_t i = 0; i < n; ++i) frame += static_cast<char>(payload[i] ^ mask[i % 4]);
  return frame;
}

bool RawWebSocket::send_frame(int opcode, std::string_view payload, bool fin, bool masked) {
  return tcp_.send(client_frame(opcode, payload, fin, masked));
}

std::optional<RawWebSocket::Frame> RawWebSocket::next_frame(std::chrono::milliseconds timeout) {
  auto deadline = Clock::now() + timeout;
  while (true) {
    // Parse one complete server frame from what has arrived.
    const std::string& data = tcp_.received();
    if (data.size() >= consumed_ + 2) {
      auto byte = [&](std::size_t i) { return static_cast<unsigned char>(data[consumed_ + i]); };
      Frame frame;
      frame.opcode = byte(0) & 0x0f;
      frame.fin = (byte(0) & 0x80) != 0;
      frame.masked = (byte(1) & 0x80) != 0;
      std::size_t length = byte(1) & 0x7f, header = 2;
      bool complete = true;
      if (length == 126) {
        complete = data.size() >= consumed_ + 4;
        if (complete) length = (std::size_t(byte(2)) << 8) | byte(3);
        header = 4;
      } else if (length == 127) {
        complete = data.size() >= consumed_ + 10;
        if (complete) {
          length = 0;
          for (int i = 0; i < 8; ++i) length = (length << 8) | byte(2 + i);
        }
        header = 10;
      }
      if (complete && data.size() >= consumed_ + header + length) {
        frame.payload = data.substr(consumed_ + header, length);
        consumed_ += header + length;
        return frame;
      }
    }
    if (ended_ || Clock::now() >= deadline) return std::nullopt;
    ended_ = tcp_.wait_closed(std::chrono::milliseconds(20));
  }
}

int RawWebSocket::wait_close_code(std::chrono::milliseconds timeout) {
  auto deadline = Clock::now() + timeout;
  while (auto frame = next_frame(std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now()))) {
    if (frame->opcode != 0x8) continue;
    if (frame->payload.size() < 2) return 1005;
    return (int(static_cast<unsigned char>(frame->payload[0])) << 8) | static_cast<unsigned char>(frame->payload[1]);
  }
  return ended_ ? 0 : -1;
}

std::optional<double> metric_value(const std::string& text, const std::string& name) {
  std::istringstream lines(text);
  std::string line;
  std::optional<double> total;
  while (std::getline(lines, line)) {
    if (line.empty() || line[0] == '#') continue;
    std::size_t name_end = line.find_first_of(" {");
    if (name_end == std::string::npos || line.compare(0, name_end, name) != 0 || name_end != name.size()) continue;
    std::size_t value_start = line[name_end] == '{' ? line.find('}', name_end) + 1 : name_end;
    std::istringstream value_stream(line.substr(value_start));
    double value = 0;
    if (value_stream >> value) total = total.value_or(0) + value;
  }
  return total;
}

}  // namespace modu_it
