#pragma once
// Landlock in the kernel: which ABI it speaks, and a ruleset
// (landlock_rules.hpp) applied to the calling thread.

#include "runtime/confine/landlock_rules.hpp"
#include "runtime/util/sys.hpp"
#include "spec/error.hpp"

namespace agentrun {

// The kernel's Landlock ABI version, 0 when unavailable (errno then says
// why: ENOSYS not built in, EOPNOTSUPP not enabled at boot).
int landlock_abi();

// Creates the ruleset, adds the rules and restricts the calling thread; the
// caller has set no_new_privs (or holds CAP_SYS_ADMIN). A rule path that does
// not exist is skipped: there is nothing to grant. Safe between fork and exec
// (allocates only to report an error).
Status apply_landlock(Sys& sys, const LandlockRuleset& ruleset);

}  // namespace agentrun
