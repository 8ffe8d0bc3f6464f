#include "runtime/confine/builtin_filters.hpp"

#include "spec/error.hpp"

namespace agentrun {

const BuiltinFilter& builtin_filter(const std::string& name) {
  std::string names;
  for (const BuiltinFilter& b : builtin_filter_table()) {
    if (b.name == name) return b;
    names += (names.empty() ? "" : ", ") + std::string(b.name);
  }
  fail("seccomp profile \"" + name + "\"", "unknown (built-in: " + names + ")");
}

SeccompProgram builtin_program(const BuiltinFilter& b, bool native_only_above) {
  const std::span<const sock_filter> f =
      drops_architectures(native_only_above, b.kills_process) ? b.native_filter : b.filter;
  return {{f.begin(), f.end()}, b.flags, b.notify};
}

}  // namespace agentrun
