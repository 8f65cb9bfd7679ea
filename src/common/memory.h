// How much memory this process may use, which sizes the server's caches.
#pragma once

#include <cstdint>
#include <string_view>

namespace modu {

// The machine's physical memory, or the memory limit of this process's control group or
// of a group above it (a container's or a systemd slice's; cgroup v1 or v2) when that is
// lower. 0 when neither can be read.
std::uint64_t usable_memory_bytes();

// A control group's memory limit file as the kernel writes it ("max\n" or a number of
// bytes): the limit, or 0 when there is none or the text is not a number.
std::uint64_t parse_cgroup_memory_limit(std::string_view text);

}  // namespace modu
