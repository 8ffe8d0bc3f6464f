#pragma once
// The mount calls the init's file system, devices, terminal and cgroup
// mounts share: the new mount API on descriptors, through Sys.

#include <string>

#include "runtime/confine/mount_options.hpp"
#include "runtime/util/fd.hpp"
#include "runtime/util/sys.hpp"
#include "spec/error.hpp"

namespace agentrun {

// Moves the detached tree `tree` onto `target`.
Status attach(Sys& sys, int tree, int target, const std::string& step);
Status set_mount_attrs(Sys& sys, int tree, const MountAttrs& attrs, bool recursive,
                       const std::string& step);
// A detached bind mount of `fd` (OPEN_TREE_CLONE).
Result<UniqueFd> clone_mount(Sys& sys, int fd, bool recursive, const std::string& step);

}  // namespace agentrun
