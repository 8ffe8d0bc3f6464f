#include "runtime/confine/seccomp_load.hpp"

#include <linux/seccomp.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>

namespace agentrun {

Result<int> load_seccomp(const SeccompProgram& p) {
  sock_fprog prog{static_cast<unsigned short>(p.filter.size()),
                  const_cast<sock_filter*>(p.filter.data())};
  // Flags go to the kernel as given: one it rejects fails the load rather
  // than being dropped.
  long rc = ::syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, p.flags, &prog);
  if (rc < 0) return sys_error("load the seccomp filter", errno);
  return p.notify ? static_cast<int>(rc) : -1;
}

}  // namespace agentrun
