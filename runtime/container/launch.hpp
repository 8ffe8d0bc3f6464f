#pragma once
// Starting a container's processes, `create`'s side.
//
//   create ──fork──> stage 1: joins namespaces by path (its user namespace
//                    first), creates a user namespace (create writes the id
//                    maps), unshares the other namespaces, then clones
//   create <─parent─ init (CLONE_PARENT): pid 1 of the new pid namespace,
//                    the container_init.
//
// Stage 1 is needed because a new pid or time namespace only applies to
// children. The init is the create process's child, so create can reap it
// if setup fails; after create exits it belongs to the caller's subreaper
// (containerd's shim), as with runc.

#include <sys/types.h>

#include <functional>
#include <string>
#include <vector>

#include "runtime/init/container_init.hpp"
#include "runtime/plan/plan.hpp"

namespace agentrun {

struct LaunchIo {
  int console_socket = -1;
  int start_listener = -1;
  bool exec = false;  // a process for `exec`: joins, never creates, and executes at once
  // A cgroup2 directory to clone the init into (CLONE_INTO_CGROUP), or -1.
  int cgroup_fd = -1;
  // Puts the init into the container's cgroups, before it may go on;
  // `born_in`: it was cloned into cgroup_fd.
  std::function<void(pid_t, bool born_in)> join_cgroup;
  // The runtime's own work that can wait until the init is in its cgroups
  // and finishing its set-up (create: saving state files).
  std::function<void()> while_init_sets_up;
};

struct Launched {
  pid_t pid = 0;
  uint64_t start_time = 0;  // /proc/<pid>/stat field 22, to recognise the process later
  std::vector<std::string> blocked;  // executables the init covered (denyExec)
};

// Runs until the init reports "ready". On failure every process it started
// is killed and reaped and Failure is thrown with the init's own error.
Launched launch_container(const Plan& plan, const LaunchIo& io);

// Start time of a process (clock ticks since boot), 0 if it does not exist.
uint64_t process_start_time(pid_t pid);

}  // namespace agentrun
