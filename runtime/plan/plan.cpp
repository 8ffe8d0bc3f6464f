#include "runtime/plan/plan.hpp"

#include <linux/mount.h>
#include <sys/personality.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>

#include <algorithm>
#include <charconv>

#include "runtime/cgroup/default_devices.hpp"
#include "runtime/util/in_root.hpp"
#include "spec/error.hpp"
#include "spec/names.hpp"
#include "spec/state.hpp"

namespace agentrun {
namespace {

const std::string kFile = "config.json";

std::string field(const std::string& path) { return kFile + ": " + path; }

std::string absolute_in(const std::string& base, const std::string& path) {
  if (!path.empty() && path[0] == '/') return path;
  return base + "/" + path;
}

uint64_t cap_bits(const std::vector<int>& caps, int last_cap, const std::string& set) {
  uint64_t bits = 0;
  for (size_t i = 0; i < caps.size(); ++i) {
    if (caps[i] > last_cap)
      fail(field("process.capabilities." + set + "[" + std::to_string(i) + "]"),
           spec::capability_name(caps[i]) + " is not supported by the running kernel");
    bits |= uint64_t{1} << caps[i];
  }
  return bits;
}

CapSets plan_caps(const std::optional<spec::Capabilities>& caps, int last_cap) {
  if (!caps) return {};
  return CapSets{cap_bits(caps->bounding, last_cap, "bounding"),
                 cap_bits(caps->effective, last_cap, "effective"),
                 cap_bits(caps->permitted, last_cap, "permitted"),
                 cap_bits(caps->inheritable, last_cap, "inheritable"),
                 cap_bits(caps->ambient, last_cap, "ambient")};
}

unsigned long plan_propagation(const std::string& p) {
  static const std::pair<const char*, unsigned long> kTable[] = {
      {"", MS_SLAVE | MS_REC},          {"private", MS_PRIVATE},
      {"rprivate", MS_PRIVATE | MS_REC}, {"slave", MS_SLAVE},
      {"rslave", MS_SLAVE | MS_REC},     {"shared", MS_SHARED},
      {"rshared", MS_SHARED | MS_REC},   {"unbindable", MS_UNBINDABLE},
      {"runbindable", MS_UNBINDABLE | MS_REC}};
  for (const auto& [name, flags] : kTable)
    if (p == name) return flags;
  fail(field("linux.rootfsPropagation"), "unknown propagation \"" + p + "\"");
}

// linux.mountLabel as the file system's "context" parameter, as runc gives
// it: not to binds (they keep their files' labels), nor to proc and sysfs
// (labelled by the policy); mqueue refuses the parameter, so its root is
// labelled once mounted.
void label_mount(MountStep& step, const std::string& mount_label) {
  if (mount_label.empty() || step.kind != MountKind::filesystem) return;
  if (step.type == "proc" || step.type == "sysfs") return;
  if (step.type == "mqueue") {
    step.root_label = mount_label;
    return;
  }
  auto& data = step.options.data;
  if (std::none_of(data.begin(), data.end(), [](const FsParameter& p) { return p.key == "context"; }))
    data.push_back({"context", mount_label});
}

MountStep plan_mount(const spec::Mount& m, size_t index, const std::string& bundle) {
  MountStep step;
  step.field = "mounts[" + std::to_string(index) + "]";
  step.destination = clean_path(m.destination);
  step.type = m.type;
  step.options = parse_mount_options(m.options, m.type == "bind", field(step.field + ".options"));
  if (!m.uidMappings.empty() || !m.gidMappings.empty() || step.options.idmap)
    fail(field(step.field), "idmapped mounts are not supported yet");
  if (step.options.bind) {
    step.kind = MountKind::bind;
    if (m.source.empty()) fail(field(step.field + ".source"), "a bind mount needs a source");
    step.source = absolute_in(bundle, m.source);
  } else if (m.type == "cgroup" || m.type == "cgroup2") {
    step.kind = MountKind::cgroup;
  } else {
    if (m.type.empty() || m.type == "none")
      fail(field(step.field + ".type"), "a mount that is not a bind mount needs a file-system type");
    step.kind = MountKind::filesystem;
    step.source = m.source.empty() ? m.type : m.source;
  }
  if (step.options.copy_up && m.type != "tmpfs")
    fail(field(step.field + ".options"), "option \"tmpcopyup\" applies to tmpfs mounts only");
  return step;
}

DeviceNode device_node(const std::string& path, mode_t type, unsigned major, unsigned minor) {
  return DeviceNode{path, type, makedev(major, minor), 0666, 0, 0};
}

std::vector<DeviceNode> plan_devices(const std::vector<spec::Device>& devices) {
  // The devices every container has (runc's list); linux.devices may override them.
  std::vector<DeviceNode> out = {
      device_node("/dev/null", S_IFCHR, 1, 3),    device_node("/dev/zero", S_IFCHR, 1, 5),
      device_node("/dev/full", S_IFCHR, 1, 7),    device_node("/dev/random", S_IFCHR, 1, 8),
      device_node("/dev/urandom", S_IFCHR, 1, 9), device_node("/dev/tty", S_IFCHR, 5, 0),
  };
  for (const auto& d : devices) {
    DeviceNode n;
    n.path = clean_path(d.path);
    n.type = d.type == 'b' ? S_IFBLK : d.type == 'p' ? S_IFIFO : S_IFCHR;
    n.dev = d.type == 'p' ? 0 : makedev(static_cast<unsigned>(d.major), static_cast<unsigned>(d.minor));
    n.mode = d.fileMode.value_or(0666) & 07777;
    n.uid = d.uid.value_or(0);
    n.gid = d.gid.value_or(0);
    auto same = [&n](const DeviceNode& o) { return o.path == n.path; };
    out.erase(std::remove_if(out.begin(), out.end(), same), out.end());
    out.push_back(std::move(n));
  }
  return out;
}

ProcessPlan plan_process(const spec::Process& p, const HostFacts& host) {
  ProcessPlan out{
      .args = p.args,
      .env = p.env,
      .cwd = p.cwd,
      .uid = p.user.uid,
      .gid = p.user.gid,
      .groups = {p.user.additionalGids.begin(), p.user.additionalGids.end()},
      .umask = p.user.umask ? std::optional<mode_t>(static_cast<mode_t>(*p.user.umask)) : std::nullopt,
      .caps = plan_caps(p.capabilities, host.last_cap),
      .rlimits = p.rlimits,
      .no_new_privileges = p.noNewPrivileges,
      .terminal = p.terminal,
      .console_size = p.consoleSize,
      .oom_score_adj = p.oomScoreAdj,
      .apparmor_profile = p.apparmorProfile,
      .selinux_label = p.selinuxLabel,
  };
  if (p.ioPriority) out.ioprio = (p.ioPriority->ioClass << 13) | p.ioPriority->priority;
  if (p.scheduler) {
    const auto& s = *p.scheduler;
    out.scheduler = SchedAttr{s.policy, s.nice, s.priority, s.flags, s.runtime, s.deadline, s.period};
  }
  if (p.execCPUAffinity) {
    out.cpus_initial = parse_cpu_list(p.execCPUAffinity->initial, field("process.execCPUAffinity.initial"));
    out.cpus_final = parse_cpu_list(p.execCPUAffinity->final, field("process.execCPUAffinity.final"));
  }
  return out;
}

void plan_namespaces(const spec::Linux& linux, Plan& plan) {
  for (const auto& ns : linux.namespaces) {
    if (ns.path.empty())
      plan.new_namespaces |= spec::namespace_clone_flag(ns.type);
    else
      plan.joins.push_back({ns.type, ns.path});
  }
  // A joined user namespace comes first, so the others are created inside it.
  std::stable_partition(plan.joins.begin(), plan.joins.end(),
                        [](const NamespaceJoin& j) { return j.type == spec::NamespaceType::user; });
}

bool has_mount_namespace(const Plan& plan) {
  return plan.creates(spec::NamespaceType::mount) ||
         std::any_of(plan.joins.begin(), plan.joins.end(),
                     [](const NamespaceJoin& j) { return j.type == spec::NamespaceType::mount; });
}

// runc and crun set up the root file system in a joined mount namespace as
// in a new one. Without any, runc mounts in the host's namespace; crun
// chroots and skips the mounts, but still masks paths and makes the root
// read-only in the host's namespace. Here the init only chroots: whatever
// needs a mount or a new file in the rootfs is left out, named in one warning.
void plan_chroot(Plan& plan, const spec::Linux& linux, const PlanOptions& options) {
  if (!options.chroot_without_mount_ns)
    fail(field("linux.namespaces"),
         "a mount namespace (created or joined) is required: without one the root file system would be set up "
         "in the runtime's own mount namespace");
  std::string skipped;
  auto skip = [&skipped](const std::string& what) { skipped += (skipped.empty() ? "" : ", ") + what; };
  for (const auto& m : plan.mounts) skip(m.field + " " + m.destination);
  if (!plan.masked_paths.empty()) skip("linux.maskedPaths");
  if (!plan.readonly_paths.empty()) skip("linux.readonlyPaths");
  if (plan.readonly_root) skip("root.readonly");
  if (!linux.rootfsPropagation.empty()) skip("linux.rootfsPropagation");
  for (const auto& d : linux.devices) skip("linux.devices " + d.path);
  if (plan.setup_dev) skip("the default /dev (device nodes and links)");
  if (plan.process.terminal) skip("/dev/console");
  plan.warnings.push_back(field("linux.namespaces") +
                          ": no mount namespace: the container shares the runtime's and enters its root by chroot, "
                          "as crun does; nothing is mounted or created, so these are left out: " + skipped);
  plan.chroot = true;
  plan.mounts.clear();
  plan.masked_paths.clear();
  plan.readonly_paths.clear();
  plan.readonly_root = false;
  plan.rootfs_propagation = 0;
  plan.setup_dev = false;
  plan.devices.clear();
}

bool binds_dev(const std::vector<MountStep>& mounts) {
  return std::any_of(mounts.begin(), mounts.end(), [](const MountStep& m) {
    return m.destination == "/dev" && m.kind == MountKind::bind;
  });
}

}  // namespace

bool Plan::creates(spec::NamespaceType t) const {
  return (new_namespaces & spec::namespace_clone_flag(t)) != 0;
}

bool Plan::network_namespace_from_runtime() const {
  return creates(spec::NamespaceType::network) && !has_user_namespace();
}

bool Plan::has_user_namespace() const {
  return creates(spec::NamespaceType::user) ||
         std::any_of(joins.begin(), joins.end(),
                     [](const NamespaceJoin& j) { return j.type == spec::NamespaceType::user; });
}

std::vector<int> parse_cpu_list(const std::string& list, const std::string& where) {
  std::vector<int> out;
  if (list.empty()) return out;
  auto number = [&](std::string_view s) {
    int v = -1;
    auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
    if (ec != std::errc() || p != s.data() + s.size() || v < 0 || v >= 1024)
      fail(where, "bad CPU list \"" + list + "\"");
    return v;
  };
  std::string_view rest = list;
  for (bool more = true; more;) {
    auto comma = rest.find(',');
    std::string_view item = rest.substr(0, comma);
    more = comma != std::string_view::npos;
    rest = more ? rest.substr(comma + 1) : std::string_view{};
    auto dash = item.find('-');
    int lo = number(item.substr(0, dash));
    int hi = dash == std::string_view::npos ? lo : number(item.substr(dash + 1));
    if (hi < lo) fail(where, "bad CPU list \"" + list + "\"");
    for (int c = lo; c <= hi; ++c) out.push_back(c);
  }
  return out;
}

std::string sysctl_path(const std::string& key) {
  std::string out = key;
  for (auto& c : out) c = c == '.' ? '/' : c == '/' ? '.' : c;
  return out;
}

Plan exec_base(const Plan& container) {
  Plan base;
  base.oci_version = container.oci_version;
  base.id = container.id;
  base.bundle = container.bundle;
  base.rootfs = container.rootfs;
  base.chroot = container.chroot;
  base.personality = container.personality;
  base.seccomp = container.seccomp;
  base.seccomp_listener_path = container.seccomp_listener_path;
  base.seccomp_listener_metadata = container.seccomp_listener_metadata;
  base.seccomp_stack = container.seccomp_stack;
  base.landlock = container.landlock;
  // Each Landlock domain is per process: a signal scope would keep an exec'd
  // process from signalling the container's own (`docker exec ... kill 1`).
  // The container's pid namespace bounds its signals instead.
  if (base.landlock && container.creates(spec::NamespaceType::pid)) base.landlock->scoped &= ~landlock_signal_scope();
  base.annotations = container.annotations;
  base.no_new_keyring = true;  // the container's session keyring is already set
  base.last_cap = container.last_cap;
  for (spec::NamespaceType type : spec::all_namespace_types())
    if (container.creates(type) || std::any_of(container.joins.begin(), container.joins.end(),
                                               [type](const NamespaceJoin& j) { return j.type == type; }))
      base.joins.push_back({type, ""});
  std::stable_partition(base.joins.begin(), base.joins.end(),
                        [](const NamespaceJoin& j) { return j.type == spec::NamespaceType::user; });
  return base;
}

Plan make_exec_plan(Plan base, const spec::Process& process, int init_pid, int preserve_fds) {
  HostFacts host;
  host.last_cap = base.last_cap;
  base.process = plan_process(process, host);
  base.preserved_fds = preserve_fds;
  const std::string proc = "/proc/" + std::to_string(init_pid) + "/";
  // Without a mount namespace to join, the process enters the init's root:
  // never the host's.
  if (base.chroot) base.rootfs = proc + "root";
  for (auto& j : base.joins) j.path = proc + "ns/" + spec::namespace_proc_name(j.type);
  return base;
}

std::string plan_state_json(const Plan& plan, const char* status, int pid) {
  return spec::state_json({plan.oci_version, plan.id, status, pid, plan.bundle, plan.annotations, {}});
}

Plan make_plan(const spec::Config& config, const PlanOptions& options, const HostFacts& host) {
  if (!config.process) fail(field("process"), "missing: there is nothing to run");
  Plan plan;
  plan.oci_version = config.ociVersion;
  plan.id = options.id;
  plan.bundle = options.bundle;
  plan.rootfs = clean_path(absolute_in(options.bundle, config.root.path));
  plan.readonly_root = config.root.readonly;

  const spec::Linux& linux = config.linux;
  plan_namespaces(linux, plan);
  plan.uid_mappings = linux.uidMappings;
  plan.gid_mappings = linux.gidMappings;
  plan.time_offsets = linux.timeOffsets;

  plan.rootfs_propagation = plan_propagation(linux.rootfsPropagation);
  for (size_t i = 0; i < config.mounts.size(); ++i)
    label_mount(plan.mounts.emplace_back(plan_mount(config.mounts[i], i, options.bundle)), linux.mountLabel);
  plan.setup_dev = !binds_dev(plan.mounts);
  plan.bind_devices = plan.has_user_namespace();
  plan.devices = plan_devices(linux.devices);
  plan.masked_paths = linux.maskedPaths;
  plan.readonly_paths = linux.readonlyPaths;

  plan.hostname = config.hostname;
  plan.domainname = config.domainname;
  for (const auto& [key, value] : linux.sysctl) plan.sysctls.emplace_back(sysctl_path(key), value);
  if (linux.personality)
    plan.personality = linux.personality->domain == "LINUX32" ? PER_LINUX32 : PER_LINUX;

  plan.process = plan_process(*config.process, host);
  if (!has_mount_namespace(plan)) plan_chroot(plan, linux, options);
  if (linux.seccomp) {
    plan.seccomp = SeccompFilter{field("linux.seccomp"), *linux.seccomp, {}};
    plan.seccomp_listener_path = linux.seccomp->listenerPath;
    plan.seccomp_listener_metadata = linux.seccomp->listenerMetadata;
  }

  if (linux.resources) plan.resources = with_default_devices(*linux.resources);
  plan.hooks = config.hooks;
  plan.annotations = config.annotations;
  plan.no_pivot = options.no_pivot;
  plan.no_new_keyring = options.no_new_keyring;
  plan.preserved_fds = options.listen_fds + options.preserve_fds;
  plan.last_cap = host.last_cap;
  if (options.listen_fds > 0) {
    plan.process.env.push_back("LISTEN_FDS=" + std::to_string(options.listen_fds));
    plan.process.env.push_back("LISTEN_PID=1");
  }
  return plan;
}

}  // namespace agentrun
