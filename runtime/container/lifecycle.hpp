#pragma once
// What `start`, `kill` and `delete` do to a container that exists, shared
// by those commands and by `run`. `cgroups` loads a container's cgroups
// from its state (main hands down the host's drivers).

#include <string>
#include <vector>

#include "runtime/cgroup/manager.hpp"
#include "runtime/container/store.hpp"
#include "runtime/policy/policy.hpp"
#include "spec/config.hpp"

namespace agentrun {

// The config.json the container was created from.
spec::Config stored_config(const Store& store, const std::string& id);

// The policy the container was created with (the effective one, merged with
// the floor): what caps its updates.
policy::Policy stored_policy(const Store& store, const std::string& id);

// A container this process has just created (run): its record, and its
// config as create applied it (Created). Neither is read again.
struct KnownContainer {
  const ContainerRecord& record;
  const spec::Config& config;
};

// Releases a created container's init to execute the user's process and
// runs the poststart hooks. An error from the init (a failing
// startContainer hook, a failed exec) is thrown with its own message.
void start_created_container(const Store& store, const CgroupDrivers& cgroups, const std::string& id,
                             const KnownContainer* created = nullptr);

// Sends `signal` to the container's init, or with `all` to every process of
// the container. The container must be created or running.
void kill_container(const Store& store, const CgroupDrivers& cgroups, const std::string& id, int signal, bool all);

// Removes a container: kills it first when it is created, or when it is
// running and `force` is given; then runs the poststop hooks and removes
// its state. A missing container is an error unless `force`. When
// state.json is missing, unreadable or not this container's, what create
// recorded as it acquired it (Store::acquired) is freed instead. Fails,
// naming each, when something could not be freed or its record could not
// be read; the state directory is then kept. `reaped`: a container whose
// init this process has reaped (run).
void delete_container(const Store& store, const CgroupDrivers& cgroups, const std::string& id, bool force,
                      const KnownContainer* reaped = nullptr);

// The container's status (Store::status), its cgroups asked whether they are frozen.
ContainerStatus container_status(const Store& store, const CgroupDrivers& cgroups, const ContainerRecord& r);

// The container's cgroups; fails for a container that has none recorded.
std::unique_ptr<CgroupManager> container_cgroup_of(const CgroupDrivers& cgroups, const ContainerRecord& r);

// Freezes or thaws every process of the container (runc's pause/resume).
void pause_container(const Store& store, const CgroupDrivers& cgroups, const std::string& id);
void resume_container(const Store& store, const CgroupDrivers& cgroups, const std::string& id);

// The state JSON of `state` and `list --format json`.
std::string container_state_json(const Store& store, const CgroupDrivers& cgroups, const ContainerRecord& r,
                                 bool pretty);

// A row of `list`.
struct Listed {
  ContainerRecord record;  // pid 0 once stopped
  std::string status;      // status_name(), or "broken": its state cannot be read
  std::string problem;     // why, when broken
  std::string state_json;  // as `state` prints it (one line)
};
// Every container in the store, a broken one too.
std::vector<Listed> list_containers(const Store& store, const CgroupDrivers& cgroups);

}  // namespace agentrun
