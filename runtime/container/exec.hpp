#pragma once
// `exec`: a new process in a created or running container. The process is
// exec's own (--process, or the container's with the command line's
// changes, checked against the policy's rules for processes); everything
// else — the namespaces it joins, its root, seccomp filters, Landlock — is
// what create decided for every process of the container and stored
// (stored_plan.hpp): nothing is derived again.

#include <memory>
#include <string>

#include "runtime/container/launch.hpp"
#include "runtime/container/store.hpp"
#include "runtime/container/stored_plan.hpp"
#include "runtime/policy/process_policy.hpp"
#include "spec/config.hpp"

namespace agentrun {

// The container exec enters, and what its create decided.
struct ExecTarget {
  ContainerRecord record;
  std::unique_ptr<CgroupManager> cgroup;  // null for a container without cgroups
  StoredPlan plan;
  std::string plan_file;  // where the plan came from, for messages
};

// Fails for a container that is neither created nor running (nor paused,
// with `ignore_paused`), for a created one whose init still runs the
// runtime from a writable file, and for one without a plan this binary
// reads: created by an agentrun that stored none (before plan.json) or
// another version of it. Such a container has to be created again.
// `cgroups` loads the container's cgroups from its state.
ExecTarget exec_target(const Store& store, const CgroupDrivers& cgroups, const std::string& id, bool ignore_paused);

struct ExecOptions {
  policy::ProcessOrigin origin;  // where the process's settings came from, for refusals
  std::string console_socket;
  int console_fd = -1;  // the runtime's own pty socket, for a terminal in the foreground
  int preserve_fds = 0;
};

// Starts `process` in the container: it joins every namespace of the
// container and is confined as its first process. Returns once the process
// executes (it is this process's child), or throws. `init_entry` is the entry of
// the process's side (exec_init), chosen by main.
Launched exec_in_container(const ExecTarget& target, spec::Process process, const ExecOptions& options,
                           InitEntry init_entry);

}  // namespace agentrun
