#pragma once
// The built-in seccomp profiles, compiled once per test executable.

#include "runtime/confine/seccomp_compile.hpp"
#include "runtime/confine/seccomp_profiles.hpp"

namespace test {

inline const agentrun::SeccompProgram& baseline_filter() {
  static const agentrun::SeccompProgram p =
      agentrun::compile_seccomp(agentrun::builtin_seccomp_profile("docker-baseline"), "docker-baseline");
  return p;
}

inline const agentrun::SeccompProgram& hardening_filter() {
  static const agentrun::SeccompProgram p =
      agentrun::compile_seccomp(agentrun::builtin_seccomp_profile("agent-hardening"), "agent-hardening");
  return p;
}

}  // namespace test
