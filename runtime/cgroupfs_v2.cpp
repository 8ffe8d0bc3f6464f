// The cgroupfs driver on cgroup v2 alone.
#include <errno.h>
#include <fcntl.h>
#include <signal.h>

#include "runtime/cgroup_files.hpp"
#include "runtime/cgroupfs.hpp"
#include "runtime/file_io.hpp"
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
  auto st = write_whole_file(AT_FDCWD, dir_of("") + "/cgroup.kill", "1", O_TRUNC);
  if (st) return;
  if (st.error().errnum != ENOENT) fail_errno("cgroup: write cgroup.kill = 1 in " + dir_of(""), st.error().errnum);
  CgroupfsManager::signal_all(signal);
}

uint64_t CgroupfsV2::oom_kill_count() const {
  return cgroup_files::value_of(cgroup_files::read_opt(dir_of(""), "memory.events"), "oom_kill");
}

}  // namespace agentrun
