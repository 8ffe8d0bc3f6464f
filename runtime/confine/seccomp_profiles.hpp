#pragma once
// The seccomp profiles built into the binary (seccomp-profiles/*.json):
// "docker-baseline", what a container without a profile of its own gets,
// and "agent-hardening", the filter stacked on top of every agent container.

#include <string>

#include "spec/config.hpp"

namespace agentrun {

// Throws Failure for a name that is not built in.
spec::Seccomp builtin_seccomp_profile(const std::string& name);

}  // namespace agentrun
