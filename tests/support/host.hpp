#pragma once
// What the tests know about the host they run on, in one place. Each probe
// looks once and says whether the thing is there and, when it is not, why.
// AGENTRUN_TEST_ASSUME_NO=name,name... makes the named probes report
// absence (to check that the tests that need them are skipped).

#include <string>
#include <vector>

namespace test::host {

struct Probe {
  bool available = false;
  std::string reason;  // why not; what was found when available
};

const Probe& root();
const Probe& x86_64();                // "x86_64"
const Probe& i386_syscalls();         // "i386": int $0x80 works (IA32 emulation)
int landlock_abi();                   // 0 without Landlock
Probe landlock(int abi);              // "landlock": at least this ABI
const Probe& apparmor();              // "apparmor"
const Probe& selinux();               // "selinux"
const Probe& user_namespaces();       // "userns"
const Probe& ptrace_traceme();        // "ptrace": a child may ask to be traced (Yama allows it)
const Probe& swap_accounting();       // "swap"
Probe tool(const std::string& name);  // "tool:NAME": an executable on PATH
// "nftables": nft can add a table in a new network namespace (root).
const Probe& nftables();
// "systemd": systemd is PID 1's init (/run/systemd/system) and answers on the system bus.
const Probe& systemd();

enum class CgroupLayout { none, v1, hybrid, v2 };
CgroupLayout cgroup_layout();
const char* name(CgroupLayout l);
const Probe& cgroup_v1();  // "cgroup-v1": some v1 hierarchy is mounted
const Probe& cgroup_v2();  // "cgroup-v2": a cgroup2 mount (alone or beside v1)
// "cgroup:NAME": a v1 hierarchy of that controller, or NAME in our cgroup2
// cgroup.controllers (freezer and devices: any cgroup2 mount, where they are built in).
Probe cgroup_controller(const std::string& controller);

// The v1 mount point of a controller ("" when it has none), and the cgroup2 mount ("" when none).
std::string cgroup_v1_mount(const std::string& controller);
std::string cgroup_v2_mount();
// Every mounted cgroup hierarchy: each v1 mount point once, and the cgroup2 one.
const std::vector<std::string>& cgroup_mounts();
// This process's cgroup in the hierarchy mounted at `mount` ("/..."), from /proc/self/cgroup.
std::string own_cgroup(const std::string& mount);
// Where a test's cgroups go in that hierarchy (a full path): below its own
// cgroup, except on pure cgroup v2, where that cgroup holds the test and no
// controller could reach below it: there, beside it when its parent
// delegates controllers (the test runs in a leaf, as tests/guest arranges).
std::string sandbox_parent(const std::string& mount);

// getpid through the i386 system call table (int $0x80, number 20); only on x86_64.
long i386_getpid();

}  // namespace test::host
