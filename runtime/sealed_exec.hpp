#pragma once
// Commands that put a process into a container run from a copy of the
// binary that cannot be written (runc CVE-2019-5736): a process in the
// container that reaches /proc/<pid>/exe of the runtime finds a file on a
// read-only mount, or a sealed memfd, never a writable host binary.

namespace agentrun {

// Returns when the binary already runs from a read-only mount or a sealed
// memfd; otherwise re-executes this program from a private read-only bind
// mount of itself (no copy), or, where that is not allowed (no
// CAP_SYS_ADMIN), from a sealed memfd copy, with the same arguments and
// environment. Does not return then; throws Failure when neither works.
void run_from_read_only_binary(char** argv);

}  // namespace agentrun
