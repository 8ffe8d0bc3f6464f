#pragma once
// The device rules a container's cgroup gets from linux.resources.devices:
// the config's rules followed by runc's standard list, so that containers
// written for runc keep /dev/null, the ptys and /dev/ptmx usable. `create`
// and `update` give the rules this same meaning: an update that repeats the
// config's rules (containerd's CRI sends the whole linux.resources) must
// not take away what the container was created with.

#include "spec/config.hpp"

namespace agentrun {

// Unchanged when `r` has no device rules (the cgroup's rules are left alone).
spec::Resources with_default_devices(spec::Resources r);

}  // namespace agentrun
