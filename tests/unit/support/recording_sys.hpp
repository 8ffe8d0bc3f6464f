#pragma once
// A Sys that records every privileged call, as its kind (`ops`) and as a
// line of text with its arguments (`calls`), and answers with success (or
// with the errno set for a call), so that the init's decisions — which
// calls, in which order, stopping at the first failure — are tested without
// root. Calls that must return a descriptor get a fresh one on /dev/null.

#include <fcntl.h>
#include <unistd.h>

#include <map>
#include <string>
#include <vector>

#include "runtime/util/sys.hpp"

namespace test {

enum class Op {
  mount, umount2, open_tree, move_mount, fsopen, fsconfig, fsmount, mount_setattr, pivot_root, chroot, mknodat,
  unshare, setns, seccomp_filter, landlock_create_ruleset, landlock_add_rule, landlock_restrict_self,
  sethostname, setdomainname, setrlimit, prctl, personality, ioprio_set, sched_setattr, sched_setaffinity,
  join_session_keyring, setgroups, setresgid, setresuid, capset, execve
};

class RecordingSys : public agentrun::Sys {
 public:
  std::vector<Op> ops;
  std::vector<std::string> calls;
  std::map<std::string, int> failures;  // call prefix -> errno

  int mount(const char* source, const char* target, const char* fstype, unsigned long flags, const void*) override {
    return answer(Op::mount, "mount " + str(source) + " " + str(target) + " " + str(fstype) + " " + std::to_string(flags));
  }
  int umount2(const char* target, int) override { return answer(Op::umount2, "umount2 " + str(target)); }
  int open_tree(int, const char* path, unsigned) override { return fd_answer(Op::open_tree, "open_tree " + str(path)); }
  int move_mount(int, const char*, int, const char*, unsigned) override { return answer(Op::move_mount, "move_mount"); }
  int fsopen(const char* type, unsigned) override { return fd_answer(Op::fsopen, "fsopen " + str(type)); }
  int fsconfig(int, unsigned, const char* key, const char* value, int) override {
    return answer(Op::fsconfig, "fsconfig " + str(key) + (value ? "=" + str(value) : ""));
  }
  int fsmount(int, unsigned, unsigned) override { return fd_answer(Op::fsmount, "fsmount"); }
  int mount_setattr(int, const char*, unsigned, const mount_attr& attr) override {
    return answer(Op::mount_setattr, "mount_setattr set=" + std::to_string(attr.attr_set));
  }
  int pivot_root(const char* a, const char* b) override { return answer(Op::pivot_root, "pivot_root " + str(a) + " " + str(b)); }
  int chroot(const char* path) override { return answer(Op::chroot, "chroot " + str(path)); }
  int mknodat(int, const char* name, mode_t, dev_t) override { return answer(Op::mknodat, "mknodat " + str(name)); }
  int sethostname(const std::string& name) override { return answer(Op::sethostname, "sethostname " + name); }
  int setdomainname(const std::string& name) override { return answer(Op::setdomainname, "setdomainname " + name); }
  int setrlimit(int resource, uint64_t soft, uint64_t hard) override {
    return answer(Op::setrlimit, "setrlimit " + std::to_string(resource) + " " + std::to_string(soft) + " " + std::to_string(hard));
  }
  int prctl(int option, unsigned long a2, unsigned long a3, unsigned long, unsigned long) override {
    return answer(Op::prctl, "prctl " + std::to_string(option) + " " + std::to_string(a2) + " " + std::to_string(a3));
  }
  int personality(unsigned long p) override { return answer(Op::personality, "personality " + std::to_string(p)); }
  int ioprio_set(int ioprio) override { return answer(Op::ioprio_set, "ioprio_set " + std::to_string(ioprio)); }
  int sched_setattr(const agentrun::SchedAttr& a) override { return answer(Op::sched_setattr, "sched_setattr " + std::to_string(a.policy)); }
  int sched_setaffinity(const std::vector<int>& cpus) override { return answer(Op::sched_setaffinity, "sched_setaffinity " + std::to_string(cpus.size())); }
  int join_session_keyring(const std::string& name) override { return answer(Op::join_session_keyring, "join_session_keyring " + name); }
  int setgroups(const std::vector<gid_t>& groups) override { return answer(Op::setgroups, "setgroups " + std::to_string(groups.size())); }
  int setresgid(gid_t gid) override { return answer(Op::setresgid, "setresgid " + std::to_string(gid)); }
  int setresuid(uid_t uid) override { return answer(Op::setresuid, "setresuid " + std::to_string(uid)); }
  int capset(const agentrun::CapSets& c) override {
    return answer(Op::capset, "capset e=" + std::to_string(c.effective) + " p=" + std::to_string(c.permitted) +
                  " i=" + std::to_string(c.inheritable));
  }
  int unshare(int flags) override { return answer(Op::unshare, "unshare " + std::to_string(flags)); }
  int setns(int, int type) override { return answer(Op::setns, "setns " + std::to_string(type)); }
  int seccomp_filter(unsigned flags, const sock_fprog&) override {
    return answer(Op::seccomp_filter, "seccomp_filter " + std::to_string(flags));
  }
  int landlock_create_ruleset(const void*, size_t) override {
    return fd_answer(Op::landlock_create_ruleset, "landlock_create_ruleset");
  }
  int landlock_add_rule(int, int type, const void*) override {
    return answer(Op::landlock_add_rule, "landlock_add_rule " + std::to_string(type));
  }
  int landlock_restrict_self(int) override { return answer(Op::landlock_restrict_self, "landlock_restrict_self"); }
  int execve(const char* path, char* const*, char* const*) override { return answer(Op::execve, "execve " + str(path)); }

  // The calls that start with `prefix`, in order.
  std::vector<std::string> matching(const std::string& prefix) const {
    std::vector<std::string> out;
    for (const auto& c : calls)
      if (c.rfind(prefix, 0) == 0) out.push_back(c);
    return out;
  }

 private:
  static std::string str(const char* s) { return s ? s : "(null)"; }
  int answer(Op op, const std::string& call) {
    ops.push_back(op);
    calls.push_back(call);
    for (const auto& [prefix, err] : failures)
      if (call.rfind(prefix, 0) == 0) return -err;
    return 0;
  }
  int fd_answer(Op op, const std::string& call) {
    int rc = answer(op, call);
    return rc < 0 ? rc : ::open("/dev/null", O_RDONLY | O_CLOEXEC);
  }
};

}  // namespace test
