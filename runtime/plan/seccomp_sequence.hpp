#pragma once
// The system calls the init makes after loading each seccomp filter, in
// order, and the check that every filter loaded before a call lets it
// through: otherwise the container's process could never start, and
// `create` says so instead of `start` failing with a bare errno.

#include <linux/seccomp.h>

#include <string>
#include <vector>

#include "runtime/plan/plan.hpp"

namespace agentrun {

struct InitCall {
  std::string name;   // "execve", "seccomp(SECCOMP_SET_MODE_FILTER)"
  seccomp_data data;  // as the filters see it
  int loads = -1;     // the filter this call installs: 0 the container's own, 1.. the stack
};

// From loading the container's own filter (or the first stacked one) to execve.
std::vector<InitCall> calls_after_filters(const Plan& plan);

// On the compiled filters. Throws Failure naming the filter and the call it refuses.
void check_calls_after_filters(const Plan& plan);

}  // namespace agentrun
