#pragma once
// A runtime process that something of the container's can reach runs from a
// copy of the binary that cannot be written (runc CVE-2019-5736): through
// /proc/<pid>/exe it finds a file on a read-only mount or a sealed memfd,
// never a writable host binary. `create`, `run` and `exec` re-execute
// (main.cpp): each process they start runs agentrun until its execve. The
// binary's entry point usually has (early_reexec.hpp); this is the whole
// step, with its fallback and its errors.

#include <sys/types.h>

#include <string>
#include <utility>

namespace agentrun {

// Returns when the binary already runs from a read-only mount or a sealed
// memfd; otherwise re-executes this program from a private read-only bind
// mount of itself (no copy), or, where that is not allowed (no
// CAP_SYS_ADMIN), from a sealed memfd copy, with the same arguments (from
// /proc/self/cmdline) and environment. Does not return then; throws Failure
// when neither works. Call it before anything with effects outside the
// process.
void run_from_read_only_binary();

// The path the runtime was started from. The read-only copy's
// /proc/self/exe names a memfd or a detached mount, so before re-executing,
// run_from_read_only_binary passes the original path on in the environment
// (AGENTRUN_INSTALLED_BINARY), which this returns when set.
std::string installed_binary_path();

// Whether process `pid` runs a binary on a read-only mount or a sealed memfd.
bool runs_unwritable_binary(pid_t pid);

// The device and inode of the binary this process runs (Plan::runtime_binary).
std::pair<dev_t, ino_t> runtime_binary_id();

}  // namespace agentrun
