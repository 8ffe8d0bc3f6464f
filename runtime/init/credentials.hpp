#pragma once
// The user and capabilities of the container's process, in runc's order:
// drop the bounding set, keep capabilities across the uid change, set
// groups, gid and uid, then set effective/permitted/inheritable and the
// ambient set. Inheritable and ambient are empty unless the plan has them
// (crun CVE-2022-27650, runc CVE-2022-29162).

#include "runtime/plan/plan.hpp"
#include "runtime/util/sys.hpp"
#include "spec/error.hpp"

namespace agentrun {

// `held` capabilities are kept effective and permitted on top of the
// process's own sets, and its ambient set is left empty, until
// set_capabilities(p.caps) gives the process exactly its own: loading a
// seccomp filter without no_new_privs needs CAP_SYS_ADMIN after the user
// change.
Status apply_credentials(Sys& sys, const ProcessPlan& p, int last_cap, uint64_t held = 0);

// Effective, permitted and inheritable sets, then the ambient set.
Status set_capabilities(Sys& sys, const CapSets& caps, int last_cap);

}  // namespace agentrun
