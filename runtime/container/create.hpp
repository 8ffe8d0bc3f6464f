#pragma once
// `create`: config.json → validated config → plan → state directory →
// the container's processes, stopped before the user's process. On any
// failure nothing is left: no state directory, no process (the init's mount
// namespace and everything mounted in it die with it).

#include <optional>
#include <string>

#include "runtime/container/launch.hpp"
#include "runtime/container/store.hpp"
#include "runtime/util/fd.hpp"
#include "spec/config.hpp"

namespace agentrun {

struct CreateRequest {
  std::string id;
  std::string bundle;          // as given; made absolute here
  std::string console_socket;  // path, or empty
  int console_fd = -1;         // an already connected console socket (run's own pty), or -1
  std::string pid_file;
  bool no_pivot = false;
  bool no_new_keyring = false;
  int preserve_fds = 0;
  bool systemd_cgroup = false;  // --systemd-cgroup: cgroupsPath is slice:prefix:name
  std::optional<std::string> policy;  // --policy
  // `run`: the guard that only logs is left to `run` (start_logger after
  // start, or DeferredLogger in the foreground).
  bool defer_logger = false;
  // `run`: the init starts the process as soon as it is ready, where
  // nothing waits between create and start (may_start_at_ready, no guard
  // to wait for, no pid file); Created::started says whether it did.
  bool start_at_ready = false;
};

struct Created {
  ContainerRecord record;
  // As the container runs it: the policy applied. Its hooks and its seccomp
  // listener are those the init and `start` act on.
  spec::Config config;
  bool terminal = false;  // the process has a terminal
  bool started = false;   // the process was started already (start_at_ready)
  // The log group bound for a guard that only logs, when the request
  // deferred it, for start_logger or DeferredLogger (egress_guard.hpp).
  UniqueFd logger;
};

// `cgroups` makes the container's cgroups and `init_entry` is the entry of its
// init (container_init), both chosen by main.
Created create_container(const Store& store, const CreateRequest& request, const CgroupDrivers& cgroups,
                         InitEntry init_entry);

// The absolute host path of the container's root.
std::string rootfs_of(const std::string& bundle, const spec::Config& config);

// Writes the pid beside `path` and renames it into place.
void write_pid_file(const std::string& path, pid_t pid);

// Parses "--preserve-fds" and checks that each of those descriptors is open.
int parse_preserve_fds(const std::string& value);

}  // namespace agentrun
