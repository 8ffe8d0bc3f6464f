#pragma once
// The privileged system calls of the container init, behind an interface.
//
// The init's logic (which mounts, in which order, what to do on failure;
// namespaces, Landlock and seccomp before execve) calls these; tests
// substitute a recording fake so that logic runs without root. Each method returns what the kernel returns: >= 0 on success, -errno
// on failure. Unprivileged file-system calls (openat2, mkdirat, fstat...)
// are made directly: tests run them for real on temporary directories.

#include <linux/mount.h>
#include <sys/types.h>

#include <cstdint>
#include <string>
#include <vector>

#include "runtime/util/fd.hpp"
#include "spec/error.hpp"

struct sock_fprog;

namespace agentrun {

struct CapSets {
  uint64_t bounding = 0, effective = 0, permitted = 0, inheritable = 0, ambient = 0;
};

struct SchedAttr {
  int policy = 0;
  int32_t nice = 0;
  int32_t priority = 0;
  uint64_t flags = 0, runtime = 0, deadline = 0, period = 0;
};

class Sys {
 public:
  virtual ~Sys() = default;

  virtual int mount(const char* source, const char* target, const char* fstype,
                    unsigned long flags, const void* data) = 0;
  virtual int umount2(const char* target, int flags) = 0;
  virtual int open_tree(int dfd, const char* path, unsigned flags) = 0;
  virtual int move_mount(int from_dfd, const char* from_path, int to_dfd, const char* to_path,
                         unsigned flags) = 0;
  virtual int fsopen(const char* fstype, unsigned flags) = 0;
  virtual int fsconfig(int fd, unsigned cmd, const char* key, const char* value, int aux) = 0;
  virtual int fsmount(int fd, unsigned flags, unsigned attr_flags) = 0;
  virtual int mount_setattr(int dfd, const char* path, unsigned flags, const mount_attr& attr) = 0;
  virtual int pivot_root(const char* new_root, const char* put_old) = 0;
  virtual int chroot(const char* path) = 0;
  virtual int mknodat(int dfd, const char* name, mode_t mode, dev_t dev) = 0;

  virtual int unshare(int flags) = 0;
  virtual int setns(int fd, int nstype) = 0;
  // SECCOMP_SET_MODE_FILTER: the listener fd with SECCOMP_FILTER_FLAG_NEW_LISTENER, else 0.
  virtual int seccomp_filter(unsigned flags, const sock_fprog& program) = 0;
  // The new ruleset's descriptor.
  virtual int landlock_create_ruleset(const void* attr, size_t size) = 0;
  virtual int landlock_add_rule(int ruleset, int rule_type, const void* rule) = 0;
  virtual int landlock_restrict_self(int ruleset) = 0;

  virtual int sethostname(const std::string& name) = 0;
  virtual int setdomainname(const std::string& name) = 0;
  virtual int setrlimit(int resource, uint64_t soft, uint64_t hard) = 0;
  virtual int prctl(int option, unsigned long a2, unsigned long a3 = 0, unsigned long a4 = 0,
                    unsigned long a5 = 0) = 0;
  virtual int personality(unsigned long persona) = 0;
  virtual int ioprio_set(int ioprio) = 0;
  virtual int sched_setattr(const SchedAttr& attr) = 0;
  virtual int sched_setaffinity(const std::vector<int>& cpus) = 0;
  virtual int join_session_keyring(const std::string& name) = 0;

  virtual int setgroups(const std::vector<gid_t>& groups) = 0;
  virtual int setresgid(gid_t gid) = 0;
  virtual int setresuid(uid_t uid) = 0;
  // Effective, permitted and inheritable sets of the calling thread.
  virtual int capset(const CapSets& caps) = 0;

  virtual int execve(const char* path, char* const argv[], char* const envp[]) = 0;
};

// The real kernel.
Sys& linux_sys();

// A Sys call's return value as a Status (a negative value is -errno).
inline Status sys_status(int rc, const std::string& step) {
  if (rc < 0) return sys_error(step, -rc);
  return {};
}

// The same for a call that returns a new descriptor, which the result owns.
inline Result<UniqueFd> sys_fd(int rc, const std::string& step) {
  if (rc < 0) return sys_error(step, -rc);
  return UniqueFd(rc);
}

}  // namespace agentrun
