// Serving the built web client: mapping request targets to files under a root.
#pragma once

#include <filesystem>
#include <optional>
#include <string_view>

namespace modu {

// The file to serve for `target` (path and optional query), or nullopt. Refuses anything
// that could leave the root ("..", backslashes, NUL). Paths without a file extension that
// name no file fall back to index.html, so client-side routes work on reload.
std::optional<std::filesystem::path> resolve_static(const std::filesystem::path& root,
                                                    std::string_view target);

std::string_view content_type_for(const std::filesystem::path& file);

}  // namespace modu
