#pragma once
// The container's init: runs in the container's namespaces, sets up
// everything the plan says in runc's order, reports "ready" (or the first
// error) to `create`, waits for `start`, and only then executes the user's
// process. After a failed step the user's process is never executed.

#include <string>
#include <vector>

#include "runtime/init/sync.hpp"
#include "runtime/plan/plan.hpp"
#include "runtime/util/sys.hpp"

namespace agentrun {

// Everything before "ready". On success `executable` and `env` hold what
// will be executed.
struct Prepared {
  std::string executable;
  std::vector<std::string> env;
  int host_pid = 0;
};
Result<Prepared> prepare_container(Sys& sys, const Plan& plan, InitIo& io);

// Waits for `start`, runs startContainer hooks and executes the process.
// Returns only on failure, with the error already sent to `start`.
Error start_container(Sys& sys, const Plan& plan, InitIo& io, const Prepared& prepared);

[[noreturn]] void container_init(Sys& sys, const Plan& plan, InitIo io);

// A process `exec` starts in a running container, after joining its
// namespaces: the plan's process setup without the file-system setup. The
// sync channel closes on a successful exec and carries the error otherwise.
[[noreturn]] void exec_init(Sys& sys, const Plan& plan, InitIo io);

// $PATH lookup as runc does it (and with runc's wording, which docker maps
// to exit codes 126 and 127). `path_env` is the process's PATH value.
Result<std::string> find_executable(const std::string& name, const std::string& path_env);

}  // namespace agentrun
