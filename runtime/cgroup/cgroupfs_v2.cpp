// The cgroupfs driver on cgroup v2 alone.
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <unistd.h>

#include <optional>
#include <string>

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

void CgroupfsV2::watch_oom() {
  CgroupfsManager::watch_oom();
  if (oom_fd_)
    parent_events_fd_.reset(::open((cgroup_files::parent_of(dir_of("")) + "/memory.events").c_str(), O_RDONLY | O_CLOEXEC));
}

namespace {

// An interface file read again through its open descriptor; nullopt when it
// cannot be, errno saying why (ENODEV: kernfs, the cgroup was removed).
std::optional<std::string> read_again(int fd) {
  char buf[512];
  const ssize_t n = ::pread(fd, buf, sizeof buf, 0);
  if (n == 0) errno = 0;
  if (n <= 0) return std::nullopt;
  return std::string(buf, static_cast<size_t>(n));
}

}  // namespace

uint64_t CgroupfsV2::oom_kill_count() const {
  if (!oom_fd_) return cgroup_files::value_of(cgroup_files::read_opt(*fs_, dir_of(""), "memory.events"), "oom_kill");
  if (oom_kills_.is_gone()) return oom_kills_.kills();
  // The parent before the leaf: a kill between the two reads is in the leaf's.
  std::optional<uint64_t> parent_kills;
  if (const auto parent = parent_events_fd_ ? read_again(parent_events_fd_.get()) : std::nullopt)
    parent_kills = cgroup_files::value_of(parent, "oom_kill");
  if (const auto leaf = read_again(oom_fd_.get()))
    oom_kills_.read(cgroup_files::value_of(leaf, "oom"), cgroup_files::value_of(leaf, "oom_kill"), parent_kills);
  else if (errno == ENODEV)
    oom_kills_.gone(parent_kills);
  return oom_kills_.kills();
}

// Once the cgroup is gone nothing more is announced, and poll would return at once.
void CgroupfsV2::wait_for_oom(int timeout_ms) const {
  if (oom_kills_.is_gone()) return CgroupManager::wait_for_oom(timeout_ms);
  CgroupfsManager::wait_for_oom(timeout_ms);
}

}  // namespace agentrun
