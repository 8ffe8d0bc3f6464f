#pragma once
// The plan's seccomp filters compiled for the init, for `create` and `exec`:
// the plan holds profiles, and compiling them is the one step of planning
// that touches the system (libseccomp, and the cache of compiled filters
// under the state root).

#include <string>

#include "runtime/plan/plan.hpp"

namespace agentrun {

// Compiles each filter of `plan` not compiled yet (the built-in ones are)
// through the cache under `state_root`, then checks that each lets through
// what the init does after loading it (seccomp_sequence.hpp). Throws
// Failure naming the filter.
void compile_seccomp_filters(Plan& plan, const std::string& state_root);

}  // namespace agentrun
