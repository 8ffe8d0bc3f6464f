#include <boost/test/unit_test.hpp>

#include <linux/mount.h>
#include <sched.h>
#include <sys/personality.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>

#include <algorithm>
#include <string>
#include <vector>

#include "runtime/confine/seccomp_compile.hpp"
#include "runtime/confine/seccomp_load.hpp"
#include "runtime/plan/plan.hpp"
#include "spec/error.hpp"
#include "spec/parse_config.hpp"
#include "support/checks.hpp"

using namespace agentrun;
using spec::NamespaceType;

namespace {

spec::Config base_config() {
  spec::Config c;
  c.ociVersion = "1.2.0";
  c.root.path = "rootfs";
  spec::Process p;
  p.args = {"sh"};
  p.cwd = "/";
  p.env = {"PATH=/bin"};
  c.process = p;
  c.linux.namespaces = {{NamespaceType::mount, ""}};
  return c;
}

PlanOptions options() {
  PlanOptions o;
  o.id = "c1";
  o.bundle = "/bundles/b";
  return o;
}

std::string plan_failure(const spec::Config& c, const HostFacts& host = {}) {
  return failure_of([&] { make_plan(c, options(), host); });
}

spec::Mount mount(std::string dest, std::string type, std::string source, std::vector<std::string> opts = {}) {
  spec::Mount m;
  m.destination = std::move(dest);
  m.type = std::move(type);
  m.source = std::move(source);
  m.options = std::move(opts);
  return m;
}

const DeviceNode* find_device(const Plan& p, const std::string& path) {
  for (const auto& d : p.devices)
    if (d.path == path) return &d;
  return nullptr;
}

}  // namespace

BOOST_AUTO_TEST_CASE(copies_identity_and_options) {
  auto c = base_config();
  c.hostname = "h";
  c.domainname = "d.org";
  c.annotations = {{"k", "v"}};
  c.root.readonly = true;
  c.linux.maskedPaths = {"/proc/kcore"};
  c.linux.readonlyPaths = {"/proc/sys"};
  auto o = options();
  o.no_pivot = true;
  o.no_new_keyring = true;
  Plan p = make_plan(c, o, HostFacts{});
  BOOST_TEST(p.oci_version == "1.2.0");
  BOOST_TEST(p.id == "c1");
  BOOST_TEST(p.bundle == "/bundles/b");
  BOOST_TEST(p.readonly_root);
  BOOST_TEST(p.hostname == "h");
  BOOST_TEST(p.domainname == "d.org");
  BOOST_TEST(p.annotations.at("k") == "v");
  BOOST_TEST(p.masked_paths == std::vector<std::string>{"/proc/kcore"});
  BOOST_TEST(p.readonly_paths == std::vector<std::string>{"/proc/sys"});
  BOOST_TEST(p.no_pivot);
  BOOST_TEST(p.no_new_keyring);
  BOOST_TEST(p.preserved_fds == 0);
  BOOST_TEST(p.last_cap == 40);
  BOOST_TEST(p.process.args == std::vector<std::string>{"sh"});
  BOOST_TEST(p.process.env == std::vector<std::string>{"PATH=/bin"});
  BOOST_TEST(p.process.cwd == "/");
  BOOST_TEST(!p.personality);
  BOOST_TEST(!p.process.ioprio);
  BOOST_TEST(!p.seccomp);
}

BOOST_AUTO_TEST_CASE(process_user_fields) {
  auto c = base_config();
  c.process->user.uid = 1000;
  c.process->user.gid = 1001;
  c.process->user.umask = 027;
  c.process->user.additionalGids = {5, 6};
  c.process->noNewPrivileges = true;
  c.process->terminal = true;
  c.process->oomScoreAdj = -100;
  Plan p = make_plan(c, options(), HostFacts{});
  BOOST_TEST(p.process.uid == 1000u);
  BOOST_TEST(p.process.gid == 1001u);
  BOOST_TEST(*p.process.umask == 027u);
  BOOST_TEST(p.process.groups == (std::vector<gid_t>{5, 6}));
  BOOST_TEST(p.process.no_new_privileges);
  BOOST_TEST(p.process.terminal);
  BOOST_TEST(*p.process.oom_score_adj == -100);
}

// On an SELinux host (the policy's translation has emptied the labels
// elsewhere), linux.mountLabel labels the file systems the container mounts
// as runc does, and the process and its keyring get process.selinuxLabel.
BOOST_AUTO_TEST_CASE(selinux_labels) {
  auto c = base_config();
  const std::string label = "system_u:object_r:container_file_t:s0:c1,c2";
  c.linux.mountLabel = label;
  c.process->selinuxLabel = "system_u:system_r:container_t:s0:c1,c2";
  c.mounts = {{"/tmp", "tmpfs", "tmpfs", {"mode=1777"}, {}, {}},
              {"/dev/pts", "devpts", "devpts", {"newinstance"}, {}, {}},
              {"/proc", "proc", "proc", {}, {}, {}},
              {"/sys", "sysfs", "sysfs", {}, {}, {}},
              {"/dev/mqueue", "mqueue", "mqueue", {}, {}, {}},
              {"/data", "bind", "/srv/data", {"rbind"}, {}, {}},
              {"/run", "tmpfs", "tmpfs", {"context=other_u:object_r:x_t:s0"}, {}, {}}};
  Plan p = make_plan(c, options(), HostFacts{});
  auto context = [&](size_t i) {
    std::string out;
    for (const auto& d : p.mounts[i].options.data)
      if (d.key == "context") out += d.value.value_or("(none)") + ";";
    return out;
  };
  BOOST_TEST(context(0) == label + ";");
  BOOST_TEST(context(1) == label + ";");
  for (size_t i : {2, 3, 4, 5}) BOOST_TEST(context(i).empty(), p.mounts[i].destination);
  BOOST_TEST(context(6) == "other_u:object_r:x_t:s0;");  // config.json's own stays
  BOOST_TEST(p.mounts[4].root_label == label);         // mqueue: its root, once mounted
  BOOST_TEST(p.mounts[0].root_label.empty());
  BOOST_TEST(p.process.selinux_label == "system_u:system_r:container_t:s0:c1,c2");
}

BOOST_AUTO_TEST_CASE(missing_process_is_refused) {
  auto c = base_config();
  c.process.reset();
  BOOST_TEST(plan_failure(c) == "config.json: process: missing: there is nothing to run");
}

BOOST_AUTO_TEST_CASE(namespaces_created_and_joined) {
  auto c = base_config();
  c.linux.namespaces = {{NamespaceType::pid, ""},
                        {NamespaceType::network, "/proc/10/ns/net"},
                        {NamespaceType::mount, ""},
                        {NamespaceType::ipc, "/proc/11/ns/ipc"},
                        {NamespaceType::user, "/proc/12/ns/user"},
                        {NamespaceType::uts, ""}};
  Plan p = make_plan(c, options(), HostFacts{});
  BOOST_TEST(p.new_namespaces == (CLONE_NEWPID | CLONE_NEWNS | CLONE_NEWUTS));
  BOOST_TEST(p.creates(NamespaceType::pid));
  BOOST_TEST(p.creates(NamespaceType::mount));
  BOOST_TEST(!p.creates(NamespaceType::network));
  BOOST_TEST(!p.creates(NamespaceType::user));
  BOOST_TEST_REQUIRE(p.joins.size() == 3u);
  // The user namespace is joined first; the others keep their order.
  BOOST_TEST((p.joins[0].type == NamespaceType::user));
  BOOST_TEST(p.joins[0].path == "/proc/12/ns/user");
  BOOST_TEST((p.joins[1].type == NamespaceType::network));
  BOOST_TEST(p.joins[1].path == "/proc/10/ns/net");
  BOOST_TEST((p.joins[2].type == NamespaceType::ipc));
  BOOST_TEST(p.joins[2].path == "/proc/11/ns/ipc");
  BOOST_TEST(p.has_user_namespace());
  BOOST_TEST(p.bind_devices);
}

BOOST_AUTO_TEST_CASE(all_new_namespaces) {
  auto c = base_config();
  c.linux.namespaces = {{NamespaceType::pid, ""},  {NamespaceType::network, ""}, {NamespaceType::mount, ""},
                        {NamespaceType::ipc, ""},  {NamespaceType::uts, ""},     {NamespaceType::user, ""},
                        {NamespaceType::cgroup, ""}, {NamespaceType::time, ""}};
  Plan p = make_plan(c, options(), HostFacts{});
  BOOST_TEST(p.new_namespaces == (CLONE_NEWPID | CLONE_NEWNET | CLONE_NEWNS | CLONE_NEWIPC | CLONE_NEWUTS |
                                  CLONE_NEWUSER | CLONE_NEWCGROUP | CLONE_NEWTIME));
  BOOST_TEST(p.joins.empty());
  BOOST_TEST(p.has_user_namespace());
  BOOST_TEST(p.bind_devices);
}

// create makes a new network namespace for the init where the host's user
// namespace owns it; under a user namespace (made or joined) the init does.
BOOST_AUTO_TEST_CASE(who_makes_the_network_namespace) {
  auto c = base_config();
  c.linux.namespaces = {{NamespaceType::mount, ""}, {NamespaceType::network, ""}};
  BOOST_TEST(make_plan(c, options(), HostFacts{}).network_namespace_from_runtime());
  c.linux.namespaces.push_back({NamespaceType::user, ""});
  BOOST_TEST(!make_plan(c, options(), HostFacts{}).network_namespace_from_runtime());
  c.linux.namespaces.back().path = "/proc/12/ns/user";
  BOOST_TEST(!make_plan(c, options(), HostFacts{}).network_namespace_from_runtime());
  c.linux.namespaces = {{NamespaceType::mount, ""}, {NamespaceType::network, "/proc/10/ns/net"}};
  BOOST_TEST(!make_plan(c, options(), HostFacts{}).network_namespace_from_runtime());
}

BOOST_AUTO_TEST_CASE(without_user_namespace_devices_are_created) {
  auto c = base_config();
  Plan p = make_plan(c, options(), HostFacts{});
  BOOST_TEST(p.new_namespaces == CLONE_NEWNS);
  BOOST_TEST(!p.has_user_namespace());
  BOOST_TEST(!p.bind_devices);
  BOOST_TEST(p.setup_dev);
}

BOOST_AUTO_TEST_CASE(mount_namespace_is_required) {
  const std::string refused =
      "config.json: linux.namespaces: a mount namespace (created or joined) is required: without one the root "
      "file system would be set up in the runtime's own mount namespace";
  auto c = base_config();
  c.linux.namespaces = {{NamespaceType::pid, ""}};
  BOOST_TEST(plan_failure(c) == refused);
  c.linux.namespaces.clear();
  BOOST_TEST(plan_failure(c) == refused);
}

// Under a policy without rules (oci), as crun: entered by chroot, with
// nothing that would need a mount or a new file, all named in one warning.
BOOST_AUTO_TEST_CASE(without_a_mount_namespace_the_plan_chroots_and_mounts_nothing) {
  auto c = base_config();
  c.linux.namespaces = {{NamespaceType::pid, ""}, {NamespaceType::network, "/run/netns/n"}};
  c.mounts = {mount("/proc", "proc", "proc"), mount("/data", "bind", "/srv/data", {"rbind"})};
  c.root.readonly = true;
  c.linux.maskedPaths = {"/proc/kcore"};
  c.linux.readonlyPaths = {"/proc/sys"};
  c.linux.rootfsPropagation = "rshared";
  spec::Device fuse;
  fuse.path = "/dev/fuse";
  fuse.type = 'c';
  fuse.major = 10;
  fuse.minor = 229;
  c.linux.devices = {fuse};
  c.process->terminal = true;
  auto o = options();
  o.chroot_without_mount_ns = true;
  Plan p = make_plan(c, o, HostFacts{});
  BOOST_TEST(p.chroot);
  BOOST_TEST(p.rootfs == "/bundles/b/rootfs");
  BOOST_TEST(p.new_namespaces == CLONE_NEWPID);
  BOOST_TEST(p.mounts.empty());
  BOOST_TEST(p.masked_paths.empty());
  BOOST_TEST(p.readonly_paths.empty());
  BOOST_TEST(!p.readonly_root);
  BOOST_TEST(p.rootfs_propagation == 0UL);
  BOOST_TEST(!p.setup_dev);
  BOOST_TEST(p.devices.empty());
  BOOST_TEST(p.process.cwd == "/");
  BOOST_TEST(p.warnings == std::vector<std::string>{
      "config.json: linux.namespaces: no mount namespace: the container shares the runtime's and enters its root by "
      "chroot, as crun does; nothing is mounted or created, so these are left out: mounts[0] /proc, mounts[1] /data, "
      "linux.maskedPaths, linux.readonlyPaths, root.readonly, linux.rootfsPropagation, linux.devices /dev/fuse, "
      "the default /dev (device nodes and links), "
      "/dev/console"});
  // An unknown propagation is still an error, skipped or not.
  c.linux.rootfsPropagation = "sideways";
  BOOST_TEST(failure_of([&] { make_plan(c, o, HostFacts{}); }) ==
             "config.json: linux.rootfsPropagation: unknown propagation \"sideways\"");
}

BOOST_AUTO_TEST_CASE(the_default_dev_is_named_when_left_out) {
  auto c = base_config();
  c.linux.namespaces.clear();
  auto o = options();
  o.chroot_without_mount_ns = true;
  Plan p = make_plan(c, o, HostFacts{});
  BOOST_TEST(p.warnings.size() == 1U);
  BOOST_TEST(p.warnings[0].ends_with("left out: the default /dev (device nodes and links)"), p.warnings[0]);
  c.linux.namespaces = {{NamespaceType::mount, ""}};
  BOOST_TEST(make_plan(c, o, HostFacts{}).warnings.empty());
  BOOST_TEST(!make_plan(c, o, HostFacts{}).chroot);
}

// exec joins no mount namespace either: it enters the init's root.
BOOST_AUTO_TEST_CASE(exec_without_a_mount_namespace_enters_the_inits_root) {
  auto c = base_config();
  c.linux.namespaces = {{NamespaceType::pid, ""}};
  auto o = options();
  o.chroot_without_mount_ns = true;
  Plan p = make_exec_plan(exec_base(make_plan(c, o, HostFacts{})), *c.process, 42, 0);
  BOOST_TEST(p.chroot);
  BOOST_TEST(p.rootfs == "/proc/42/root");
  BOOST_TEST(p.joins.size() == 1U);
  BOOST_TEST(p.warnings.empty());
  c.linux.namespaces.push_back({NamespaceType::mount, ""});
  Plan joined = make_exec_plan(exec_base(make_plan(c, o, HostFacts{})), *c.process, 42, 0);
  BOOST_TEST(!joined.chroot);
  BOOST_TEST(joined.rootfs == "/bundles/b/rootfs");
}

// exec joins every namespace of the container through its init, its user
// namespace first, and sets up nothing of the container's own.
BOOST_AUTO_TEST_CASE(exec_joins_the_inits_namespaces_and_keeps_the_confinement) {
  auto c = base_config();
  c.linux.namespaces = {{NamespaceType::pid, ""}, {NamespaceType::network, "/run/netns/x"},
                        {NamespaceType::mount, ""}, {NamespaceType::user, ""}};
  c.linux.uidMappings = c.linux.gidMappings = {{0, 100000, 65536}};
  c.hostname = "box";
  Plan container = make_plan(c, options(), HostFacts{});
  container.landlock = LandlockRuleset{6, 1, 0, landlock_signal_scope() | 1, {{"/usr", 1}}, {}};
  container.seccomp_stack.push_back(SeccompFilter{"seccomp profile p", {}, {{{0x06, 0, 0, 0x7fff0000}}, 0, false}});
  spec::Process process = *c.process;
  process.args = {"/bin/true"};
  process.user.uid = 1000;
  Plan p = make_exec_plan(exec_base(container), process, 42, 2);
  BOOST_REQUIRE_EQUAL(p.joins.size(), 4U);
  BOOST_TEST(p.joins[0].path == "/proc/42/ns/user");
  for (const auto& j : p.joins) BOOST_TEST(j.path.rfind("/proc/42/ns/", 0) == 0, j.path);
  BOOST_TEST(p.new_namespaces == 0);
  BOOST_TEST(p.uid_mappings.empty());
  BOOST_TEST(p.mounts.empty());
  BOOST_TEST(p.hostname.empty());
  BOOST_TEST(p.no_new_keyring);
  BOOST_TEST(p.preserved_fds == 2);
  BOOST_TEST(p.process.args == process.args);
  BOOST_TEST(p.process.uid == 1000U);
  BOOST_TEST(p.seccomp_stack.size() == 1U);
  // The container's own pid namespace bounds the signals of an exec'd process, not Landlock.
  BOOST_REQUIRE(p.landlock);
  BOOST_TEST(p.landlock->scoped == 1U);
}

// As runc does, the root file system is set up in a joined mount namespace.
BOOST_AUTO_TEST_CASE(a_mount_namespace_may_be_joined) {
  auto c = base_config();
  c.linux.namespaces = {{NamespaceType::pid, ""}, {NamespaceType::mount, "/run/ns/mnt"}};
  Plan p = make_plan(c, options(), HostFacts{});
  BOOST_TEST(p.new_namespaces == CLONE_NEWPID);
  BOOST_REQUIRE_EQUAL(p.joins.size(), 1u);
  BOOST_TEST(p.joins[0].path == "/run/ns/mnt");
  BOOST_TEST(p.setup_dev);
}

BOOST_AUTO_TEST_CASE(rootfs_absolute_or_relative_to_the_bundle) {
  auto c = base_config();
  BOOST_TEST(make_plan(c, options(), {}).rootfs == "/bundles/b/rootfs");
  c.root.path = "/srv/root/";
  BOOST_TEST(make_plan(c, options(), {}).rootfs == "/srv/root");
  c.root.path = "./x//y/.";
  BOOST_TEST(make_plan(c, options(), {}).rootfs == "/bundles/b/x/y");
}

BOOST_AUTO_TEST_CASE(mount_kinds) {
  auto c = base_config();
  c.mounts = {mount("/proc", "proc", "proc"),
              mount("/tmp//x/", "tmpfs", "", {"nosuid", "mode=1777"}),
              mount("/data", "bind", "data", {"ro"}),
              mount("/abs", "none", "/srv/abs", {"rbind", "rprivate"}),
              mount("/sys/fs/cgroup", "cgroup2", "cgroup", {"ro"}),
              mount("/old", "cgroup", "", {})};
  Plan p = make_plan(c, options(), {});
  BOOST_TEST_REQUIRE(p.mounts.size() == 6u);
  BOOST_TEST((p.mounts[0].kind == MountKind::filesystem));
  BOOST_TEST(p.mounts[0].source == "proc");
  BOOST_TEST(p.mounts[0].type == "proc");
  BOOST_TEST(p.mounts[0].destination == "/proc");
  BOOST_TEST(p.mounts[0].field == "mounts[0]");

  BOOST_TEST((p.mounts[1].kind == MountKind::filesystem));
  BOOST_TEST(p.mounts[1].source == "tmpfs");  // no source: the type stands in
  BOOST_TEST(p.mounts[1].destination == "/tmp/x");
  BOOST_TEST(p.mounts[1].field == "mounts[1]");
  BOOST_TEST(p.mounts[1].options.top.set == MOUNT_ATTR_NOSUID);
  BOOST_TEST_REQUIRE(p.mounts[1].options.data.size() == 1u);
  BOOST_TEST(p.mounts[1].options.data[0].key == "mode");

  BOOST_TEST((p.mounts[2].kind == MountKind::bind));
  BOOST_TEST(p.mounts[2].source == "/bundles/b/data");  // relative to the bundle
  BOOST_TEST(p.mounts[2].options.bind);
  BOOST_TEST(!p.mounts[2].options.recursive);
  BOOST_TEST(p.mounts[2].options.top.set == MOUNT_ATTR_RDONLY);

  BOOST_TEST((p.mounts[3].kind == MountKind::bind));
  BOOST_TEST(p.mounts[3].source == "/srv/abs");
  BOOST_TEST(p.mounts[3].options.recursive);
  BOOST_TEST(p.mounts[3].options.tree.propagation == MS_PRIVATE);

  BOOST_TEST((p.mounts[4].kind == MountKind::cgroup));
  BOOST_TEST(p.mounts[4].type == "cgroup2");
  BOOST_TEST((p.mounts[5].kind == MountKind::cgroup));
  BOOST_TEST(p.setup_dev);
}

BOOST_AUTO_TEST_CASE(mount_errors) {
  auto c = base_config();
  c.mounts = {mount("/x", "", "src")};
  BOOST_TEST(plan_failure(c) ==
             "config.json: mounts[0].type: a mount that is not a bind mount needs a file-system type");
  c.mounts = {mount("/proc", "proc", "proc"), mount("/x", "none", "src")};
  BOOST_TEST(plan_failure(c) ==
             "config.json: mounts[1].type: a mount that is not a bind mount needs a file-system type");
  c.mounts = {mount("/x", "bind", "")};
  BOOST_TEST(plan_failure(c) == "config.json: mounts[0].source: a bind mount needs a source");
  c.mounts = {mount("/x", "none", "/s", {"bind", "size=1m"})};
  BOOST_TEST(plan_failure(c) ==
             "config.json: mounts[0].options: unknown mount option \"size=1m\" for a bind mount");
  c.mounts = {mount("/x", "tmpfs", "tmpfs", {"rw", "remount"})};
  BOOST_TEST(plan_failure(c) ==
             "config.json: mounts[0].options[1]: option \"remount\" is not supported: a container mount is "
             "always a new mount");
}

BOOST_AUTO_TEST_CASE(idmapped_mounts_are_refused) {
  auto c = base_config();
  auto m = mount("/x", "bind", "/s", {"rbind"});
  m.uidMappings = {{0, 1000, 1}};
  c.mounts = {m};
  BOOST_TEST(plan_failure(c) == "config.json: mounts[0]: idmapped mounts are not supported yet");
  m.uidMappings.clear();
  m.gidMappings = {{0, 1000, 1}};
  c.mounts = {m};
  BOOST_TEST(plan_failure(c) == "config.json: mounts[0]: idmapped mounts are not supported yet");
  c.mounts = {mount("/proc", "proc", "proc"), mount("/x", "bind", "/s", {"rbind", "idmap"})};
  BOOST_TEST(plan_failure(c) == "config.json: mounts[1]: idmapped mounts are not supported yet");
  c.mounts = {mount("/x", "bind", "/s", {"ridmap"})};
  BOOST_TEST(plan_failure(c) == "config.json: mounts[0]: idmapped mounts are not supported yet");
}

BOOST_AUTO_TEST_CASE(tmpcopyup_only_on_tmpfs) {
  auto c = base_config();
  c.mounts = {mount("/etc", "tmpfs", "tmpfs", {"tmpcopyup"})};
  Plan p = make_plan(c, options(), {});
  BOOST_TEST(p.mounts[0].options.copy_up);
  BOOST_TEST(p.mounts[0].options.data.empty());
  c.mounts = {mount("/etc", "proc", "proc", {"tmpcopyup"})};
  BOOST_TEST(plan_failure(c) ==
             "config.json: mounts[0].options: option \"tmpcopyup\" applies to tmpfs mounts only");
  c.mounts = {mount("/etc", "bind", "/etc", {"rbind", "tmpcopyup"})};
  BOOST_TEST(plan_failure(c) ==
             "config.json: mounts[0].options: option \"tmpcopyup\" applies to tmpfs mounts only");
}

BOOST_AUTO_TEST_CASE(default_devices) {
  Plan p = make_plan(base_config(), options(), {});
  BOOST_TEST_REQUIRE(p.devices.size() == 6u);
  struct Want {
    const char* path;
    unsigned major, minor;
  };
  for (const Want& w : {Want{"/dev/null", 1, 3}, Want{"/dev/zero", 1, 5}, Want{"/dev/full", 1, 7},
                        Want{"/dev/random", 1, 8}, Want{"/dev/urandom", 1, 9}, Want{"/dev/tty", 5, 0}}) {
    const DeviceNode* d = find_device(p, w.path);
    BOOST_TEST_REQUIRE(d != nullptr, w.path);
    BOOST_TEST(d->type == S_IFCHR, w.path);
    BOOST_TEST(major(d->dev) == w.major, w.path);
    BOOST_TEST(minor(d->dev) == w.minor, w.path);
    BOOST_TEST(d->mode == 0666u, w.path);
    BOOST_TEST(d->uid == 0u);
    BOOST_TEST(d->gid == 0u);
  }
}

BOOST_AUTO_TEST_CASE(linux_devices_add_and_override) {
  auto c = base_config();
  spec::Device null_dev;
  null_dev.type = 'c';
  null_dev.path = "/dev//null";
  null_dev.major = 1;
  null_dev.minor = 3;
  null_dev.fileMode = 0100600;  // type bits are dropped
  null_dev.uid = 7;
  null_dev.gid = 8;
  spec::Device fuse{'c', "/dev/fuse", 10, 229, std::nullopt, std::nullopt, std::nullopt};
  spec::Device sda{'b', "/dev/sda", 8, 0, 0640, std::nullopt, 6};
  spec::Device fifo{'p', "/dev/myfifo", 12, 34, std::nullopt, std::nullopt, std::nullopt};
  spec::Device unbuffered{'u', "/dev/ttyX", 4, 64, std::nullopt, std::nullopt, std::nullopt};
  c.linux.devices = {null_dev, fuse, sda, fifo, unbuffered};
  Plan p = make_plan(c, options(), {});
  BOOST_TEST(p.devices.size() == 10u);  // 6 defaults, one replaced, 4 more
  BOOST_TEST(std::count_if(p.devices.begin(), p.devices.end(),
                           [](const DeviceNode& d) { return d.path == "/dev/null"; }) == 1);
  const DeviceNode* n = find_device(p, "/dev/null");
  BOOST_TEST_REQUIRE(n != nullptr);
  BOOST_TEST(n->mode == 0600u);
  BOOST_TEST(n->uid == 7u);
  BOOST_TEST(n->gid == 8u);
  const DeviceNode* f = find_device(p, "/dev/fuse");
  BOOST_TEST_REQUIRE(f != nullptr);
  BOOST_TEST(f->type == S_IFCHR);
  BOOST_TEST(f->dev == makedev(10, 229));
  BOOST_TEST(f->mode == 0666u);
  const DeviceNode* b = find_device(p, "/dev/sda");
  BOOST_TEST_REQUIRE(b != nullptr);
  BOOST_TEST(b->type == S_IFBLK);
  BOOST_TEST(b->dev == makedev(8, 0));
  BOOST_TEST(b->mode == 0640u);
  BOOST_TEST(b->gid == 6u);
  const DeviceNode* q = find_device(p, "/dev/myfifo");
  BOOST_TEST_REQUIRE(q != nullptr);
  BOOST_TEST(q->type == S_IFIFO);
  BOOST_TEST(q->dev == 0u);
  const DeviceNode* u = find_device(p, "/dev/ttyX");
  BOOST_TEST_REQUIRE(u != nullptr);
  BOOST_TEST(u->type == S_IFCHR);
  BOOST_TEST(u->dev == makedev(4, 64));
}

BOOST_AUTO_TEST_CASE(setup_dev_false_when_dev_is_bind_mounted) {
  auto c = base_config();
  c.mounts = {mount("/dev", "tmpfs", "tmpfs")};
  BOOST_TEST(make_plan(c, options(), {}).setup_dev);
  c.mounts = {mount("/dev/shm", "bind", "/dev/shm", {"rbind"})};
  BOOST_TEST(make_plan(c, options(), {}).setup_dev);
  c.mounts = {mount("/dev", "bind", "/dev", {"rbind"})};
  BOOST_TEST(!make_plan(c, options(), {}).setup_dev);
  c.mounts = {mount("/proc", "proc", "proc"), mount("/dev/", "none", "/dev", {"rbind"})};
  BOOST_TEST(!make_plan(c, options(), {}).setup_dev);
}

BOOST_AUTO_TEST_CASE(capabilities_as_bitmasks) {
  auto c = base_config();
  spec::Capabilities caps;
  caps.bounding = {0, 21, 40};
  caps.effective = {5};
  caps.permitted = {5, 10};
  caps.inheritable = {};
  caps.ambient = {10};
  c.process->capabilities = caps;
  Plan p = make_plan(c, options(), HostFacts{});
  BOOST_TEST(p.process.caps.bounding == ((uint64_t{1} << 0) | (uint64_t{1} << 21) | (uint64_t{1} << 40)));
  BOOST_TEST(p.process.caps.effective == (uint64_t{1} << 5));
  BOOST_TEST(p.process.caps.permitted == ((uint64_t{1} << 5) | (uint64_t{1} << 10)));
  BOOST_TEST(p.process.caps.inheritable == 0u);
  BOOST_TEST(p.process.caps.ambient == (uint64_t{1} << 10));

  c.process->capabilities.reset();
  Plan none = make_plan(c, options(), HostFacts{});
  BOOST_TEST(none.process.caps.bounding == 0u);
  BOOST_TEST(none.process.caps.effective == 0u);
}

BOOST_AUTO_TEST_CASE(capability_above_last_cap_is_refused) {
  auto c = base_config();
  spec::Capabilities caps;
  caps.bounding = {0, 38};
  caps.permitted = {1, 40};
  c.process->capabilities = caps;
  HostFacts host;
  host.last_cap = 39;
  BOOST_TEST(plan_failure(c, host) ==
             "config.json: process.capabilities.permitted[1]: CAP_CHECKPOINT_RESTORE is not supported by the "
             "running kernel");
  host.last_cap = 37;
  BOOST_TEST(plan_failure(c, host) ==
             "config.json: process.capabilities.bounding[1]: CAP_PERFMON is not supported by the running kernel");
  host.last_cap = 40;
  BOOST_TEST(make_plan(c, options(), host).last_cap == 40);
}

BOOST_AUTO_TEST_CASE(cpu_lists) {
  BOOST_TEST(parse_cpu_list("0-3,7", "f") == (std::vector<int>{0, 1, 2, 3, 7}));
  BOOST_TEST(parse_cpu_list("", "f").empty());
  BOOST_TEST(parse_cpu_list("5", "f") == std::vector<int>{5});
  BOOST_TEST(parse_cpu_list("2-2", "f") == std::vector<int>{2});
  BOOST_TEST(parse_cpu_list("1023", "f") == std::vector<int>{1023});
  BOOST_TEST(parse_cpu_list("0,2-3", "f") == (std::vector<int>{0, 2, 3}));
  for (const char* bad : {"3-1", "a", "1-", "-1", ",1", "1,,2", "1024", "0-1024", "1-2-3", "1 ", " 1", "0x1",
                          "+1", "1.5"}) {
    BOOST_TEST(failure_of([&] { parse_cpu_list(bad, "my.field"); }) ==
                   "my.field: bad CPU list \"" + std::string(bad) + "\"",
               bad);
  }
}

BOOST_AUTO_TEST_CASE(exec_cpu_affinity_in_the_plan) {
  auto c = base_config();
  c.process->execCPUAffinity = spec::CpuAffinity{"0-1", "3"};
  Plan p = make_plan(c, options(), {});
  BOOST_TEST(p.process.cpus_initial == (std::vector<int>{0, 1}));
  BOOST_TEST(p.process.cpus_final == std::vector<int>{3});
  c.process->execCPUAffinity = spec::CpuAffinity{"0", "x"};
  BOOST_TEST(plan_failure(c) == "config.json: process.execCPUAffinity.final: bad CPU list \"x\"");
  c.process->execCPUAffinity = spec::CpuAffinity{"4-2", ""};
  BOOST_TEST(plan_failure(c) == "config.json: process.execCPUAffinity.initial: bad CPU list \"4-2\"");
}

BOOST_AUTO_TEST_CASE(sysctl_paths) {
  BOOST_TEST(sysctl_path("net.ipv4.ip_forward") == "net/ipv4/ip_forward");
  BOOST_TEST(sysctl_path("a/b.c") == "a.b/c");
  BOOST_TEST(sysctl_path("net.ipv4.conf.eth0/1.rp_filter") == "net/ipv4/conf/eth0.1/rp_filter");
  BOOST_TEST(sysctl_path("kernel") == "kernel");

  auto c = base_config();
  c.linux.sysctl = {{"net.ipv4.ip_forward", "1"}, {"kernel.shm_rmid_forced", "0"}};
  Plan p = make_plan(c, options(), {});
  BOOST_TEST_REQUIRE(p.sysctls.size() == 2u);
  BOOST_TEST(p.sysctls[0].first == "kernel/shm_rmid_forced");  // std::map order
  BOOST_TEST(p.sysctls[0].second == "0");
  BOOST_TEST(p.sysctls[1].first == "net/ipv4/ip_forward");
  BOOST_TEST(p.sysctls[1].second == "1");
}

BOOST_AUTO_TEST_CASE(listen_fds_and_preserved_fds) {
  auto o = options();
  o.listen_fds = 2;
  o.preserve_fds = 3;
  Plan p = make_plan(base_config(), o, {});
  BOOST_TEST(p.preserved_fds == 5);
  BOOST_TEST(p.process.env == (std::vector<std::string>{"PATH=/bin", "LISTEN_FDS=2", "LISTEN_PID=1"}));

  o.listen_fds = 0;
  o.preserve_fds = 4;
  Plan q = make_plan(base_config(), o, {});
  BOOST_TEST(q.preserved_fds == 4);
  BOOST_TEST(q.process.env == std::vector<std::string>{"PATH=/bin"});
}

BOOST_AUTO_TEST_CASE(device_rules_get_the_default_devices_after_them) {
  auto c = base_config();
  Plan none = make_plan(c, options(), {});
  BOOST_TEST(!none.resources);
  c.linux.resources = spec::Resources{};
  c.linux.resources->pidsLimit = 5;
  Plan no_rules = make_plan(c, options(), {});
  BOOST_TEST_REQUIRE(no_rules.resources.has_value());
  BOOST_TEST(no_rules.resources->devices.empty());  // nothing denied: nothing to re-allow
  BOOST_TEST(*no_rules.resources->pidsLimit == 5);
  c.linux.resources->devices.push_back(spec::DeviceRule{false, "", std::nullopt, std::nullopt, "rwm"});
  Plan p = make_plan(c, options(), {});
  const auto& rules = p.resources->devices;
  BOOST_TEST_REQUIRE(rules.size() == 13u);
  BOOST_TEST(!rules[0].allow);  // the config's own rules come first
  auto allows = [&](const char* type, int64_t major, int64_t minor) {
    for (size_t i = 1; i < rules.size(); ++i)
      if (rules[i].allow && rules[i].type == type && rules[i].major == major && rules[i].minor == minor &&
          rules[i].access == "rwm")
        return true;
    return false;
  };
  BOOST_TEST(allows("c", 1, 3));  // /dev/null
  BOOST_TEST(allows("c", 1, 9));  // /dev/urandom
  BOOST_TEST(allows("c", 5, 2));  // /dev/ptmx
  BOOST_TEST(!allows("c", 1, 11));  // /dev/kmsg stays denied
}

BOOST_AUTO_TEST_CASE(personality_domains) {
  auto c = base_config();
  c.linux.personality = spec::Personality{"LINUX32", {}};
  BOOST_TEST(*make_plan(c, options(), {}).personality == static_cast<unsigned long>(PER_LINUX32));
  c.linux.personality = spec::Personality{"LINUX", {}};
  BOOST_TEST(*make_plan(c, options(), {}).personality == static_cast<unsigned long>(PER_LINUX));
}

BOOST_AUTO_TEST_CASE(io_priority) {
  auto c = base_config();
  c.process->ioPriority = spec::IoPriority{2, 4};
  BOOST_TEST(*make_plan(c, options(), {}).process.ioprio == ((2 << 13) | 4));
  c.process->ioPriority = spec::IoPriority{1, 7};
  BOOST_TEST(*make_plan(c, options(), {}).process.ioprio == 8199);
  c.process->ioPriority = spec::IoPriority{3, 0};
  BOOST_TEST(*make_plan(c, options(), {}).process.ioprio == 24576);
}

BOOST_AUTO_TEST_CASE(rootfs_propagation) {
  auto c = base_config();
  struct Want {
    const char* name;
    unsigned long flags;
  };
  for (const Want& w : {Want{"", MS_SLAVE | MS_REC}, Want{"private", MS_PRIVATE},
                        Want{"rprivate", MS_PRIVATE | MS_REC}, Want{"slave", MS_SLAVE},
                        Want{"rslave", MS_SLAVE | MS_REC}, Want{"shared", MS_SHARED},
                        Want{"rshared", MS_SHARED | MS_REC}, Want{"unbindable", MS_UNBINDABLE},
                        Want{"runbindable", MS_UNBINDABLE | MS_REC}}) {
    c.linux.rootfsPropagation = w.name;
    BOOST_TEST(make_plan(c, options(), {}).rootfs_propagation == w.flags, w.name);
  }
  c.linux.rootfsPropagation = "bogus";
  BOOST_TEST(plan_failure(c) == "config.json: linux.rootfsPropagation: unknown propagation \"bogus\"");
  c.linux.rootfsPropagation = "Private";
  BOOST_TEST(plan_failure(c) == "config.json: linux.rootfsPropagation: unknown propagation \"Private\"");
}

BOOST_AUTO_TEST_CASE(plan_from_parsed_json) {
  const char* text = R"({
    "ociVersion": "1.2.0",
    "root": {"path": "/r"},
    "process": {"args": ["true"], "cwd": "/", "user": {"uid": 0, "gid": 0},
                "ioPriority": {"class": "IOPRIO_CLASS_BE", "priority": 3},
                "capabilities": {"bounding": ["CAP_KILL", "CAP_SYS_ADMIN"]}},
    "mounts": [{"destination": "/dev", "type": "bind", "source": "/dev", "options": ["rbind", "nosuid"]}],
    "linux": {"namespaces": [{"type": "mount"}, {"type": "user"}],
              "uidMappings": [{"containerID": 0, "hostID": 1000, "size": 1}],
              "gidMappings": [{"containerID": 0, "hostID": 1001, "size": 2}],
              "personality": {"domain": "LINUX32"},
              "rootfsPropagation": "rshared",
              "sysctl": {"net.core.somaxconn": "1024"}}
  })";
  Plan p = make_plan(spec::parse_config(text), options(), {});
  BOOST_TEST(p.rootfs == "/r");
  BOOST_TEST(*p.process.ioprio == ((2 << 13) | 3));
  BOOST_TEST(p.process.caps.bounding == ((uint64_t{1} << 5) | (uint64_t{1} << 21)));
  BOOST_TEST(!p.setup_dev);
  BOOST_TEST(p.bind_devices);
  BOOST_TEST(*p.personality == static_cast<unsigned long>(PER_LINUX32));
  BOOST_TEST(p.rootfs_propagation == (MS_SHARED | MS_REC));
  BOOST_TEST_REQUIRE(p.uid_mappings.size() == 1u);
  BOOST_TEST(p.uid_mappings[0].hostID == 1000u);
  BOOST_TEST_REQUIRE(p.gid_mappings.size() == 1u);
  BOOST_TEST(p.gid_mappings[0].size == 2u);
  BOOST_TEST_REQUIRE(p.sysctls.size() == 1u);
  BOOST_TEST(p.sysctls[0].first == "net/core/somaxconn");
}

// runc decides this on filepath.Clean(destination) == "/dev": ".." is resolved
// lexically. The mount of "/x/../dev" lands on the root's /dev (openat2 walks
// the ".."), so the host's /dev is there and setup_dev must stay off, or the
// init replaces the host's device nodes and /dev/ptmx.
BOOST_AUTO_TEST_CASE(setup_dev_false_when_dev_is_bind_mounted_through_dot_dot) {
  auto c = base_config();
  c.mounts = {mount("/x/../dev", "bind", "/dev", {"rbind"})};
  BOOST_TEST(!make_plan(c, options(), {}).setup_dev);
  c.mounts = {mount("/dev/pts/..", "bind", "/dev", {"rbind"})};
  BOOST_TEST(!make_plan(c, options(), {}).setup_dev);
}

// "1," is accepted while ",1" and "1,,2" are refused: empty items must be
// treated alike (all refused, as the strict parser does elsewhere).
BOOST_AUTO_TEST_CASE(cpu_list_trailing_comma_is_refused_like_other_empty_items) {
  for (const char* bad : {"1,", "0-3,"})
    BOOST_TEST(failure_of([&] { parse_cpu_list(bad, "f"); }) == "f: bad CPU list \"" + std::string(bad) + "\"",
               bad);
}

namespace {

// A config that asks for every kind of step the plan decides.
spec::Config everything_config() {
  return spec::parse_config(R"({
    "ociVersion": "1.2.0",
    "root": {"path": "rootfs", "readonly": true},
    "hostname": "h",
    "process": {"args": ["sh"], "cwd": "/", "env": ["PATH=/bin"], "user": {"uid": 1, "gid": 1, "umask": 18},
                "capabilities": {"bounding": ["CAP_KILL"], "ambient": ["CAP_KILL"]},
                "rlimits": [{"type": "RLIMIT_NOFILE", "soft": 64, "hard": 64}],
                "ioPriority": {"class": "IOPRIO_CLASS_BE", "priority": 3},
                "execCPUAffinity": {"initial": "0", "final": "0-1"}},
    "mounts": [{"destination": "/proc", "type": "proc", "source": "proc"},
               {"destination": "/tmp", "type": "tmpfs", "source": "tmpfs", "options": ["tmpcopyup", "mode=1777"]},
               {"destination": "/data", "type": "bind", "source": "data", "options": ["rbind", "ro"]},
               {"destination": "/sys/fs/cgroup", "type": "cgroup", "source": "cgroup"}],
    "hooks": {"prestart": [{"path": "/bin/true"}]},
    "linux": {"namespaces": [{"type": "mount"}, {"type": "pid"}, {"type": "uts"}],
              "devices": [{"path": "/dev/fuse", "type": "c", "major": 10, "minor": 229}],
              "resources": {"devices": [{"allow": false, "access": "rwm"}], "pids": {"limit": 10}},
              "sysctl": {"kernel.msgmax": "8192"},
              "personality": {"domain": "LINUX"},
              "maskedPaths": ["/proc/kcore"], "readonlyPaths": ["/proc/sys"],
              "seccomp": {"defaultAction": "SCMP_ACT_ERRNO", "architectures": ["SCMP_ARCH_X86_64"],
                          "syscalls": [{"names": ["execve", "exit_group"], "action": "SCMP_ACT_ALLOW"}]}}
  })");
}

}  // namespace

// The plan holds the profile for the caller to compile: a plan needs no
// state root, no cache and no libseccomp.
BOOST_AUTO_TEST_CASE(a_seccomp_profile_is_planned_not_compiled) {
  const spec::Config c = everything_config();
  Plan p = make_plan(c, options(), {});
  BOOST_REQUIRE(p.seccomp);
  BOOST_TEST(p.seccomp->name == "config.json: linux.seccomp");
  BOOST_TEST(p.seccomp->profile.syscalls.size() == 1u);
  BOOST_TEST(p.seccomp->profile.syscalls[0].names == c.linux.seccomp->syscalls[0].names);
  BOOST_TEST(p.seccomp->program.filter.empty());
  BOOST_TEST(p.seccomp_stack.empty());
  Plan e = make_exec_plan(exec_base(p), *c.process, 42, 0);
  BOOST_REQUIRE(e.seccomp);
  BOOST_TEST(e.seccomp->program.filter.empty());
}

// make_plan is pure: under a seccomp filter that admits only memory
// management and exit, any other system call (a file opened, a memfd for
// libseccomp) traps and kills the child with SIGSYS.
BOOST_AUTO_TEST_CASE(planning_makes_no_system_calls) {
  spec::Seccomp only_memory;
  only_memory.defaultAction = spec::SeccompAction::trap;
  only_memory.syscalls.push_back(
      {{"brk", "mmap", "munmap", "mremap", "madvise", "mprotect", "exit_group", "exit"}, spec::SeccompAction::allow, {}, {}});
  const SeccompProgram filter = compile_seccomp(only_memory, "only memory");
  const spec::Config c = everything_config();
  spec::Config no_mount_ns = c;
  no_mount_ns.linux.namespaces = {{NamespaceType::pid, ""}};
  PlanOptions chroot = options();
  chroot.chroot_without_mount_ns = true;
  const int outcome = run_confined_child([&] { return static_cast<bool>(load_seccomp(linux_sys(), filter)); }, [&] {
    try {
      Plan p = make_plan(c, options(), {});
      Plan e = make_exec_plan(exec_base(p), *c.process, 42, 0);
      Plan r = make_plan(no_mount_ns, chroot, {});
      return p.seccomp && e.seccomp && r.chroot ? 0 : 1;
    } catch (const Failure&) {
      return 2;
    }
  });
  BOOST_TEST(outcome != killed_by(SIGSYS), "make_plan made a system call");
  BOOST_TEST(outcome == 0);
}
