// The cgroupfs driver on cgroup v2 alone.
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <unistd.h>

#include "runtime/cgroup/cgroupfs.hpp"
#include "runtime/cgroup/files.hpp"
#include "runtime/util/file_io.hpp"
#include "spec/error.hpp"

namespace agentrun {

void CgroupfsV2::create() {
  CgroupfsManager::create();
  dir_fd_.reset(::open(dir_of("").c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (!dir_fd_) fail_errno("cgroup: open " + dir_of(""), errno);
}

// cgroup.kill (5.14) kills the whole tree at once, forks in flight included.
void CgroupfsV2::signal_all(int signal) {
  if (signal != SIGKILL) return CgroupfsManager::signal_all(signal);
  const int err = fs_->write_file(dir_of("") + "/cgroup.kill", "1");
  if (err == 0) return;
  if (err != ENOENT) fail_errno("cgroup: write cgroup.kill = 1 in " + dir_of(""), err);
  CgroupfsManager::signal_all(signal);
}

uint64_t CgroupfsV2::oom_kill_count() const {
  if (!oom_fd_) return cgroup_files::value_of(cgroup_files::read_opt(*fs_, dir_of(""), "memory.events"), "oom_kill");
  // The cgroup may be gone (ENODEV): the last count read stays.
  char buf[512];
  const ssize_t n = ::pread(oom_fd_.get(), buf, sizeof buf - 1, 0);
  if (n > 0) last_oom_kills_ = cgroup_files::value_of(std::string(buf, static_cast<size_t>(n)), "oom_kill");
  return last_oom_kills_;
}

}  // namespace agentrun
