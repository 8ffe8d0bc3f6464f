#pragma once
// A Sys that records every privileged call as a line of text and answers
// with success (or with the errno set for a call), so that the init's
// decisions — which calls, in which order, stopping at the first failure —
// are tested without root. Calls that must return a descriptor get a
// fresh one on /dev/null.

#include <fcntl.h>
#include <unistd.h>

#include <map>
#include <string>
#include <vector>

#include "runtime/util/sys.hpp"

namespace test {

class RecordingSys : public agentrun::Sys {
 public:
  std::vector<std::string> calls;
  std::map<std::string, int> failures;  // call prefix -> errno

  int mount(const char* source, const char* target, const char* fstype, unsigned long flags, const void*) override {
    return answer("mount " + str(source) + " " + str(target) + " " + str(fstype) + " " + std::to_string(flags));
  }
  int umount2(const char* target, int) override { return answer("umount2 " + str(target)); }
  int open_tree(int, const char* path, unsigned) override { return fd_answer("open_tree " + str(path)); }
  int move_mount(int, const char*, int, const char*, unsigned) override { return answer("move_mount"); }
  int fsopen(const char* type, unsigned) override { return fd_answer("fsopen " + str(type)); }
  int fsconfig(int, unsigned, const char* key, const char* value, int) override {
    return answer("fsconfig " + str(key) + (value ? "=" + str(value) : ""));
  }
  int fsmount(int, unsigned, unsigned) override { return fd_answer("fsmount"); }
  int mount_setattr(int, const char*, unsigned, const mount_attr& attr) override {
    return answer("mount_setattr set=" + std::to_string(attr.attr_set));
  }
  int pivot_root(const char* a, const char* b) override { return answer("pivot_root " + str(a) + " " + str(b)); }
  int chroot(const char* path) override { return answer("chroot " + str(path)); }
  int mknodat(int, const char* name, mode_t, dev_t) override { return answer("mknodat " + str(name)); }
  int sethostname(const std::string& name) override { return answer("sethostname " + name); }
  int setdomainname(const std::string& name) override { return answer("setdomainname " + name); }
  int setrlimit(int resource, uint64_t soft, uint64_t hard) override {
    return answer("setrlimit " + std::to_string(resource) + " " + std::to_string(soft) + " " + std::to_string(hard));
  }
  int prctl(int option, unsigned long a2, unsigned long a3, unsigned long, unsigned long) override {
    return answer("prctl " + std::to_string(option) + " " + std::to_string(a2) + " " + std::to_string(a3));
  }
  int personality(unsigned long p) override { return answer("personality " + std::to_string(p)); }
  int ioprio_set(int ioprio) override { return answer("ioprio_set " + std::to_string(ioprio)); }
  int sched_setattr(const agentrun::SchedAttr& a) override { return answer("sched_setattr " + std::to_string(a.policy)); }
  int sched_setaffinity(const std::vector<int>& cpus) override { return answer("sched_setaffinity " + std::to_string(cpus.size())); }
  int join_session_keyring(const std::string& name) override { return answer("join_session_keyring " + name); }
  int setgroups(const std::vector<gid_t>& groups) override { return answer("setgroups " + std::to_string(groups.size())); }
  int setresgid(gid_t gid) override { return answer("setresgid " + std::to_string(gid)); }
  int setresuid(uid_t uid) override { return answer("setresuid " + std::to_string(uid)); }
  int capset(const agentrun::CapSets& c) override {
    return answer("capset e=" + std::to_string(c.effective) + " p=" + std::to_string(c.permitted) +
                  " i=" + std::to_string(c.inheritable));
  }
  int execve(const char* path, char* const*, char* const*) override { return answer("execve " + str(path)); }

  // The calls that start with `prefix`, in order.
  std::vector<std::string> matching(const std::string& prefix) const {
    std::vector<std::string> out;
    for (const auto& c : calls)
      if (c.rfind(prefix, 0) == 0) out.push_back(c);
    return out;
  }

 private:
  static std::string str(const char* s) { return s ? s : "(null)"; }
  int answer(const std::string& call) {
    calls.push_back(call);
    for (const auto& [prefix, err] : failures)
      if (call.rfind(prefix, 0) == 0) return -err;
    return 0;
  }
  int fd_answer(const std::string& call) {
    int rc = answer(call);
    return rc < 0 ? rc : ::open("/dev/null", O_RDONLY | O_CLOEXEC);
  }
};

}  // namespace test
