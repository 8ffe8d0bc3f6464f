#pragma once
// Where this host mounts its cgroup hierarchies, and which cgroup a process
// is in. v1: one hierarchy per controller (or per comounted group); v2: one
// unified hierarchy; hybrid: both, the unified one usually with few or no
// controllers.

#include <map>
#include <set>
#include <string>
#include <vector>

#include "runtime/util/mountinfo.hpp"

namespace agentrun {

enum class CgroupMode { v1, hybrid, v2 };

struct CgroupLayout {
  CgroupMode mode = CgroupMode::v2;
  // controller name ("memory", "cpu", "name=systemd") -> mount point
  std::map<std::string, std::string> v1;
  std::string unified;  // cgroup2 mount point, empty if none
  std::set<std::string> unified_controllers;
  // cgroup v2 alone, filled by mark_blocked_controllers: controllers of
  // unified_controllers that cannot be enabled for a container beside the
  // caller's cgroup (where a relative or default cgroupsPath goes), with the reason.
  std::map<std::string, std::string> unified_blocked;
};

const char* cgroup_mode_name(CgroupMode m);  // "v1", "hybrid", "v2"

// Throws Failure when no cgroup file system is mounted.
CgroupLayout parse_cgroup_layout(const std::vector<MountInfo>& mounts, const std::string& unified_controllers_text);
// Reads /proc/self/mountinfo and <unified>/cgroup.controllers.
CgroupLayout detect_cgroup_layout();

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
