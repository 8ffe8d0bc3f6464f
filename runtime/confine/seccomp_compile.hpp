#pragma once
// linux.seccomp compiled to raw BPF by the CLI, so that the container init
// only has to make one seccomp(2) call (see seccomp_load.hpp).

#include <linux/filter.h>

#include <string>
#include <vector>

#include "spec/config.hpp"

namespace agentrun {

struct SeccompProgram {
  std::vector<sock_filter> filter;  // what seccomp(SECCOMP_SET_MODE_FILTER) takes
  unsigned int flags = 0;           // SECCOMP_FILTER_FLAG_* for seccomp(2)
  bool notify = false;              // a rule notifies: loading returns a listener fd
};

// Builds the filter as runc and crun do. Throws Failure naming the field
// under `where` ("config.json: linux.seccomp") on anything it cannot honour.
SeccompProgram compile_seccomp(const spec::Seccomp& s, const std::string& where);

// Whether the filter of `f` admits the native architecture only: it kills
// every call made through another one (int 0x80, x32).
bool admits_native_only(const spec::Seccomp& f);

// Whether `f` kills whole processes, by default or by a rule.
bool kills_process(const spec::Seccomp& f);

// Under a filter that admits the native architecture only
// (`native_only_above`), a profile's rules for other architectures are
// never reached: they are dropped, which makes its filter shorter to load
// (Docker's baseline to a third) and changes no verdict. A profile that
// kills whole processes keeps them, as its kill would outrank the thread
// kill above.
inline bool drops_architectures(bool native_only_above, bool kills_process) {
  return native_only_above && !kills_process;
}
void drop_unreachable_architectures(spec::Seccomp& profile, bool native_only_above);

}  // namespace agentrun
