#pragma once
// The mount a path is on, found without reading /proc/self/mountinfo,
// whose text the kernel builds for every mount in the namespace: on a host
// with a thousand mounts (a busy docker or Kubernetes node) reading it takes
// about a millisecond.

#include <string>

#include "runtime/util/fd.hpp"
#include "spec/error.hpp"

namespace agentrun {

// The root of the mount that `path` (resolved as the kernel resolves it,
// symlinks included) is on, as an O_PATH descriptor: the directory reached
// by climbing ".." from `path` until the mount ID (statx STATX_MNT_ID,
// Linux 5.8) would change, or "/".
Result<UniqueFd> open_mount_root(const std::string& path);

}  // namespace agentrun
