#pragma once
// The built-in seccomp profiles (seccomp_profiles.hpp), compiled when the
// binary was built (seccomp-profiles/precompile.cpp): a container under
// them starts without parsing, hashing or compiling a profile, and without
// a visit to the filter cache.

#include <linux/filter.h>

#include <span>
#include <string>
#include <string_view>

#include "runtime/confine/seccomp_compile.hpp"

namespace agentrun {

struct BuiltinFilter {
  std::string_view name;     // "docker-baseline"
  std::string_view sha256;   // seccomp_profile_hash() of the profile, for the isolation record
  bool native_only = false;  // admits_native_only()
  bool kills_process = false;
  unsigned int flags = 0;
  bool notify = false;
  std::span<const sock_filter> filter;         // compiled as written
  std::span<const sock_filter> native_filter;  // compiled with its architectures dropped
};

// Every built-in profile, sorted by name. Defined in the generated source.
std::span<const BuiltinFilter> builtin_filter_table();

// Throws Failure for a name that is not built in.
const BuiltinFilter& builtin_filter(const std::string& name);

// Its program under filters stacked above it, of which some admit the
// native architecture only (`native_only_above`, drop_unreachable_architectures).
SeccompProgram builtin_program(const BuiltinFilter& b, bool native_only_above);

}  // namespace agentrun
