#pragma once
// The first cgroup migration after a quiet spell waits for an RCU grace
// period: the kernel switches the readers of its cgroup_threadgroup_rwsem to
// their slow path (rcu_sync) before a writer may take it, 5-15 ms on an idle
// machine, and the init's join to its cgroups would pay it with nothing else
// to do. A short-lived child that moves itself into a cgroup of a hierarchy
// that only accounts (the one it is in: the move takes the lock all the same)
// starts that wait at once, alongside the rest of the set-up; the init's join
// then finds the lock warm.

#include <sys/types.h>

#include <array>
#include <string>

namespace agentrun {

class CgroupWarmUp {
 public:
  // Starts the child that joins `dir` (a cgroup directory); nothing if empty.
  explicit CgroupWarmUp(const std::string& dir);
  // Reaps the child, waiting for it: it must be gone before its cgroup is,
  // and before its stack and path are.
  ~CgroupWarmUp();
  CgroupWarmUp(const CgroupWarmUp&) = delete;
  CgroupWarmUp& operator=(const CgroupWarmUp&) = delete;

 private:
  pid_t pid_ = -1;
  std::string procs_;
  alignas(16) std::array<char, 16384> stack_;
};

}  // namespace agentrun
