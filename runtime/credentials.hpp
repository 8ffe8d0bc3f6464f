#pragma once
// The user and capabilities of the container's process, in runc's order:
// drop the bounding set, keep capabilities across the uid change, set
// groups, gid and uid, then set effective/permitted/inheritable and the
// ambient set. Inheritable and ambient are empty unless the plan has them
// (crun CVE-2022-27650, runc CVE-2022-29162).

#include "spec/error.hpp"
#include "runtime/plan.hpp"
#include "runtime/sys.hpp"

namespace agentrun {

Status apply_credentials(Sys& sys, const ProcessPlan& p, int last_cap);

}  // namespace agentrun
