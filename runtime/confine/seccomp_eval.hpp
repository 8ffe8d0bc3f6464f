#pragma once
// Runs a compiled seccomp filter on one system call, in user space, the way
// the kernel would: what a profile answers can then be known (and tested)
// without loading it and without the host supporting the call.

#include <linux/filter.h>
#include <linux/seccomp.h>

#include <cstdint>
#include <vector>

#include "spec/error.hpp"

namespace agentrun {

// The filter's return value (SECCOMP_RET_* action | data) for `call`.
// Malformed programs (a jump past the end, a load outside seccomp_data, no
// return) are errors, as the kernel's checker would reject them.
Result<uint32_t> seccomp_verdict(const std::vector<sock_filter>& filter, const seccomp_data& call);

// A call of the native architecture with the given number and arguments.
seccomp_data native_call(int nr, std::initializer_list<uint64_t> args = {});

// Whether a verdict lets the call reach the kernel (allow, log, or a
// decision left to a notify listener).
bool verdict_admits(uint32_t verdict);

}  // namespace agentrun
