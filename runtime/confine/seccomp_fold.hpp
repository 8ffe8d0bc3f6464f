#pragma once
// libseccomp compares the system call number with every allowed call in
// turn (a tree with one JEQ each: 313 of the 408 instructions of Docker's
// baseline), and the kernel pays for each instruction at every load: it
// checks, converts and JITs the program and runs it for every call number
// (its action cache). Most neighbouring numbers lead to the same place, so
// the same dispatch is a search over ranges of numbers: Docker's baseline
// becomes 93 instructions (559 with its three x86 architectures, from 2012).

#include <linux/filter.h>

#include <vector>

namespace agentrun {

// Each run of jumps on the accumulator that follows a load of the call
// number (seccomp_data.nr) and is entered only from that load becomes a
// binary search over the ranges of numbers that reach the same instruction
// (or an equal return). Every other instruction is kept as it is, in its
// order; what no longer has a way in is dropped. The result must give the
// same verdict as `filter` for the inputs the search could change, tried
// with the user-space evaluator; where it would not, or where a jump would
// not fit, `filter` is returned as it is.
std::vector<sock_filter> fold_syscall_ranges(const std::vector<sock_filter>& filter);

}  // namespace agentrun
