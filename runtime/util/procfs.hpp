#pragma once
// Writes to /proc that cannot be redirected (runc CVE-2025-52881): through
// a handle on the root of a real procfs, opened before the container could
// touch anything, with lookups that follow no symlinks and cross no mounts,
// and each opened file checked to be on procfs before it is written.

#include <string>

#include "runtime/util/fd.hpp"
#include "spec/error.hpp"

namespace agentrun {

// The procfs mounted at `path` (the host's /proc, seen from the init before pivot_root).
Result<UniqueFd> open_procfs(const std::string& path);

// Writes `value` to <procfs>/<relative>, e.g. "sys/net/ipv4/ip_forward".
Status write_proc_file(int procfs, const std::string& relative, const std::string& value,
                       const std::string& step);

// "<pid>" of the calling process as that procfs numbers it.
Result<std::string> proc_self_name(int procfs);

}  // namespace agentrun
