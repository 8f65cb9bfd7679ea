// The server's half of the opening handshake (RFC 6455 §4.2.2), after the HTTP layer has
// parsed the upgrade request and checked its path and Origin (net/http_session.h).
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace modu::websocket {

// The only protocol version there is (§4.1); a request for another one is answered with
// 426 and this version in `Sec-WebSocket-Version`.
inline constexpr std::string_view kVersion = "13";

// `Sec-WebSocket-Accept` for a client's `Sec-WebSocket-Key`: base64(SHA-1(key + GUID)).
// Empty if the key is not the base64 form of 16 bytes.
std::optional<std::string> accept_value(std::string_view client_key);

// The whole `101 Switching Protocols` response for `accept` (no extension, no subprotocol).
std::string switching_protocols_response(std::string_view accept);

}  // namespace modu::websocket
