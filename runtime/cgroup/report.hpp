#pragma once
// What `preflight` says about cgroups: the host's layout, whether the
// driver `create` would use works here, and the controllers a container's
// limits can use. Built from the probes create itself relies on.

#include <string>
#include <vector>

#include "runtime/cgroup/layout.hpp"

namespace agentrun {

struct CgroupReport {
  std::string layout;  // "v1", "hybrid", "v2", with the mount points
  std::string driver;  // "cgroupfs", "systemd"
  bool usable = true;
  std::string detail;  // the systemd version and helper, or why the driver cannot work
  std::vector<std::string> controllers;  // usable by a container's limits
};

// `systemd`: --systemd-cgroup. Asks systemd (through agentrun-systemd) when set.
CgroupReport report_cgroups(const CgroupLayout& layout, bool systemd);

std::string cgroup_report_text(const CgroupReport& r);
std::string cgroup_report_json(const CgroupReport& r);

}  // namespace agentrun
