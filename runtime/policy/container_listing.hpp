#pragma once
// The container's directories as create will mount them, listed before
// anything is mounted: for denyRead patterns with wildcards (deny_globs).

#include <optional>
#include <string>
#include <vector>

#include "runtime/policy/deny_globs.hpp"
#include "spec/config.hpp"

namespace agentrun::policy {

// The entries of the container's directory `dir` (absolute): below a bind
// mount's destination, its source's; below a mount of another type, none
// (a tmpfs is empty at create, procfs and sysfs are not searched);
// elsewhere the rootfs's, resolved inside it. Mount points directly below
// `dir` are listed as directories. Links are entries, never followed.
std::optional<std::vector<DirEntry>> list_container_dir(const spec::Config& config, const std::string& rootfs,
                                                       const std::string& dir);

}  // namespace agentrun::policy
