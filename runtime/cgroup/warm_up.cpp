#include "runtime/cgroup/warm_up.hpp"

#include <fcntl.h>
#include <sched.h>
#include <sys/syscall.h>
#include <sys/wait.h>

#include <cerrno>
#include <csignal>

#include "runtime/util/raw_syscall.hpp"

namespace agentrun {
namespace {

// Runs in a child that shares the runtime's memory (no page tables copied,
// and no copy-on-write faults for the runtime afterwards): raw system calls
// only, which leave the runtime's errno alone.
int join_cgroup(void* procs) {
  const long fd = raw_syscall(SYS_open, reinterpret_cast<long>(procs), O_WRONLY | O_CLOEXEC);
  return fd >= 0 && raw_syscall(SYS_write, fd, reinterpret_cast<long>("0"), 1) == 1 ? 0 : 1;
}

}  // namespace

CgroupWarmUp::CgroupWarmUp(const std::string& dir) {
  if (dir.empty()) return;
  procs_ = dir + "/cgroup.procs";
  // Its failures are not checked on purpose: it only saves time, and the
  // init's own join, which is checked, follows either way.
  pid_ = ::clone(join_cgroup, stack_.data() + stack_.size(), CLONE_VM | SIGCHLD, procs_.data());
}

CgroupWarmUp::~CgroupWarmUp() {
  if (pid_ <= 0) return;
  while (::waitpid(pid_, nullptr, 0) < 0 && errno == EINTR) {
  }
}

}  // namespace agentrun
