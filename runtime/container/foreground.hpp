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

// What the wait attends to besides the process (run's logging guard,
// container/egress_guard.hpp): fd() is polled while it is not -1, and
// readable() called when it has something to read; ended() is called once
// the process has exited, before it is reaped, so that its pid still names
// it. What they throw ends the wait.
class ForegroundWatch {
 public:
  virtual ~ForegroundWatch() = default;
  virtual int fd() const = 0;
  virtual void readable() = 0;
  virtual void ended() = 0;
};

// Waits for `init` (a child of this process) to exit, forwarding signals,
// and relaying `pty_master` (if valid) to stdin/stdout. Returns the exit
// code runc gives: the status, or 128 + the signal that killed it.
int wait_in_foreground(pid_t init, UniqueFd pty_master, ForegroundWatch* watch = nullptr);

}  // namespace agentrun
