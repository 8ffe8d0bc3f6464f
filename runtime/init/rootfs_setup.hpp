#pragma once
// What the steps that build the container's file system share (rootfs,
// devices, terminal), as container_init hands it from one to the next.

#include <string>
#include <vector>

#include "runtime/plan/plan.hpp"
#include "runtime/util/fd.hpp"
#include "runtime/util/sys.hpp"

namespace agentrun {

struct RootfsSetup {
  Sys& sys;
  const Plan& plan;
  UniqueFd root;      // O_PATH: the rootfs before pivot_root, "/" after it
  UniqueFd dev_null;  // O_PATH: the host's /dev/null, checked to be char 1:3
  std::string own_cgroups;  // /proc/self/cgroup as the host sees it, read before the cgroup namespace
  std::vector<std::string> blocked;  // path entries denyExec covered, for the runtime's report
  std::vector<UniqueFd> bind_sources;  // from open_bind_sources, by mount; empty: opened here
};

}  // namespace agentrun
