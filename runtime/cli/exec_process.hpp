#pragma once
// The process `exec` starts, as runc builds it: the description in
// --process, or else the container's own process with the command line's
// arguments, environment, cwd, user, groups, capabilities and terminal.

#include <functional>

#include "runtime/cli/command_line.hpp"
#include "runtime/policy/process_origin.hpp"
#include "spec/config.hpp"

namespace agentrun {

// `container_process` is asked for only without --process. Throws Failure
// naming the flag for a bad value.
spec::Process exec_process(const CommandLine& cl, const std::function<spec::Process()>& container_process);

// Where that process's settings came from, for the policy's refusals: the
// --process file, or the flags given.
policy::ProcessOrigin exec_process_origin(const CommandLine& cl);

}  // namespace agentrun
