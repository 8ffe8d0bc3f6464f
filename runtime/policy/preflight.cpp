#include "runtime/policy/preflight.hpp"

#include <linux/seccomp.h>
#include <sched.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <rapidjson/prettywriter.h>
#include <rapidjson/stringbuffer.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <functional>

#include "runtime/confine/landlock.hpp"
#include "spec/json_write.hpp"

#ifndef CLONE_NEWTIME
#define CLONE_NEWTIME 0x00000080  // Linux 5.6; not in every libc's sched.h
#endif

namespace agentrun {
namespace {

FeatureProbe available(std::string reason) { return {{}, true, std::move(reason)}; }
FeatureProbe unavailable(std::string reason) { return {{}, false, std::move(reason)}; }

// "creating a user namespace failed with EPERM (operation not permitted): hint"
std::string failed(const std::string& what, int e, const std::string& hint) {
  const char* name = strerrorname_np(e);
  std::string out = what + " failed with " + (name ? name : "errno " + std::to_string(e)) + " (" + errno_text(e) + ")";
  return hint.empty() ? out : out + ": " + hint;
}

struct Namespace {
  const char* feature;
  int flag;
  const char* what;    // for reasons
  const char* limit;   // /proc/sys/user/max_<limit>_namespaces
  const char* config;  // the kernel option it needs, null if always built in
};

constexpr Namespace kNamespaces[] = {
    {"user-ns", CLONE_NEWUSER, "creating a user namespace", "user", "CONFIG_USER_NS"},
    {"pid-ns", CLONE_NEWPID, "creating a pid namespace", "pid", "CONFIG_PID_NS"},
    {"net-ns", CLONE_NEWNET, "creating a network namespace", "net", "CONFIG_NET_NS"},
    {"mount-ns", CLONE_NEWNS, "creating a mount namespace", "mnt", nullptr},
    {"ipc-ns", CLONE_NEWIPC, "creating an IPC namespace", "ipc", "CONFIG_IPC_NS"},
    {"uts-ns", CLONE_NEWUTS, "creating a UTS namespace", "uts", "CONFIG_UTS_NS"},
    {"cgroup-ns", CLONE_NEWCGROUP, "creating a cgroup namespace", "cgroup", "CONFIG_CGROUPS"},
    {"time-ns", CLONE_NEWTIME, "creating a time namespace", "time", "CONFIG_TIME_NS"},
};

// The errno of unshare(flag) in a child (0: it worked), so that the caller's
// own namespaces stay as they are.
Result<int> unshare_errno(int flag) {
  pid_t pid = ::fork();
  if (pid < 0) return sys_error("fork the probe", errno);
  if (pid == 0) ::_exit(::unshare(flag) == 0 ? 0 : errno);
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0)
    if (errno != EINTR) return sys_error("wait for the probe", errno);
  if (!WIFEXITED(status)) return plain_error("the probe", "killed by signal " + std::to_string(WTERMSIG(status)));
  return WEXITSTATUS(status);
}

std::string namespace_failure(const Namespace& ns, int e) {
  std::string hint;
  if (e == EPERM)
    hint = ns.flag == CLONE_NEWUSER
               ? "unprivileged user namespaces are disabled (sysctl kernel.unprivileged_userns_clone or "
                 "kernel.apparmor_restrict_unprivileged_userns), or a seccomp filter or LSM around agentrun forbids them"
               : "agentrun lacks CAP_SYS_ADMIN here: run it as root, or rootless with a user namespace";
  else if (e == ENOSPC)
    hint = std::string("the limit /proc/sys/user/max_") + ns.limit + "_namespaces is reached or 0";
  else if (e == EINVAL && ns.config)
    hint = std::string("the kernel is built without ") + ns.config;
  return failed(ns.what, e, hint);
}

FeatureProbe probe_namespace(const Namespace& ns) {
  auto e = unshare_errno(ns.flag);
  if (!e) return unavailable(std::string(ns.what) + ": " + e.error().message());
  if (*e == 0) return available(std::string(ns.what) + " works");
  return unavailable(namespace_failure(ns, *e));
}

FeatureProbe probe_seccomp() {
  int mode = ::prctl(PR_GET_SECCOMP, 0, 0, 0, 0);
  if (mode < 0) {
    int e = errno;
    return unavailable(failed("prctl(PR_GET_SECCOMP)", e, e == EINVAL ? "the kernel is built without CONFIG_SECCOMP" : ""));
  }
  uint32_t action = SECCOMP_RET_ERRNO;
  if (::syscall(SYS_seccomp, SECCOMP_GET_ACTION_AVAIL, 0, &action) != 0) {
    int e = errno;
    return unavailable(failed("seccomp(SECCOMP_GET_ACTION_AVAIL, SECCOMP_RET_ERRNO)", e,
                              e == EINVAL ? "the kernel is older than 4.14 or built without CONFIG_SECCOMP_FILTER" : ""));
  }
  return available(mode == SECCOMP_MODE_FILTER
                       ? "filters with SECCOMP_RET_ERRNO; agentrun already runs under a filter, which stays in force"
                       : "filters with SECCOMP_RET_ERRNO");
}

FeatureProbe probe_no_new_privs() {
  int v = ::prctl(PR_GET_NO_NEW_PRIVS, 0, 0, 0, 0);
  if (v < 0) {
    int e = errno;
    return unavailable(failed("prctl(PR_GET_NO_NEW_PRIVS)", e, e == EINVAL ? "the kernel is older than 3.5" : ""));
  }
  return available(v == 1 ? "no_new_privs is already set for agentrun itself" : "prctl(PR_SET_NO_NEW_PRIVS) is supported");
}

FeatureProbe probe_landlock() {
  int abi = landlock_abi();
  if (abi > 0) {
    const std::string shortfall = landlock_shortfall(abi);
    auto p = available("ABI " + std::to_string(abi) + (shortfall.empty() ? "" : "; " + shortfall));
    p.landlock_abi = abi;
    return p;
  }
  int e = errno;
  std::string hint = e == ENOSYS       ? "the kernel is built without CONFIG_SECURITY_LANDLOCK"
                     : e == EOPNOTSUPP ? "Landlock is built in but not enabled: add landlock to the lsm= kernel parameter"
                                       : "";
  return unavailable(failed("landlock_create_ruleset(LANDLOCK_CREATE_RULESET_VERSION)", e, hint));
}

FeatureProbe probe_controller(const std::string& controller, const CgroupLayout& layout) {
  if (auto it = layout.v1.find(controller); it != layout.v1.end())
    return available("v1 hierarchy at " + it->second);
  if (auto blocked = layout.unified_blocked.find(controller); blocked != layout.unified_blocked.end())
    return unavailable("cgroup2 controller \"" + controller + "\" is not delegated: " + blocked->second);
  if (layout.unified_controllers.count(controller))
    return available("cgroup2 controller in " + layout.unified);
  const std::string quoted = "\"" + controller + "\"";
  const std::string check = " (is it disabled with cgroup_disable= on the kernel command line?)";
  switch (layout.mode) {
    case CgroupMode::v1:
      return unavailable("no v1 hierarchy for controller " + quoted + " is mounted" + check);
    case CgroupMode::v2:
      return unavailable("controller " + quoted + " is not in " + layout.unified + "/cgroup.controllers" + check);
    case CgroupMode::hybrid:
      break;
  }
  return unavailable("no v1 hierarchy or cgroup2 controller " + quoted + " on this host" + check);
}

using Probe = std::function<FeatureProbe(const CgroupLayout&, const HostFacts&)>;

// A probe for each of feature_names().
const std::vector<std::pair<std::string, Probe>>& features() {
  static const auto table = [] {
    std::vector<std::pair<std::string, Probe>> t;
    for (const auto& ns : kNamespaces)
      t.emplace_back(ns.feature, [&ns](const CgroupLayout&, const HostFacts&) { return probe_namespace(ns); });
    t.emplace_back("seccomp", [](const CgroupLayout&, const HostFacts&) { return probe_seccomp(); });
    t.emplace_back("no-new-privileges", [](const CgroupLayout&, const HostFacts&) { return probe_no_new_privs(); });
    t.emplace_back("landlock", [](const CgroupLayout&, const HostFacts&) { return probe_landlock(); });
    for (const char* c : {"pids", "memory", "cpu"})
      t.emplace_back(std::string("cgroup-") + c,
                     [c](const CgroupLayout& layout, const HostFacts&) { return probe_controller(c, layout); });
    t.emplace_back("apparmor", [](const CgroupLayout&, const HostFacts& host) {
      return host.apparmor ? available("enabled (/sys/module/apparmor/parameters/enabled)")
                           : unavailable("AppArmor is not enabled on this host (/sys/module/apparmor/parameters/enabled)");
    });
    t.emplace_back("selinux", [](const CgroupLayout&, const HostFacts& host) {
      return host.selinux ? available("enabled (/sys/fs/selinux)")
                          : unavailable("SELinux is not enabled on this host (no /sys/fs/selinux)");
    });
    return t;
  }();
  return table;
}

}  // namespace

Error namespace_error(int flags, int errnum) {
  for (const auto& ns : kNamespaces) {
    if (!(flags & ns.flag)) continue;
    // One namespace alone is the one refused; of several, the first refused.
    if (flags == ns.flag) return plain_error("create namespaces", namespace_failure(ns, errnum));
    if (::unshare(ns.flag) < 0) return plain_error("create namespaces", namespace_failure(ns, errno));
  }
  return sys_error("create namespaces", errnum);
}

FeatureProbe probe_feature(const std::string& name, const CgroupLayout& layout, const HostFacts& host) {
  for (const auto& [feature, probe] : features()) {
    if (feature != name) continue;
    FeatureProbe p = probe(layout, host);
    p.name = feature;
    return p;
  }
  std::string known;
  for (const auto& n : feature_names()) known += (known.empty() ? "" : ", ") + n;
  fail("preflight", "unknown feature \"" + name + "\" (known: " + known + ")");
}

std::vector<FeatureProbe> probe_features(const CgroupLayout& layout, const HostFacts& host) {
  std::vector<FeatureProbe> out;
  for (const auto& name : feature_names()) out.push_back(probe_feature(name, layout, host));
  return out;
}

std::string preflight_table(const std::vector<FeatureProbe>& probes) {
  const std::string feature = "FEATURE", avail = "AVAILABLE";
  size_t width = feature.size();
  for (const auto& p : probes) width = std::max(width, p.name.size());
  auto row = [width, &avail](const std::string& a, const std::string& b, const std::string& c) {
    return a + std::string(width - a.size() + 2, ' ') + b + std::string(avail.size() - b.size() + 2, ' ') + c + "\n";
  };
  std::string out = row(feature, avail, "REASON");
  for (const auto& p : probes) out += row(p.name, p.available ? "yes" : "no", p.reason);
  return out;
}

std::string preflight_json(const std::vector<FeatureProbe>& probes) {
  rapidjson::StringBuffer buf;
  rapidjson::PrettyWriter<rapidjson::StringBuffer> w(buf);
  w.SetIndent(' ', 2);
  w.StartArray();
  for (const auto& p : probes) {
    w.StartObject();
    spec::write_string(w, "feature", p.name);
    w.Key("available");
    w.Bool(p.available);
    spec::write_string(w, "reason", p.reason);
    w.EndObject();
  }
  w.EndArray();
  return buf.GetString();
}

}  // namespace agentrun
