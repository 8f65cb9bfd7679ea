#include "net/websocket/handshake.h"

#include <openssl/evp.h>
#include <openssl/sha.h>

#include <array>

namespace modu::websocket {

std::optional<std::string> accept_value(std::string_view client_key) {
  // 16 random bytes in base64: 22 characters and "==" (§4.1).
  if (client_key.size() != 24 || client_key.substr(22) != "==") return std::nullopt;
  std::array<unsigned char, 18> decoded;
  if (EVP_DecodeBlock(decoded.data(), reinterpret_cast<const unsigned char*>(client_key.data()), 24) != 18)
    return std::nullopt;
  static constexpr std::string_view kGuid = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11";
  std::string joined;
  joined.reserve(client_key.size() + kGuid.size());
  joined.append(client_key).append(kGuid);
  std::array<unsigned char, SHA_DIGEST_LENGTH> digest;
  SHA1(reinterpret_cast<const unsigned char*>(joined.data()), joined.size(), digest.data());
  std::array<unsigned char, 4 * ((SHA_DIGEST_LENGTH + 2) / 3) + 1> encoded;
  int n = EVP_EncodeBlock(encoded.data(), digest.data(), SHA_DIGEST_LENGTH);
  return std::string(reinterpret_cast<const char*>(encoded.data()), static_cast<std::size_t>(n));
}

std::string switching_protocols_response(std::string_view accept) {
  std::string out =
      "HTTP/1.1 101 Switching Protocols\r\n"
      "Upgrade: websocket\r\n"
      "Connection: Upgrade\r\n"
      "Server: modu\r\n"
      "Sec-WebSocket-Accept: ";
  out.append(accept).append("\r\n\r\n");
  return out;
}

}  // namespace modu::websocket
