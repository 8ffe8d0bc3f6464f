#pragma once
// Which driver keeps a container's cgroups: cgroupfs (v1 and hybrid, or v2)
// or systemd, chosen at create and read back from the container's state.

#include <memory>
#include <string>

#include "runtime/cgroup/cgroup_fs.hpp"
#include "runtime/cgroup/manager.hpp"

namespace agentrun {

// Chooses the driver from the request and the host's layout. No effects.
std::unique_ptr<CgroupManager> plan_cgroups(const CgroupRequest& request, std::shared_ptr<CgroupFs> fs = nullptr);
// The manager a container's state describes (CgroupManager::to_json).
std::unique_ptr<CgroupManager> load_cgroups(const std::string& json, std::shared_ptr<CgroupFs> fs = nullptr);

// The two above on the host's cgroup file system, as the interface the
// container wing takes.
const CgroupDrivers& host_cgroup_drivers();

}  // namespace agentrun
