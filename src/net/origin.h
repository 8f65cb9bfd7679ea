// Cross-site WebSocket hijacking defence: which browser Origins may open a socket.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace modu {

// True when a WebSocket upgrade with this Origin header may proceed: no Origin at all (a
// native client), an Origin whose host[:port] equals the request's Host header (the web
// client served by this server), or one listed exactly in `allowed` ("*" allows all).
bool origin_allowed(std::string_view origin, std::string_view host,
                    const std::vector<std::string>& allowed);

}  // namespace modu
