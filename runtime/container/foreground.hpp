#pragma once
// `run` in the foreground: the runtime stays the init's parent, forwards
// the signals it receives to the init, relays the container's terminal to
// its own when the process has one, and returns the init's exit status.

#include <sys/types.h>

#include "runtime/util/fd.hpp"

namespace agentrun {

// Blocks the signals that will be forwarded, before any container process
// exists, so none is lost between create and the wait. The container's
// init unblocks them before it executes the user's process.
void block_forwarded_signals();

// Waits for `init` (a child of this process) to exit, forwarding signals,
// and relaying `pty_master` (if valid) to stdin/stdout. Returns the exit
// code runc gives: the status, or 128 + the signal that killed it.
int wait_in_foreground(pid_t init, UniqueFd pty_master);

}  // namespace agentrun
