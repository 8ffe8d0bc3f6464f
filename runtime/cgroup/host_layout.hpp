#pragma once
// This host's cgroup layout (layout.hpp), read from its mounts, and which
// cgroup a process is in.

#include <map>
#include <string>
#include <vector>

#include "runtime/cgroup/layout.hpp"
#include "runtime/util/mountinfo.hpp"

namespace agentrun {

// Throws Failure when no cgroup file system is mounted.
CgroupLayout parse_cgroup_layout(const std::vector<MountInfo>& mounts, const std::string& unified_controllers_text);
// Reads /proc/self/mountinfo and <unified>/cgroup.controllers. Given
// `cgroup_mounts`, adds the cgroup and cgroup2 mounts it read there. The
// usual cgroup v2 host needs no mountinfo (whose cost grows with every
// mount on the host): the caller is in no v1 hierarchy, and /sys/fs/cgroup
// is a cgroup2 mount of the hierarchy's root.
CgroupLayout detect_cgroup_layout(std::vector<MountInfo>* cgroup_mounts = nullptr);
// Whether /proc/self/cgroup (`text`) names the unified hierarchy alone.
bool in_unified_hierarchy_only(const std::string& text);

// Fills layout.unified_blocked (cgroup v2 alone): only what the cgroupfs
// driver's create and preflight need, so exec and the systemd driver do not
// pay for the reads.
void mark_blocked_controllers(CgroupLayout& layout);

// Why `controller` cannot be enabled for the children of `dir` (a cgroup2
// directory below the mount point `root`), or "" when it can: dir already
// passes it down, or it can be enabled downwards from the nearest ancestor
// that has it without a cgroup on the way that holds processes (cgroup v2
// lets only the root and cgroups without processes pass controllers down).
std::string v2_delegation_gap(const std::string& root, const std::string& dir, const std::string& controller);

// /proc/<pid>/cgroup: controller -> path. Comounted controllers
// ("2:cpu,cpuacct:/x") give one entry each; the v2 line ("0::/x") gives key "".
std::map<std::string, std::string> parse_proc_cgroup(const std::string& text);

}  // namespace agentrun
