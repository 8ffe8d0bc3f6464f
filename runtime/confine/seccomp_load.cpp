#include "runtime/confine/seccomp_load.hpp"

#include <linux/seccomp.h>
#include <linux/filter.h>

namespace agentrun {

Result<int> load_seccomp(Sys& sys, const SeccompProgram& p) {
  sock_fprog prog{static_cast<unsigned short>(p.filter.size()),
                  const_cast<sock_filter*>(p.filter.data())};
  // Flags go to the kernel as given: one it rejects fails the load rather
  // than being dropped.
  const int rc = sys.seccomp_filter(p.flags, prog);
  if (rc < 0) return sys_error("load the seccomp filter", -rc);
  return p.notify ? rc : -1;
}

}  // namespace agentrun
