#pragma once
// What `start`, `kill` and `delete` do to a container that exists, shared
// by those commands and by `run`.

#include <string>

#include "runtime/store.hpp"

namespace agentrun {

// Releases a created container's init to execute the user's process and
// runs the poststart hooks. An error from the init (a failing
// startContainer hook, a failed exec) is thrown with its own message.
void start_created_container(const Store& store, const std::string& id);

// Sends `signal` to the container's init, or with `all` to every process of
// the container. The container must be created or running.
void kill_container(const Store& store, const std::string& id, int signal, bool all);

// Removes a container: kills it first when it is created, or when it is
// running and `force` is given; then runs the poststop hooks and removes
// its state. A missing container is an error unless `force`.
void delete_container(const Store& store, const std::string& id, bool force);

// The state JSON of `state` and `list --format json`.
std::string container_state_json(const Store& store, const ContainerRecord& r, bool pretty);

}  // namespace agentrun
