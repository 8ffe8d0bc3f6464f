#pragma once
// The plan: everything `create` will do, decided before any process exists.
// make_plan() is pure (config and host facts in, plan out: no system calls,
// no files) and throws Failure naming the config field on anything it
// cannot honour; the init executes the plan and has no decisions left to
// make. Its seccomp filters are profiles until the caller compiles them.

#include <sys/types.h>

#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "runtime/confine/landlock_rules.hpp"
#include "runtime/confine/mount_options.hpp"
#include "runtime/confine/seccomp_compile.hpp"
#include "runtime/util/mount_entry.hpp"
#include "runtime/util/sys.hpp"
#include "spec/config.hpp"

namespace agentrun {

// What the host offers; probed once by the CLI, passed in so planning stays pure.
struct HostFacts {
  int last_cap = 40;  // /proc/sys/kernel/cap_last_cap
  bool apparmor = false;
  bool selinux = false;
};

struct PlanOptions {
  std::string id;
  std::string bundle;  // absolute
  bool no_pivot = false;
  bool no_new_keyring = false;
  int preserve_fds = 0;  // --preserve-fds
  int listen_fds = 0;    // LISTEN_FDS handed to agentrun by systemd socket activation
  // A policy without rules (oci) runs a config with no mount namespace by
  // chroot, as crun does; an agent policy refuses it.
  bool chroot_without_mount_ns = false;
};

struct NamespaceJoin {
  spec::NamespaceType type;
  std::string path;
};

enum class MountKind { bind, filesystem, cgroup };

struct MountStep {
  MountKind kind = MountKind::filesystem;
  std::string field;        // "mounts[3]", for errors
  std::string source;       // bind: absolute host path; otherwise the source name
  std::string destination;  // clean absolute path inside the container
  std::string type;         // file-system type
  MountOptions options;
  std::string root_label;   // SELinux label of the root of a file system that takes no "context" (mqueue)
};

struct DeviceNode {
  std::string path;  // absolute, under /dev
  mode_t type = 0;   // S_IFCHR, S_IFBLK or S_IFIFO
  dev_t dev = 0;
  mode_t mode = 0666;
  uid_t uid = 0;
  gid_t gid = 0;
};

// A seccomp filter the init loads. The plan chooses the profile; the caller
// compiles it (container/, through confine/'s cache) before the init runs,
// and an empty program fails to load.
struct SeccompFilter {
  std::string name;  // in errors: "config.json: linux.seccomp", "seccomp profile agent-hardening"
  spec::Seccomp profile;
  SeccompProgram program;
};

struct ProcessPlan {
  std::vector<std::string> args;
  std::vector<std::string> env;
  std::string cwd;
  std::string cwd_source = "config.json: process.cwd";  // where cwd came from, for errors: "exec --cwd"
  uid_t uid = 0;
  gid_t gid = 0;
  std::vector<gid_t> groups;
  std::optional<mode_t> umask;
  CapSets caps;
  std::vector<spec::Rlimit> rlimits;
  bool no_new_privileges = false;
  bool terminal = false;
  std::optional<spec::ConsoleSize> console_size;
  std::optional<int> oom_score_adj;
  std::string apparmor_profile;
  std::string selinux_label;  // for the process and the keyring it creates
  std::optional<int> ioprio;  // (class << 13) | priority
  std::optional<SchedAttr> scheduler;
  std::vector<int> cpus_initial;  // empty: leave the affinity alone
  std::vector<int> cpus_final;
};

struct Plan {
  std::string oci_version;
  std::string id;
  std::string bundle;
  std::string rootfs;  // absolute host path
  bool readonly_root = false;
  // No mount namespace: the init stays in the runtime's and enters `rootfs`
  // by chroot, mounting and creating nothing (the mount and /dev fields are
  // empty, `warnings` names what config.json asked for among them).
  bool chroot = false;
  std::vector<std::string> warnings;  // for stderr, --log and inspect

  int new_namespaces = 0;  // CLONE_NEW* flags of the namespaces to create
  std::vector<NamespaceJoin> joins;
  std::vector<spec::IdMapping> uid_mappings, gid_mappings;
  std::map<std::string, spec::TimeOffset> time_offsets;

  unsigned long rootfs_propagation = 0;  // MS_* | MS_REC, applied to "/"
  std::vector<MountStep> mounts;
  bool setup_dev = true;       // /dev is not bind-mounted: create the device nodes
  bool bind_devices = false;   // in a user namespace mknod fails: bind host nodes
  std::vector<DeviceNode> devices;
  std::vector<std::string> masked_paths, readonly_paths;

  std::string hostname, domainname;
  std::vector<std::pair<std::string, std::string>> sysctls;  // /proc/sys relative path -> value
  std::optional<unsigned long> personality;
  ProcessPlan process;
  std::optional<SeccompFilter> seccomp;
  std::string seccomp_listener_path, seccomp_listener_metadata;
  // The policy's default-allow filters, loaded after `seccomp`: stacked
  // filters give the stricter answer of all.
  std::vector<SeccompFilter> seccomp_stack;
  std::optional<LandlockRuleset> landlock;

  // Policy filesystem rules the init carries out inside the rootfs.
  std::vector<std::string> deny_exec;       // command names covered in every PATH directory
  std::vector<std::string> deny_exec_dirs;  // the process's PATH directories
  std::vector<std::string> writable_binds;  // directories that stay writable under a read-only root

  // linux.resources, with the default devices allowed after the config's
  // device rules (as runc does, so that a "deny all" keeps /dev/null usable).
  std::optional<spec::Resources> resources;

  spec::Hooks hooks;
  std::map<std::string, std::string> annotations;
  bool no_pivot = false;
  bool no_new_keyring = false;
  int preserved_fds = 0;  // fds 3 .. 3+n-1 reach the container
  int last_cap = 40;      // the running kernel's highest capability
  // The runtime's own binary (device, inode): never the container's program,
  // which would run, and show through /proc/PID/exe, the host's file.
  std::optional<std::pair<dev_t, ino_t>> runtime_binary;
  // The host's cgroup file systems, as create read them (CgroupLayout): what
  // a cgroup mount binds, without reading /proc/self/mountinfo again.
  std::vector<MountInfo> host_cgroup_mounts;

  bool creates(spec::NamespaceType t) const;
  bool has_user_namespace() const;
  // A new network namespace create makes and hands the init (it is made
  // while the init's CPU wakes): one in the host's user namespace. Under a
  // user namespace of its own the init makes it, so that the container owns it.
  bool network_namespace_from_runtime() const;
};

Plan make_plan(const spec::Config& config, const PlanOptions& options, const HostFacts& host);

// What every process `exec` starts in the container shares, decided at
// create from the container's plan: the namespaces to join (their paths are
// the init's, filled in by make_exec_plan), the root, the personality, the
// seccomp filters and Landlock. None of the container's one-time setup
// (mounts, devices, hostname, sysctls, hooks, id maps, its session keyring).
Plan exec_base(const Plan& container);

// `exec`: `base` with `process` in it, joining the namespaces of the
// container's init `init_pid`.
Plan make_exec_plan(Plan base, const spec::Process& process, int init_pid, int preserve_fds);

// The OCI state of the container this plan makes, for hooks and listeners.
std::string plan_state_json(const Plan& plan, const char* status, int pid);

// "0-3,7" -> {0,1,2,3,7}; throws Failure naming `field`.
std::vector<int> parse_cpu_list(const std::string& list, const std::string& field);
// "net.ipv4.ip_forward" -> "net/ipv4/ip_forward" (a "/" in a key stands for a ".").
std::string sysctl_path(const std::string& key);

}  // namespace agentrun
