#pragma once
// The container's directories and files as create will mount them, read
// before anything is mounted: for denyRead patterns with wildcards
// (deny_globs) and the .git/config files protectRepoHooks finds.

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
// The regular file `path` (absolute), found the same way (its links
// resolved inside that source or the rootfs), at most kMaxInputBytes; nullopt if
// it cannot be read.
std::optional<std::string> read_container_file(const spec::Config& config, const std::string& rootfs,
                                               const std::string& path);

}  // namespace agentrun::policy
