#pragma once
// Entering the namespaces a plan joins by path (linux.namespaces[].path), in
// the first child of `create` and `exec`, before any new one is made.

#include "runtime/init/sync.hpp"
#include "runtime/plan/plan.hpp"
#include "runtime/util/sys.hpp"

namespace agentrun {

// Opens every path first (after joining a user namespace the others might
// no longer be reachable), then joins them in the plan's order (a joined
// user namespace first). Refuses, before joining any, a mount or uts
// namespace the container would change that is the runtime's own or pid
// 1's: that would be the host's. `sets_up`: the process sets up a
// container (create), not one joined by `exec`.
Status join_namespaces(Sys& sys, const Plan& plan, bool sets_up);

// The init's network namespace, its first step: the one create sends it
// (Plan::network_namespace_from_runtime), or one it makes. It then says so
// on `sync` (create puts the egress rules there, and hooks enter it, only
// then), with the errno that refused it if one did.
Status enter_network_namespace(Sys& sys, const Plan& plan, SyncChannel& sync);

}  // namespace agentrun
