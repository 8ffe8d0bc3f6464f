// What a contained process observes for each Linux feature of config.json.
#include <boost/test/unit_test.hpp>

#include <fcntl.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "support/harness.hpp"
#include "support/needs.hpp"

using test::Sandbox;

namespace {

// Runs `script` with sh in a container made from `cfg`; the run must succeed.
std::string observe(const Sandbox& s, rapidjson::Document cfg, const std::string& script) {
  rapidjson::Value args(rapidjson::kArrayType);
  auto& a = cfg.GetAllocator();
  for (const char* x : {"sh", "-c"}) args.PushBack(rapidjson::StringRef(x), a);
  args.PushBack(rapidjson::Value(script.c_str(), a), a);
  cfg["process"]["args"] = args;
  auto o = s.run(cfg);
  BOOST_TEST(o.code == 0, "exit " << o.code << ": " << o.err);
  BOOST_TEST(s.leftovers().empty());
  return o.out;
}

std::string observe(const Sandbox& s, const std::string& script) {
  return observe(s, test::base_config({}), script);
}

bool contains(const std::string& hay, const std::string& needle) { return hay.find(needle) != std::string::npos; }

std::string ns_link(const std::string& path) {
  char buf[128] = {};
  return ::readlink(path.c_str(), buf, sizeof buf - 1) > 0 ? buf : "";
}

// A process in namespaces of its own (unshare flags), for containers to
// join; it ends with the object.
class NamespaceHolder {
 public:
  explicit NamespaceHolder(int flags) {
    int ready[2], hold[2];
    BOOST_TEST_REQUIRE((::pipe2(ready, O_CLOEXEC) == 0 && ::pipe2(hold, O_CLOEXEC) == 0));
    pid_ = ::fork();
    BOOST_TEST_REQUIRE(pid_ >= 0);
    if (pid_ == 0) {
      char c = ::unshare(flags) == 0 ? 'y' : 'n';
      if (::write(ready[1], &c, 1) == 1) (void)!::read(hold[0], &c, 1);  // until the test closes its end
      ::_exit(0);
    }
    ::close(ready[1]);
    ::close(hold[0]);
    release_ = hold[1];
    pollfd p{ready[0], POLLIN, 0};
    char c = 0;
    const bool ok = ::poll(&p, 1, 10000) == 1 && ::read(ready[0], &c, 1) == 1 && c == 'y';
    ::close(ready[0]);
    BOOST_TEST_REQUIRE(ok, "the namespace holder did not start");
  }
  ~NamespaceHolder() {
    ::close(release_);
    ::kill(pid_, SIGKILL);
    ::waitpid(pid_, nullptr, 0);
  }
  std::string path(const char* ns) const { return "/proc/" + std::to_string(pid_) + "/ns/" + ns; }

 private:
  pid_t pid_ = -1;
  int release_ = -1;
};

}  // namespace

BOOST_AUTO_TEST_CASE(namespaces_are_new) {
  Sandbox s;
  const std::string out = observe(s, "for n in pid net ipc uts mnt cgroup; do readlink /proc/self/ns/$n; done; echo $$");
  std::string host;
  for (const char* n : {"pid", "net", "ipc", "uts", "mnt", "cgroup"}) {
    char buf[128] = {};
    BOOST_TEST_REQUIRE(::readlink((std::string("/proc/self/ns/") + n).c_str(), buf, sizeof buf - 1) > 0);
    BOOST_TEST(!contains(out, buf), n << " namespace is the host's");
  }
  BOOST_TEST(contains(out, "\n1\n"), "the process is pid 1: " << out);
}

BOOST_AUTO_TEST_CASE(joins_a_namespace_by_path) {
  Sandbox s;
  auto cfg = test::base_config({});
  const std::string own_uts = "/proc/" + std::to_string(::getpid()) + "/ns/uts";
  test::set_json(cfg, "/linux/namespaces",
                 R"([{"type": "mount"}, {"type": "pid"}, {"type": "uts", "path": ")" + own_uts + R"("}])");
  test::remove_at(cfg, "/hostname");
  char host_uts[128] = {};
  BOOST_TEST_REQUIRE(::readlink(own_uts.c_str(), host_uts, sizeof host_uts - 1) > 0);
  BOOST_TEST(observe(s, std::move(cfg), "readlink /proc/self/ns/uts") == std::string(host_uts) + "\n");
}

// As runc does, the root file system is set up in the joined namespace.
BOOST_AUTO_TEST_CASE(joins_a_mount_namespace_by_path) {
  Sandbox s;
  NamespaceHolder holder(CLONE_NEWNS);
  auto cfg = test::base_config({});
  test::set_json(cfg, "/linux/namespaces",
                 R"([{"type": "pid"}, {"type": "mount", "path": ")" + holder.path("mnt") + R"("}])");
  test::remove_at(cfg, "/hostname");
  const std::string joined = ns_link(holder.path("mnt"));
  BOOST_TEST_REQUIRE(!joined.empty());
  BOOST_TEST(observe(s, std::move(cfg), "readlink /proc/self/ns/mnt; ls /bin/busybox") ==
             joined + "\n/bin/busybox\n");
}

// Neither the rootfs nor the hostname is ever set up in the runtime's own
// namespaces (here the host's), which runc and crun would do.
BOOST_AUTO_TEST_CASE(never_joins_the_runtimes_own_mount_namespace_or_names_its_uts) {
  Sandbox s;
  const std::string own = "/proc/" + std::to_string(::getpid()) + "/ns/";
  auto cfg = test::base_config({"true"});
  test::set_json(cfg, "/linux/namespaces", R"([{"type": "pid"}, {"type": "mount", "path": ")" + own + R"(mnt"}])");
  test::remove_at(cfg, "/hostname");
  auto o = s.run(cfg);
  BOOST_TEST(o.code != 0);
  BOOST_TEST(contains(o.err, "join mount namespace " + own + "mnt: it is the runtime's own: the container's root file "
                             "system would be set up, and pivot_root done, in it"), o.err);
  char host[256] = {};
  BOOST_TEST_REQUIRE(::gethostname(host, sizeof host - 1) == 0);
  cfg = test::base_config({"true"});
  test::set_json(cfg, "/linux/namespaces", R"([{"type": "mount"}, {"type": "uts", "path": ")" + own + R"(uts"}])");
  test::set_string(cfg, "/hostname", "renamed-host");
  o = s.run(cfg);
  BOOST_TEST(o.code != 0);
  BOOST_TEST(contains(o.err, "join uts namespace " + own + "uts: it is the runtime's own: the container's hostname "
                             "and domainname would rename the host"), o.err);
  char after[256] = {};
  BOOST_TEST_REQUIRE(::gethostname(after, sizeof after - 1) == 0);
  BOOST_TEST(std::string(after) == host);
  BOOST_TEST(s.leftovers().empty());
}

// As runc and crun do, the hostname is set in a joined uts namespace.
BOOST_AUTO_TEST_CASE(hostname_in_a_joined_uts_namespace) {
  Sandbox s;
  NamespaceHolder holder(CLONE_NEWUTS);
  char host[256] = {};
  BOOST_TEST_REQUIRE(::gethostname(host, sizeof host - 1) == 0);
  auto cfg = test::base_config({});
  test::set_json(cfg, "/linux/namespaces", R"([{"type": "mount"}, {"type": "uts", "path": ")" + holder.path("uts") + R"("}])");
  test::set_string(cfg, "/hostname", "joined-box");
  BOOST_TEST(observe(s, std::move(cfg), "readlink /proc/self/ns/uts; hostname") ==
             ns_link(holder.path("uts")) + "\njoined-box\n");
  char after[256] = {};
  BOOST_TEST_REQUIRE(::gethostname(after, sizeof after - 1) == 0);
  BOOST_TEST(std::string(after) == host);
}

BOOST_AUTO_TEST_CASE(hostname_domainname_and_env) {
  Sandbox s;
  auto cfg = test::base_config({});
  test::set_string(cfg, "/hostname", "box-7");
  test::set_string(cfg, "/domainname", "agents.example");
  test::set_json(cfg, "/process/env", R"(["PATH=/bin", "FOO=bar baz"])");
  BOOST_TEST(observe(s, std::move(cfg), "hostname; cat /proc/sys/kernel/domainname; echo \"$FOO|$HOME\"") ==
             "box-7\nagents.example\nbar baz|/root\n");
}

BOOST_AUTO_TEST_CASE(user_groups_umask_and_cwd) {
  Sandbox s;
  auto cfg = test::base_config({});
  test::set_json(cfg, "/process/user", R"({"uid": 1000, "gid": 1000, "additionalGids": [5, 27], "umask": 63})");
  test::set_string(cfg, "/process/cwd", "/home/agent/work/deep");
  test::set_json(cfg, "/root/readonly", "false");
  // The runtime creates a missing cwd as root, as runc does.
  const std::string out = observe(s, std::move(cfg),
                                  "id -u; id -g; id -G; umask; pwd; echo $HOME; touch /dev/shm/f && stat -c %a /dev/shm/f");
  BOOST_TEST(out == "1000\n1000\n1000 5 27\n0077\n/home/agent/work/deep\n/home/agent\n600\n");
}

BOOST_AUTO_TEST_CASE(capabilities_are_exactly_the_configured_sets) {
  Sandbox s;
  auto cfg = test::base_config({});
  test::set_json(cfg, "/process/capabilities", R"({
    "bounding": ["CAP_KILL", "CAP_NET_BIND_SERVICE", "CAP_CHOWN"],
    "effective": ["CAP_KILL"], "permitted": ["CAP_KILL", "CAP_CHOWN"],
    "inheritable": ["CAP_CHOWN"], "ambient": ["CAP_CHOWN"]})");
  test::set_json(cfg, "/process/noNewPrivileges", "false");
  // Not uid 0: execve would raise root's permitted set to the bounding set.
  test::set_json(cfg, "/process/user", R"({"uid": 1000, "gid": 1000})");
  const std::string out = observe(s, std::move(cfg), "grep -E '^(Cap|NoNewPrivs)' /proc/self/status");
  // Across execve a non-root process keeps only its ambient capabilities.
  BOOST_TEST(out ==
             "CapInh:\t0000000000000001\nCapPrm:\t0000000000000001\nCapEff:\t0000000000000001\n"
             "CapBnd:\t0000000000000421\nCapAmb:\t0000000000000001\nNoNewPrivs:\t0\n");
}

BOOST_AUTO_TEST_CASE(default_config_has_no_inheritable_or_ambient) {
  Sandbox s;
  const std::string out = observe(s, "grep -E '^(CapInh|CapAmb|NoNewPrivs)' /proc/self/status");
  BOOST_TEST(out == "CapInh:\t0000000000000000\nCapAmb:\t0000000000000000\nNoNewPrivs:\t1\n");
}

BOOST_AUTO_TEST_CASE(rlimits_and_oom_score_adj) {
  Sandbox s;
  auto cfg = test::base_config({});
  test::set_json(cfg, "/process/rlimits",
                 R"([{"type": "RLIMIT_NOFILE", "soft": 321, "hard": 654}, {"type": "RLIMIT_NPROC", "soft": 77, "hard": 77}])");
  test::set_json(cfg, "/process/oomScoreAdj", "432");
  BOOST_TEST(observe(s, std::move(cfg), "ulimit -n; ulimit -Hn; ulimit -u; cat /proc/self/oom_score_adj") ==
             "321\n654\n77\n432\n");
}

BOOST_AUTO_TEST_CASE(mounts_with_options) {
  Sandbox s;
  const std::string shared = s.dir + "/shared";
  BOOST_TEST_REQUIRE(::mkdir(shared.c_str(), 0755) == 0);
  { std::FILE* f = std::fopen((shared + "/hello").c_str(), "w"); std::fputs("from host\n", f); std::fclose(f); }
  auto cfg = test::base_config({});
  auto& mounts = cfg["mounts"];
  rapidjson::Document extra;
  extra.Parse((R"([
    {"destination": "/data/ro", "type": "bind", "source": ")" + shared + R"(", "options": ["rbind", "ro", "nosuid"]},
    {"destination": "/data/rw", "type": "none", "source": ")" + shared + R"(", "options": ["bind"]},
    {"destination": "/scratch", "type": "tmpfs", "source": "tmpfs", "options": ["size=1m", "mode=700", "noexec"]},
    {"destination": "/etc/copied", "type": "tmpfs", "source": "tmpfs", "options": ["tmpcopyup"]}
  ])").c_str());
  for (auto& m : extra.GetArray()) mounts.PushBack(rapidjson::Value(m, cfg.GetAllocator()), cfg.GetAllocator());
  BOOST_TEST_REQUIRE(::mkdir((s.rootfs + "/etc/copied").c_str(), 0755) == 0);
  { std::FILE* f = std::fopen((s.rootfs + "/etc/copied/keep").c_str(), "w"); std::fputs("kept\n", f); std::fclose(f); }
  const std::string out = observe(s, std::move(cfg),
      "cat /data/ro/hello; touch /data/ro/x 2>/dev/null || echo ro-denied; echo new > /data/rw/y && echo rw-ok;"
      "grep -E ' /data/ro | /scratch ' /proc/self/mountinfo | cut -d' ' -f5,6; stat -c %a /scratch;"
      "cat /etc/copied/keep; echo more > /etc/copied/new && echo copyup-writable");
  BOOST_TEST(contains(out, "from host\nro-denied\nrw-ok\n"), out);
  BOOST_TEST(contains(out, "/data/ro ro,nosuid"), out);
  BOOST_TEST(contains(out, "/scratch rw,noexec"), out);
  BOOST_TEST(contains(out, "700\nkept\ncopyup-writable\n"), out);
  BOOST_TEST(test::read_file(shared + "/y") == "new\n");
  BOOST_TEST(!test::file_exists(s.rootfs + "/etc/copied/new"));
}

BOOST_AUTO_TEST_CASE(devices_and_dev_links) {
  Sandbox s;
  auto cfg = test::base_config({});
  test::set_json(cfg, "/linux/devices",
                 R"([{"path": "/dev/fuse-like", "type": "c", "major": 1, "minor": 7, "fileMode": 432, "uid": 0, "gid": 0}])");
  const std::string out = observe(s, std::move(cfg),
      "for d in null zero full random urandom tty fuse-like; do stat -c '%n %F %t:%T %a' /dev/$d; done;"
      "for l in fd stdin stdout stderr ptmx; do readlink /dev/$l; done; head -c 4 /dev/zero | od -An -tx1");
  BOOST_TEST(out ==
             "/dev/null character special file 1:3 666\n/dev/zero character special file 1:5 666\n"
             "/dev/full character special file 1:7 666\n/dev/random character special file 1:8 666\n"
             "/dev/urandom character special file 1:9 666\n/dev/tty character special file 5:0 666\n"
             "/dev/fuse-like character special file 1:7 660\n"
             "/proc/self/fd\n/proc/self/fd/0\n/proc/self/fd/1\n/proc/self/fd/2\npts/ptmx\n 00 00 00 00\n");
}

// Without a /dev of its own, the nodes and links go into the image's /dev,
// replacing what the image has there.
BOOST_AUTO_TEST_CASE(the_images_dev_entries_are_replaced) {
  Sandbox s;
  for (const char* name : {"null", "ptmx"}) test::put_file(s.rootfs + "/dev/" + name, "not a device\n");
  auto cfg = test::base_config({});
  test::set_json(cfg, "/mounts", R"([{"destination": "/proc", "type": "proc", "source": "proc"}])");
  const std::string out = observe(s, std::move(cfg), "stat -c '%F %t:%T' /dev/null; readlink /dev/ptmx");
  BOOST_TEST(out == "character special file 1:3\npts/ptmx\n");
}

BOOST_AUTO_TEST_CASE(masked_and_readonly_paths_and_readonly_root) {
  Sandbox s;
  const std::string out = observe(s,
      "cat /proc/keys | wc -c; ls -A /sys/firmware | wc -l; touch /sys/firmware/x 2>/dev/null || echo mask-ro;"
      "echo 1 > /proc/sys/kernel/ns_last_pid 2>/dev/null || echo sys-ro; touch /newfile 2>/dev/null || echo root-ro;"
      "grep -c ' /proc/sys ' /proc/self/mountinfo");
  BOOST_TEST(out == "0\n0\nmask-ro\nsys-ro\nroot-ro\n1\n");
}

BOOST_AUTO_TEST_CASE(sysctl_is_set_in_the_container_only) {
  Sandbox s;
  auto cfg = test::base_config({});
  test::set_json(cfg, "/linux/sysctl", R"({"net.ipv4.ip_unprivileged_port_start": "80", "kernel.shmmni": "1234"})");
  const std::string host_port = test::read_file("/proc/sys/net/ipv4/ip_unprivileged_port_start");
  BOOST_TEST(observe(s, std::move(cfg), "cat /proc/sys/net/ipv4/ip_unprivileged_port_start /proc/sys/kernel/shmmni") ==
             "80\n1234\n");
  BOOST_TEST(test::read_file("/proc/sys/net/ipv4/ip_unprivileged_port_start") == host_port);
}

// LINUX32 on x86_64 reads as i686.
BOOST_AUTO_TEST_CASE(personality_linux32, *test::needs(test::host::x86_64)) {
  Sandbox s;
  auto cfg = test::base_config({});
  test::set_json(cfg, "/linux/personality", R"({"domain": "LINUX32"})");
  BOOST_TEST(observe(s, std::move(cfg), "uname -m") == "i686\n");
}

BOOST_AUTO_TEST_CASE(seccomp_profile_is_enforced) {
  Sandbox s;
  auto cfg = test::base_config({});
  test::set_json(cfg, "/linux/seccomp", R"({
    "defaultAction": "SCMP_ACT_ALLOW",
    "architectures": ["SCMP_ARCH_X86_64", "SCMP_ARCH_X86"],
    "syscalls": [
      {"names": ["mkdir", "mkdirat"], "action": "SCMP_ACT_ERRNO", "errnoRet": 38},
      {"names": ["personality"], "action": "SCMP_ACT_ERRNO", "args": [{"index": 0, "value": 8, "op": "SCMP_CMP_EQ"}]}
    ]})");
  const std::string out = observe(s, std::move(cfg),
      "mkdir /dev/shm/d 2>&1; grep Seccomp: /proc/self/status; touch /dev/shm/f && echo touch-ok");
  BOOST_TEST(contains(out, "Function not implemented"), out);
  BOOST_TEST(contains(out, "Seccomp:\t2\ntouch-ok\n"), out);
}

BOOST_AUTO_TEST_CASE(only_stdio_and_preserved_fds_reach_the_process) {
  Sandbox s;
  s.write_config(test::base_config({"sh", "-c", "ls /proc/self/fd | tr '\\n' ' '; cat <&3"}));
  // fd 3 of agentrun is a pipe holding a message; fd 4 is open but not preserved.
  int p[2];
  BOOST_TEST_REQUIRE(::pipe(p) == 0);
  BOOST_TEST_REQUIRE(::write(p[1], "preserved\n", 10) == 10);
  ::close(p[1]);
  auto o = s.command({"/bin/sh", "-c", "exec 3<&" + std::to_string(p[0]) + " 4</dev/null; exec \"$@\"", "sh",
                      AGENTRUN_BINARY, "--root", s.root, "--policy", "oci", "run", "--preserve-fds", "1", "--bundle",
                      s.bundle, "fds"});
  ::close(p[0]);
  BOOST_TEST(o.code == 0, o.err);
  BOOST_TEST(o.out == "0 1 2 3 4 preserved\n", o.out);  // 4 is ls's own directory handle
  BOOST_TEST(s.leftovers().empty());
}

BOOST_AUTO_TEST_CASE(no_pivot_uses_chroot) {
  Sandbox s;
  s.write_config(test::base_config({"sh", "-c", "cat /proc/self/mountinfo | wc -l; ls /"}));
  auto o = s.agentrun({"run", "--no-pivot", "--bundle", s.bundle, "np"});
  BOOST_TEST(o.code == 0, o.err);
  BOOST_TEST(contains(o.out, "bin\n"), o.out);
  BOOST_TEST(s.leftovers().empty());
}

BOOST_AUTO_TEST_CASE(user_namespace_with_mappings, *test::needs(test::host::user_namespaces)) {
  Sandbox s;
  // Files in the rootfs belong to the mapped root.
  test::run_process({"/bin/chown", "-R", "100000:100000", s.rootfs});
  auto cfg = test::base_config({});
  auto& ns = cfg["linux"]["namespaces"];
  ns.PushBack(rapidjson::Value(rapidjson::kObjectType).AddMember("type", "user", cfg.GetAllocator()), cfg.GetAllocator());
  test::set_json(cfg, "/linux/uidMappings", R"([{"containerID": 0, "hostID": 100000, "size": 65536}])");
  test::set_json(cfg, "/linux/gidMappings", R"([{"containerID": 0, "hostID": 100000, "size": 65536}])");
  // sysfs needs a network namespace owned by the user namespace: it has one.
  const std::string out = observe(s, std::move(cfg), "id -u; cat /proc/self/uid_map; stat -c %u /bin/busybox; ls /dev/null");
  BOOST_TEST(out == "0\n         0     100000      65536\n0\n/dev/null\n", out);
}

// Bind sources are opened with the runtime's credentials, as runc does: a
// directory only the host's root may enter still leads to the source.
BOOST_AUTO_TEST_CASE(user_namespace_binds_a_source_only_host_root_can_reach) {
  Sandbox s;
  test::run_process({"/bin/chown", "-R", "100000:100000", s.rootfs});
  const std::string secret = s.dir + "/root-only";
  BOOST_TEST_REQUIRE(::mkdir(secret.c_str(), 0700) == 0);
  BOOST_TEST_REQUIRE(::mkdir((secret + "/shared").c_str(), 0755) == 0);
  { std::FILE* f = std::fopen((secret + "/shared/inside").c_str(), "w"); std::fclose(f); }
  auto cfg = test::base_config({});
  auto& a = cfg.GetAllocator();
  cfg["linux"]["namespaces"].PushBack(rapidjson::Value(rapidjson::kObjectType).AddMember("type", "user", a), a);
  test::set_json(cfg, "/linux/uidMappings", R"([{"containerID": 0, "hostID": 100000, "size": 65536}])");
  test::set_json(cfg, "/linux/gidMappings", R"([{"containerID": 0, "hostID": 100000, "size": 65536}])");
  test::set_json(cfg, "/mounts/-", R"({"destination": "/data", "type": "bind", "source": ")" + secret + R"(/shared", "options": ["rbind", "ro"]})");
  BOOST_TEST(observe(s, std::move(cfg), "ls /data; touch /data/x 2>/dev/null || echo ro") == "inside\nro\n");
}

BOOST_AUTO_TEST_CASE(io_priority_scheduler_and_cpu_affinity) {
  Sandbox s;
  auto cfg = test::base_config({});
  test::set_json(cfg, "/process/ioPriority", R"({"class": "IOPRIO_CLASS_BE", "priority": 5})");
  test::set_json(cfg, "/process/scheduler", R"({"policy": "SCHED_BATCH", "nice": 7})");
  test::set_json(cfg, "/process/execCPUAffinity", R"({"initial": "0", "final": "0"})");
  const std::string out = observe(s, std::move(cfg),
      "ionice; awk '/^policy/ {print $3}' /proc/self/sched; awk '{print $19}' /proc/self/stat; nproc");
  BOOST_TEST(out == "best-effort: prio 5\n3\n7\n1\n", out);
}

BOOST_AUTO_TEST_CASE(time_namespace_offsets) {
  Sandbox s;
  auto cfg = test::base_config({});
  auto& a = cfg.GetAllocator();
  cfg["linux"]["namespaces"].PushBack(rapidjson::Value(rapidjson::kObjectType).AddMember("type", "time", a), a);
  test::set_json(cfg, "/linux/timeOffsets", R"({"boottime": {"secs": 50000000, "nanosecs": 0}})");
  const std::string out = observe(s, std::move(cfg), "awk '{print int($1)}' /proc/uptime");
  const double host_uptime = std::stod(test::read_file("/proc/uptime"));
  BOOST_TEST(std::stod(out) >= 50000000 + host_uptime - 5, out);
}

BOOST_AUTO_TEST_CASE(cgroup_mount_shows_only_the_containers_cgroups, *test::needs_cgroup("pids")) {
  Sandbox s;
  // v1: a directory per hierarchy; v2: the cgroup2 files at the top.
  const bool v2 = test::host::cgroup_layout() == test::host::CgroupLayout::v2;
  const std::string hierarchy = v2 ? "/sys/fs/cgroup" : "/sys/fs/cgroup/pids";
  auto cfg = test::base_config({});
  test::set_json(cfg, "/mounts/-",
                 R"({"destination": "/sys/fs/cgroup", "type": "cgroup", "source": "cgroup", "options": ["ro", "nosuid", "nodev", "noexec"]})");
  const std::string out = observe(s, std::move(cfg),
                                  "ls /sys/fs/cgroup; echo dirs=$(find " + hierarchy + " -mindepth 1 -type d | wc -l); "
                                  "touch /sys/fs/cgroup/x 2>/dev/null || echo ro");
  BOOST_TEST(out.find("ro\n") != std::string::npos, out);
  if (v2) BOOST_TEST(out.find("cgroup.controllers\n") != std::string::npos, out);
  for (const char* controller : {"memory", "pids", "devices"})
    if (!test::host::cgroup_v1_mount(controller).empty())
      BOOST_TEST(out.find(std::string(controller) + "\n") != std::string::npos, controller << " in " << out);
  // The host's hierarchy has other groups; the container's root is its own leaf.
  BOOST_TEST(out.find("dirs=0\n") != std::string::npos, out);
}

BOOST_AUTO_TEST_CASE(rootfs_propagation) {
  Sandbox s;
  auto cfg = test::base_config({});
  test::set_string(cfg, "/linux/rootfsPropagation", "rprivate");
  const std::string priv = observe(s, std::move(cfg), "awk '$5 == \"/\" {print $7}' /proc/self/mountinfo");
  BOOST_TEST(priv.find("master:") == std::string::npos, priv);
  BOOST_TEST(priv.find("shared:") == std::string::npos, priv);
  auto shared_cfg = test::base_config({});
  test::set_string(shared_cfg, "/linux/rootfsPropagation", "rshared");
  const std::string shared = observe(s, std::move(shared_cfg), "awk '$5 == \"/\" {print $7}' /proc/self/mountinfo");
  BOOST_TEST(shared.find("shared:") != std::string::npos, shared);
}

// The root becomes unbindable once it is the container's; bind mounts of
// host directories still work (their sources are bound before that).
BOOST_AUTO_TEST_CASE(rootfs_propagation_unbindable) {
  Sandbox s;
  const std::string shared = s.dir + "/shared";
  BOOST_TEST_REQUIRE(::mkdir(shared.c_str(), 0755) == 0);
  for (const char* propagation : {"unbindable", "runbindable"}) {
    auto cfg = test::base_config({});
    test::set_string(cfg, "/linux/rootfsPropagation", propagation);
    test::set_json(cfg, "/mounts/-", R"({"destination": "/data", "type": "bind", "source": ")" + shared + R"(", "options": ["rbind"]})");
    const std::string out =
        observe(s, std::move(cfg), "awk '$5 == \"/\" || $5 == \"/data\" {print $5, $7}' /proc/self/mountinfo");
    BOOST_TEST(contains(out, "/ unbindable\n"), propagation << ": " << out);
    BOOST_TEST(contains(out, "/data "), propagation << ": " << out);
  }
}

// A rootfs on a shared mount, with a propagation that leaves that mount
// alone ("private" is for "/" only): the container's mounts must not reach
// the host's peer. Also with root.path through a symlink: the mount made
// private or a slave is the one the kernel resolves the path to, not the
// longest mount point the path's text begins with (the symlink's, here /).
BOOST_AUTO_TEST_CASE(rootfs_on_a_shared_mount_does_not_propagate_to_the_host) {
  Sandbox s;
  BOOST_TEST_REQUIRE(::mount(s.rootfs.c_str(), s.rootfs.c_str(), nullptr, MS_BIND, nullptr) == 0);
  BOOST_TEST_REQUIRE(::mount(nullptr, s.rootfs.c_str(), nullptr, MS_SHARED, nullptr) == 0);
  BOOST_TEST_REQUIRE(::symlink(s.dir.c_str(), (s.dir + "/via").c_str()) == 0);
  for (const std::string& root : {std::string("rootfs"), s.dir + "/via/bundle/rootfs"})
    for (const char* propagation : {"private", "slave", "unbindable"}) {
      auto cfg = test::base_config({"echo", "ran"});
      test::set_string(cfg, "/root/path", root);
      test::set_string(cfg, "/linux/rootfsPropagation", propagation);
      auto o = s.run(cfg);
      BOOST_TEST(o.out == "ran\n", root << ", " << propagation << ": exit " << o.code << ": " << o.err);
      BOOST_TEST(test::read_file("/proc/self/mountinfo").find(s.rootfs + "/proc ") == std::string::npos,
                 root << ", " << propagation << ": the container's /proc reached the host");
    }
  // Ours, and whatever reached the host (a bounded number of layers).
  for (int i = 0; i < 16 && ::umount2(s.rootfs.c_str(), MNT_DETACH) == 0; ++i) {}
  BOOST_TEST(s.leftovers().empty());
}

BOOST_AUTO_TEST_CASE(without_path_the_usual_directories_are_searched) {
  Sandbox s;
  auto cfg = test::base_config({"echo", "found"});
  test::set_json(cfg, "/process/env", R"(["TERM=xterm"])");  // as ctr run --rootfs gives it
  auto o = s.run(cfg);
  BOOST_TEST(o.code == 0, o.err);
  BOOST_TEST(o.out == "found\n");
  test::set_json(cfg, "/process/env", R"(["PATH="])");  // set but empty: nothing is searched
  BOOST_TEST(s.run(cfg).code == 1);
  BOOST_TEST(s.leftovers().empty());
}

BOOST_AUTO_TEST_CASE(socket_activation_fds_are_passed_on) {
  Sandbox s;
  s.write_config(test::base_config({"sh", "-c", "echo $LISTEN_FDS $LISTEN_PID; ls /proc/self/fd | tr '\\n' ' '"}));
  // systemd's protocol: the fds from 3 on, LISTEN_PID naming the runtime itself.
  auto o = s.command({"/bin/sh", "-c", "export LISTEN_FDS=1 LISTEN_PID=$$; exec 3</dev/null; exec \"$@\"", "sh",
                      AGENTRUN_BINARY, "--root", s.root, "--policy", "oci", "run", "--bundle", s.bundle, "sa"});
  BOOST_TEST(o.code == 0, o.err);
  BOOST_TEST(o.out == "1 1\n0 1 2 3 4 ", o.out);  // 4 is ls's own directory handle
  BOOST_TEST(s.leftovers().empty());
}
