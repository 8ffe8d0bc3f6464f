#pragma once
// Where a host mounts its cgroup hierarchies. v1: one hierarchy per controller (or per comounted group); v2: one
// unified hierarchy; hybrid: both, the unified one usually with few or no
// controllers. Plain data: host_layout.hpp reads it from the host.

#include <map>
#include <set>
#include <string>

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

inline const char* cgroup_mode_name(CgroupMode m) {  // "v1", "hybrid", "v2"
  switch (m) {
    case CgroupMode::v1: return "v1";
    case CgroupMode::hybrid: return "hybrid";
    case CgroupMode::v2: return "v2";
  }
  return "?";
}

}  // namespace agentrun
