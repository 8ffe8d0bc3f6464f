#pragma once
// Installs a compiled seccomp filter. Safe between fork and exec: one
// system call, no allocation unless it fails, never throws.

#include "runtime/confine/seccomp_compile.hpp"
#include "runtime/util/sys.hpp"
#include "spec/error.hpp"

namespace agentrun {

// The listener fd when p.notify, else -1. The caller must already have
// no_new_privs or CAP_SYS_ADMIN.
Result<int> load_seccomp(Sys& sys, const SeccompProgram& p);

}  // namespace agentrun
