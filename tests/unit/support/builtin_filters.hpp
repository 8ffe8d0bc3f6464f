#pragma once
// The built-in seccomp profiles, compiled once per test executable, and
// whether this is the libseccomp that compiled the binary's own.

#include <seccomp.h>

#include <string>

#include "runtime/confine/seccomp_compile.hpp"
#include "runtime/confine/seccomp_profiles.hpp"
#include "support/host.hpp"

namespace test {

// The tests may run with another libseccomp than the one that compiled the
// built-in filters (a guest of another release), whose programs differ.
inline host::Probe the_builds_libseccomp() {
  const scmp_version* v = seccomp_version();
  const std::string here = std::to_string(v->major) + "." + std::to_string(v->minor) + "." + std::to_string(v->micro);
  return {here == AGENTRUN_BUILD_LIBSECCOMP, "the built-in filters were compiled with libseccomp " +
                                                 std::string(AGENTRUN_BUILD_LIBSECCOMP) + ", the tests run with " + here};
}

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
