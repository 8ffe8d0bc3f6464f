#pragma once
// The seccomp profiles built into the binary (seccomp-profiles/*.json):
// "docker-baseline", what a container without a profile of its own gets,
// and "agent-hardening", the filter stacked on top of every agent container.
// A container start takes them compiled (builtin_filters.hpp); parsed, they
// are what the build compiles and the tests compare against.

#include <string>
#include <vector>

#include "spec/config.hpp"

namespace agentrun {

// Sorted.
std::vector<std::string> builtin_seccomp_names();

// Throws Failure for a name that is not built in.
spec::Seccomp builtin_seccomp_profile(const std::string& name);

}  // namespace agentrun
