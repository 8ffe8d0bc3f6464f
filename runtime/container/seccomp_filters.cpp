#include "runtime/container/seccomp_filters.hpp"

#include "runtime/confine/seccomp_cache.hpp"
#include "runtime/plan/seccomp_sequence.hpp"

namespace agentrun {

void compile_seccomp_filters(Plan& plan, const std::string& state_root) {
  const std::string cache_dir = state_root + "/.seccomp-cache";
  // The built-in filters come compiled (builtin_filters.hpp).
  auto compile = [&cache_dir](SeccompFilter& f) {
    if (f.program.filter.empty()) f.program = compile_seccomp_cached(f.profile, f.name, cache_dir);
  };
  if (plan.seccomp) compile(*plan.seccomp);
  for (SeccompFilter& f : plan.seccomp_stack) compile(f);
  check_calls_after_filters(plan);
}

}  // namespace agentrun
