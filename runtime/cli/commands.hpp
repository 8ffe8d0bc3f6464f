#pragma once
// One function per command of the command line; each returns the exit code.

#include <optional>
#include <string>

#include "runtime/cgroup/manager.hpp"
#include "runtime/cli/command_line.hpp"
#include "runtime/container/store.hpp"

namespace agentrun {

// Every command but create, run and exec, which main runs itself. `cgroups`
// (chosen by main) loads a container's cgroups from its state.
int run_command(const CommandLine& cl, const CgroupDrivers& cgroups);

// The state root (--root) and the policy (--policy) the command line gives.
Store store_of(const CommandLine& cl);
std::optional<std::string> global_policy(const CommandLine& cl);

}  // namespace agentrun
