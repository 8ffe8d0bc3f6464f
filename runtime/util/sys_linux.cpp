// The real system calls behind Sys. Calls without a glibc 2.36 wrapper go
// through syscall(2).

#include <errno.h>
#include <grp.h>
#include <linux/filter.h>
#include <linux/keyctl.h>
#include <linux/seccomp.h>
#include <sched.h>
#include <sys/capability.h>
#include <sys/mount.h>
#include <sys/personality.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "runtime/util/sys.hpp"

namespace agentrun {
namespace {

int ret(long rc) { return rc < 0 ? -errno : static_cast<int>(rc); }

// struct sched_attr as the kernel defines it (no glibc wrapper in 2.36).
struct KernelSchedAttr {
  uint32_t size;
  uint32_t sched_policy;
  uint64_t sched_flags;
  int32_t sched_nice;
  uint32_t sched_priority;
  uint64_t sched_runtime;
  uint64_t sched_deadline;
  uint64_t sched_period;
};

class LinuxSys final : public Sys {
 public:
  int mount(const char* source, const char* target, const char* fstype, unsigned long flags,
            const void* data) override {
    return ret(::mount(source, target, fstype, flags, data));
  }
  int unshare(int flags) override { return ret(::unshare(flags)); }
  int setns(int fd, int nstype) override { return ret(::setns(fd, nstype)); }
  int seccomp_filter(unsigned flags, const sock_fprog& program) override {
    return ret(::syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, flags, &program));
  }
  int landlock_create_ruleset(const void* attr, size_t size) override {
    return ret(::syscall(SYS_landlock_create_ruleset, attr, size, 0));
  }
  int landlock_add_rule(int ruleset, int rule_type, const void* rule) override {
    return ret(::syscall(SYS_landlock_add_rule, ruleset, rule_type, rule, 0));
  }
  int landlock_restrict_self(int ruleset) override { return ret(::syscall(SYS_landlock_restrict_self, ruleset, 0)); }
  int umount2(const char* target, int flags) override { return ret(::umount2(target, flags)); }
  int open_tree(int dfd, const char* path, unsigned flags) override {
    return ret(::syscall(SYS_open_tree, dfd, path, flags));
  }
  int move_mount(int from_dfd, const char* from_path, int to_dfd, const char* to_path,
                 unsigned flags) override {
    return ret(::syscall(SYS_move_mount, from_dfd, from_path, to_dfd, to_path, flags));
  }
  int fsopen(const char* fstype, unsigned flags) override {
    return ret(::syscall(SYS_fsopen, fstype, flags));
  }
  int fsconfig(int fd, unsigned cmd, const char* key, const char* value, int aux) override {
    return ret(::syscall(SYS_fsconfig, fd, cmd, key, value, aux));
  }
  int fsmount(int fd, unsigned flags, unsigned attr_flags) override {
    return ret(::syscall(SYS_fsmount, fd, flags, attr_flags));
  }
  int mount_setattr(int dfd, const char* path, unsigned flags, const mount_attr& attr) override {
    mount_attr copy = attr;
    return ret(::syscall(SYS_mount_setattr, dfd, path, flags, &copy, sizeof copy));
  }
  int pivot_root(const char* new_root, const char* put_old) override {
    return ret(::syscall(SYS_pivot_root, new_root, put_old));
  }
  int chroot(const char* path) override { return ret(::chroot(path)); }
  int mknodat(int dfd, const char* name, mode_t mode, dev_t dev) override {
    return ret(::mknodat(dfd, name, mode, dev));
  }

  int sethostname(const std::string& name) override {
    return ret(::sethostname(name.data(), name.size()));
  }
  int setdomainname(const std::string& name) override {
    return ret(::setdomainname(name.data(), name.size()));
  }
  int setrlimit(int resource, uint64_t soft, uint64_t hard) override {
    struct rlimit64 rl = {soft, hard};
    return ret(::prlimit64(0, static_cast<__rlimit_resource>(resource), &rl, nullptr));
  }
  int prctl(int option, unsigned long a2, unsigned long a3, unsigned long a4,
            unsigned long a5) override {
    return ret(::prctl(option, a2, a3, a4, a5));
  }
  int personality(unsigned long persona) override { return ret(::personality(persona)); }
  int ioprio_set(int ioprio) override {
    constexpr int kIoprioWhoProcess = 1;
    return ret(::syscall(SYS_ioprio_set, kIoprioWhoProcess, 0, ioprio));
  }
  int sched_setattr(const SchedAttr& a) override {
    KernelSchedAttr k{sizeof(KernelSchedAttr), static_cast<uint32_t>(a.policy), a.flags,
                      a.nice, static_cast<uint32_t>(a.priority), a.runtime, a.deadline,
                      a.period};
    return ret(::syscall(SYS_sched_setattr, 0, &k, 0));
  }
  int sched_setaffinity(const std::vector<int>& cpus) override {
    cpu_set_t set;
    CPU_ZERO(&set);
    for (int c : cpus) {
      if (c < 0 || c >= CPU_SETSIZE) return -EINVAL;
      CPU_SET(c, &set);
    }
    return ret(::sched_setaffinity(0, sizeof set, &set));
  }
  int join_session_keyring(const std::string& name) override {
    return ret(::syscall(SYS_keyctl, KEYCTL_JOIN_SESSION_KEYRING, name.c_str()));
  }

  int setgroups(const std::vector<gid_t>& groups) override {
    return ret(::setgroups(groups.size(), groups.data()));
  }
  int setresgid(gid_t gid) override { return ret(::syscall(SYS_setresgid, gid, gid, gid)); }
  int setresuid(uid_t uid) override { return ret(::syscall(SYS_setresuid, uid, uid, uid)); }

  int capset(const CapSets& caps) override {
    cap_t c = cap_init();
    if (!c) return -errno;
    auto set = [c](cap_flag_t flag, uint64_t bits) {
      for (int i = 0; i < 64; ++i) {
        cap_value_t v = i;
        if ((bits >> i) & 1) cap_set_flag(c, flag, 1, &v, CAP_SET);
      }
    };
    set(CAP_EFFECTIVE, caps.effective);
    set(CAP_PERMITTED, caps.permitted);
    set(CAP_INHERITABLE, caps.inheritable);
    int rc = cap_set_proc(c) < 0 ? -errno : 0;
    cap_free(c);
    return rc;
  }

  int execve(const char* path, char* const argv[], char* const envp[]) override {
    return ret(::execve(path, argv, envp));
  }
};

// Made before main(), not at a first call: an init forked before any use
// would otherwise write a guard, the object and an exit handler, each a
// page it copies.
constinit LinuxSys the_linux_sys;

}  // namespace

Sys& linux_sys() { return the_linux_sys; }

}  // namespace agentrun
