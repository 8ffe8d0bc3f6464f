#pragma once
// Commands that put a process into a container run from a sealed, in-memory
// copy of the binary (runc CVE-2019-5736): a process in the container that
// reaches /proc/<pid>/exe of the runtime finds a memfd that cannot be
// written, never the host's agentrun binary.

namespace agentrun {

// Returns when already running from a sealed copy; otherwise re-executes
// this program from one, with the same arguments and environment, and does
// not return. Throws Failure when the copy cannot be made.
void run_from_sealed_copy(char** argv);

}  // namespace agentrun
