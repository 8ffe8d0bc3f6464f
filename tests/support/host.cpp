#include "support/host.hpp"

#include "support/files.hpp"

#include <errno.h>
#include <fcntl.h>
#include <linux/magic.h>
#include <sched.h>
#include <signal.h>
#include <sys/ptrace.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/syscall.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <map>
#include <sstream>

namespace test::host {
namespace {

bool exists(const std::string& path) {
  struct stat st;
  return ::stat(path.c_str(), &st) == 0;
}

std::vector<std::string> split(const std::string& s, char sep) {
  std::vector<std::string> out;
  std::istringstream in(s);
  for (std::string part; std::getline(in, part, sep);) out.push_back(part);
  return out;
}

// AGENTRUN_TEST_ASSUME_NO lists probes to report as absent, so that the skip
// path of the tests can itself be tried on a host that has everything.
Probe unless_assumed_absent(const std::string& name, Probe found) {
  const char* list = std::getenv("AGENTRUN_TEST_ASSUME_NO");
  if (!list) return found;
  for (const auto& n : split(list, ','))
    if (n == name) return {false, name + " assumed absent (AGENTRUN_TEST_ASSUME_NO)"};
  return found;
}

std::string status_text(int status) {
  if (WIFSIGNALED(status)) return std::string("killed by ") + ::strsignal(WTERMSIG(status));
  return "exit status " + std::to_string(WEXITSTATUS(status));
}

// Runs `body` in a child and returns its wait status (or -1 when fork fails):
// a probe that crashes or changes the process must not take the test with it.
template <class Body>
int in_child(Body body) {
  const pid_t pid = ::fork();
  if (pid < 0) return -1;
  if (pid == 0) ::_exit(body());
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0)
    if (errno != EINTR) return -1;
  return status;
}

struct Mount {
  std::string point, fstype;
  std::vector<std::string> options;  // super options: the controllers of a v1 hierarchy
};

const std::vector<Mount>& cgroup_mount_table() {
  static const std::vector<Mount> table = [] {
    std::vector<Mount> out;
    std::istringstream lines(read_file("/proc/self/mountinfo"));
    for (std::string line; std::getline(lines, line);) {
      const auto dash = line.find(" - ");
      if (dash == std::string::npos) continue;
      const auto before = split(line.substr(0, dash), ' ');
      const auto after = split(line.substr(dash + 3), ' ');
      if (before.size() < 5 || after.size() < 3) continue;
      if (after[0] != "cgroup" && after[0] != "cgroup2") continue;
      out.push_back({before[4], after[0], split(after[2], ',')});
    }
    return out;
  }();
  return table;
}

bool statfs_is(const char* path, long magic) {
  struct statfs st;
  return ::statfs(path, &st) == 0 && static_cast<long>(st.f_type) == magic;
}

}  // namespace

const Probe& root() {
  static const Probe p = unless_assumed_absent(
      "root", ::geteuid() == 0 ? Probe{true, "euid 0"} : Probe{false, "needs root (euid " + std::to_string(::geteuid()) + ")"});
  return p;
}

const Probe& x86_64() {
  static const Probe p = [] {
    utsname u{};
    if (::uname(&u) != 0) return Probe{false, std::string("uname: ") + std::strerror(errno)};
#if defined(__x86_64__)
    const bool built_for = true;
#else
    const bool built_for = false;
#endif
    if (std::string(u.machine) != "x86_64" || !built_for)
      return Probe{false, std::string("needs x86_64; this is ") + u.machine};
    return unless_assumed_absent("x86_64", {true, "x86_64"});
  }();
  return p;
}

long i386_getpid() {
#if defined(__x86_64__)
  long rc;
  asm volatile("int $0x80" : "=a"(rc) : "a"(20L) : "memory");
  return rc;
#else
  return -ENOSYS;
#endif
}

const Probe& i386_syscalls() {
  static const Probe p = [] {
    if (!x86_64().available) return Probe{false, "no i386 entry: " + x86_64().reason};
    const int status = in_child([] {
      const rlimit no_core{0, 0};  // a kernel without the entry kills the probe: no core file for that
      if (::setrlimit(RLIMIT_CORE, &no_core) != 0) return 2;
      return i386_getpid() == ::syscall(SYS_getpid) ? 0 : 1;
    });
    if (status == 0) return unless_assumed_absent("i386", {true, "int $0x80 getpid works"});
    if (status > 0 && WIFSIGNALED(status) && WTERMSIG(status) == SIGSEGV)
      return Probe{false, "int $0x80 raised SIGSEGV: the kernel has no IA32 emulation"};
    return Probe{false, "int $0x80 getpid probe failed: " + (status < 0 ? std::string(std::strerror(errno))
                                                                        : status_text(status))};
  }();
  return p;
}

int landlock_abi() {
  static const int abi = [] {
    constexpr unsigned kVersion = 1U << 0;  // LANDLOCK_CREATE_RULESET_VERSION
    const long rc = ::syscall(SYS_landlock_create_ruleset, nullptr, 0, kVersion);
    return rc < 0 ? 0 : static_cast<int>(rc);
  }();
  return abi;
}

Probe landlock(int abi) {
  if (landlock_abi() >= abi) return unless_assumed_absent("landlock", {true, "ABI " + std::to_string(landlock_abi())});
  return {false, "needs Landlock ABI " + std::to_string(abi) + "; this kernel has " +
                     (landlock_abi() ? "ABI " + std::to_string(landlock_abi()) : std::string("no Landlock"))};
}

const Probe& apparmor() {
  static const Probe p = [] {
    const std::string enabled = read_file("/sys/module/apparmor/parameters/enabled");
    if (enabled.rfind("Y", 0) == 0) return unless_assumed_absent("apparmor", {true, "enabled"});
    return Probe{false, "AppArmor is not enabled (/sys/module/apparmor/parameters/enabled: " +
                            (enabled.empty() ? std::string("absent") : enabled.substr(0, 1)) + ")"};
  }();
  return p;
}

const Probe& selinux() {
  static const Probe p = exists("/sys/fs/selinux/enforce")
                             ? unless_assumed_absent("selinux", {true, "/sys/fs/selinux/enforce"})
                             : Probe{false, "SELinux is not enabled (no /sys/fs/selinux/enforce)"};
  return p;
}

const Probe& ptrace_traceme() {
  static const Probe p = [] {
    const int status = in_child([] { return ::ptrace(PTRACE_TRACEME, 0, nullptr, nullptr) == 0 ? 0 : (errno & 0x7f) + 1; });
    if (status == 0) return unless_assumed_absent("ptrace", {true, "PTRACE_TRACEME works"});
    return Probe{false, "PTRACE_TRACEME is refused (Yama's kernel.yama.ptrace_scope 3, or a seccomp filter)"};
  }();
  return p;
}

const Probe& user_namespaces() {
  static const Probe p = [] {
    const int status = in_child([] { return ::unshare(CLONE_NEWUSER) == 0 ? 0 : (errno & 0x7f) + 1; });
    if (status == 0) return unless_assumed_absent("userns", {true, "unshare(CLONE_NEWUSER) works"});
    if (status > 0 && WIFEXITED(status) && WEXITSTATUS(status) > 0)
      return Probe{false, std::string("unshare(CLONE_NEWUSER): ") + std::strerror(WEXITSTATUS(status) - 1)};
    return Probe{false, "user namespace probe failed: " + status_text(status)};
  }();
  return p;
}

const Probe& nftables() {
  static const Probe p = [] {
    if (!tool("nft").available) return Probe{false, "nft (package nftables) is not on PATH to probe nftables with"};
    const std::string nft = tool("nft").reason;
    const int status = in_child([&] {
      if (::unshare(CLONE_NEWNET) != 0) return 1;
      const int null = ::open("/dev/null", O_WRONLY);
      ::dup2(null, 1);
      ::dup2(null, 2);
      ::execl(nft.c_str(), "nft", "add table inet agentrun_probe", static_cast<char*>(nullptr));
      return 2;
    });
    if (status == 0) return unless_assumed_absent("nftables", {true, "nft adds a table in a new network namespace"});
    if (WIFEXITED(status) && WEXITSTATUS(status) == 1)
      return Probe{false, "a new network namespace to probe nftables in: unshare(CLONE_NEWNET) failed"};
    return Probe{false, "nftables does not work in a new network namespace (nft: " + status_text(status) + ")"};
  }();
  return p;
}

const Probe& systemd() {
  static const Probe p = [] {
    struct stat st;
    if (::stat("/run/systemd/system", &st) != 0) return Probe{false, "systemd is not the init here (no /run/systemd/system)"};
    if (!tool("systemctl").available) return Probe{false, "systemctl is not on PATH"};
    return unless_assumed_absent("systemd", {true, "systemd is the init"});
  }();
  return p;
}

Probe tool(const std::string& name) {
  static std::map<std::string, Probe> cache;
  if (auto it = cache.find(name); it != cache.end()) return it->second;
  const char* env = std::getenv("PATH");
  Probe p{false, name + " is not on PATH"};
  for (const auto& dir : split(env && *env ? env : "/usr/local/bin:/usr/bin:/bin:/usr/sbin:/sbin", ':')) {
    const std::string path = (dir.empty() ? "." : dir) + "/" + name;
    struct stat st;
    if (::stat(path.c_str(), &st) == 0 && S_ISREG(st.st_mode) && ::access(path.c_str(), X_OK) == 0) {
      p = {true, path};
      break;
    }
  }
  return cache[name] = unless_assumed_absent("tool:" + name, p);
}

CgroupLayout cgroup_layout() {
  static const CgroupLayout l = [] {
    if (statfs_is("/sys/fs/cgroup", CGROUP2_SUPER_MAGIC)) return CgroupLayout::v2;
    if (!statfs_is("/sys/fs/cgroup", TMPFS_MAGIC)) return CgroupLayout::none;
    return statfs_is("/sys/fs/cgroup/unified", CGROUP2_SUPER_MAGIC) ? CgroupLayout::hybrid : CgroupLayout::v1;
  }();
  return l;
}

const char* name(CgroupLayout l) {
  switch (l) {
    case CgroupLayout::none: return "none";
    case CgroupLayout::v1: return "v1";
    case CgroupLayout::hybrid: return "hybrid";
    case CgroupLayout::v2: return "v2";
  }
  return "?";
}

const Probe& cgroup_v1() {
  static const Probe p = cgroup_layout() == CgroupLayout::v1 || cgroup_layout() == CgroupLayout::hybrid
                             ? unless_assumed_absent("cgroup-v1", {true, name(cgroup_layout())})
                             : Probe{false, std::string("needs cgroup v1 hierarchies; the layout is ") +
                                                name(cgroup_layout())};
  return p;
}

const Probe& cgroup_v2() {
  static const Probe p = !cgroup_v2_mount().empty()
                             ? unless_assumed_absent("cgroup-v2", {true, cgroup_v2_mount()})
                             : Probe{false, std::string("needs a cgroup2 mount; the layout is ") + name(cgroup_layout())};
  return p;
}

std::string cgroup_v1_mount(const std::string& controller) {
  for (const auto& m : cgroup_mount_table())
    if (m.fstype == "cgroup")
      for (const auto& o : m.options)
        if (o == controller) return m.point;
  return "";
}

std::string cgroup_v2_mount() {
  switch (cgroup_layout()) {
    case CgroupLayout::v2: return "/sys/fs/cgroup";
    case CgroupLayout::hybrid: return "/sys/fs/cgroup/unified";
    default: return "";
  }
}

const std::vector<std::string>& cgroup_mounts() {
  static const std::vector<std::string> mounts = [] {
    std::vector<std::string> out;
    for (const auto& m : cgroup_mount_table())
      if (m.point.rfind("/sys/fs/cgroup", 0) == 0 &&
          (m.fstype == "cgroup" ? m.point != "/sys/fs/cgroup" : m.point == cgroup_v2_mount()))
        out.push_back(m.point);
    return out;
  }();
  return mounts;
}

std::string own_cgroup(const std::string& mount) {
  const Mount* hierarchy = nullptr;
  for (const auto& m : cgroup_mount_table())
    if (m.point == mount) hierarchy = &m;
  if (!hierarchy) return "";
  // "ID:CONTROLLERS:PATH"; cgroup2's line has no controllers, a v1 line
  // names controllers that are among its mount's super options.
  std::istringstream lines(read_file("/proc/self/cgroup"));
  for (std::string line; std::getline(lines, line);) {
    const auto a = line.find(':'), b = line.find(':', a + 1);
    if (a == std::string::npos || b == std::string::npos) continue;
    const auto listed = split(line.substr(a + 1, b - a - 1), ',');
    const bool match = hierarchy->fstype == "cgroup2"
                           ? listed.empty()
                           : std::any_of(listed.begin(), listed.end(), [&](const std::string& c) {
                               return std::count(hierarchy->options.begin(), hierarchy->options.end(), c) > 0;
                             });
    if (match) return line.substr(b + 1);
  }
  return "";
}

std::string sandbox_parent(const std::string& mount) {
  const std::string own = own_cgroup(mount);
  const std::string below = mount + (own == "/" ? "" : own);
  if (cgroup_layout() != CgroupLayout::v2 || own == "/") return below;
  const std::string parent = mount + own.substr(0, own.rfind('/'));
  return read_file(parent + "/cgroup.subtree_control").find_first_not_of(" \n") != std::string::npos ? parent : below;
}

Probe cgroup_controller(const std::string& controller) {
  static std::map<std::string, Probe> cache;
  if (auto it = cache.find(controller); it != cache.end()) return it->second;
  Probe p;
  if (const auto v1 = cgroup_v1_mount(controller); !v1.empty()) {
    p = {true, "v1 hierarchy at " + v1};
  } else if ((controller == "freezer" || controller == "devices") && !cgroup_v2_mount().empty()) {
    p = {true, "cgroup2 " + std::string(controller == "freezer" ? "cgroup.freeze" : "BPF device filter")};
  } else if (const auto v2 = cgroup_v2_mount(); !v2.empty()) {
    // On pure v2, what the sandboxes' cgroups get: their parent's subtree_control.
    const std::string file = cgroup_layout() == CgroupLayout::v2 ? sandbox_parent(v2) + "/cgroup.subtree_control"
                                                                 : v2 + own_cgroup(v2) + "/cgroup.controllers";
    std::string text = read_file(file);
    const auto listed = split(text.substr(0, text.find('\n')), ' ');
    p = std::find(listed.begin(), listed.end(), controller) != listed.end()
            ? Probe{true, "cgroup2 controller in " + file}
            : Probe{false, "cgroup controller " + controller + " is neither a v1 hierarchy nor enabled in " + file +
                               " (run the tests in a leaf cgroup whose parent delegates it)"};
  } else {
    p = {false, "no cgroup file system is mounted"};
  }
  return cache[controller] = unless_assumed_absent("cgroup:" + controller, p);
}

const Probe& swap_accounting() {
  static const Probe p = [] {
    if (const auto v1 = cgroup_v1_mount("memory"); !v1.empty())
      return exists(v1 + "/memory.memsw.limit_in_bytes")
                 ? unless_assumed_absent("swap", {true, "memory.memsw.limit_in_bytes"})
                 : Probe{false, "no swap accounting (no memory.memsw.limit_in_bytes in " + v1 +
                                    "; boot with swapaccount=1)"};
    if (!cgroup_controller("memory").available) return Probe{false, "no memory controller"};
    // The root cgroup has no memory.swap.max: look in ours, which is a child.
    const std::string own = cgroup_v2_mount() + own_cgroup(cgroup_v2_mount());
    return exists(own + "/memory.swap.max")
               ? unless_assumed_absent("swap", {true, "memory.swap.max"})
               : Probe{false, "no swap accounting (no memory.swap.max in " + own + ")"};
  }();
  return p;
}

}  // namespace test::host
