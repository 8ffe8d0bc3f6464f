#pragma once
// A "cgroup" mount in config.json: the container's own cgroups at the
// destination. cgroup v2: a new cgroup2 mount when the container has its
// own cgroup namespace, else a bind of its cgroup directory. v1 and hybrid
// hosts: a tmpfs with one bind per hierarchy (the container's directory in
// it), as runc lays it out.

#include "runtime/plan/plan.hpp"
#include "runtime/util/sys.hpp"
#include "spec/error.hpp"

namespace agentrun {

// `own_cgroups`: the init's /proc/self/cgroup read before it entered its
// cgroup namespace, so that the paths are the host's.
// `host_mounts`: the host's cgroup file systems (Plan::host_cgroup_mounts).
Status mount_cgroups(Sys& sys, int target, const MountStep& m, bool own_cgroup_ns, const std::string& own_cgroups,
                     const std::vector<MountInfo>& host_mounts);

}  // namespace agentrun
