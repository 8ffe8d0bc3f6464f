#include "runtime/cgroup/warm_up.hpp"

#include <fcntl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>

namespace agentrun {

CgroupWarmUp::CgroupWarmUp(const std::string& dir) {
  if (dir.empty()) return;
  const std::string procs = dir + "/cgroup.procs";
  // Its failures are not checked on purpose: it only saves time, and the
  // init's own join, which is checked, follows either way.
  pid_ = ::fork();
  if (pid_ == 0) {
    const int fd = ::open(procs.c_str(), O_WRONLY | O_CLOEXEC);
    ::_exit(fd >= 0 && ::write(fd, "0", 1) == 1 ? 0 : 1);
  }
}

CgroupWarmUp::~CgroupWarmUp() {
  if (pid_ <= 0) return;
  while (::waitpid(pid_, nullptr, 0) < 0 && errno == EINTR) {
  }
}

}  // namespace agentrun
