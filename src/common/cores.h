// How many cores this process may run on, which sizes the server's threads.
#pragma once

namespace modu {

// The CPUs in this process's affinity mask (taskset, a container's cpuset), at least one;
// the online CPUs when the mask cannot be read.
unsigned usable_cores();

}  // namespace modu
