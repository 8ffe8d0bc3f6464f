#pragma once
// One function per command of the command line; each returns the exit code.

#include "runtime/cgroup/manager.hpp"
#include "runtime/cli/command_line.hpp"
#include "runtime/container/launch.hpp"

namespace agentrun {

// What main chooses for the commands below it: the host's cgroup drivers,
// and the entries of the container's init and of a process `exec` starts
// (init/container_init.hpp).
struct Wiring {
  const CgroupDrivers& cgroups;
  InitEntry container_init;
  InitEntry exec_init;
};

int run_command(const CommandLine& cl, const Wiring& wiring);

}  // namespace agentrun
