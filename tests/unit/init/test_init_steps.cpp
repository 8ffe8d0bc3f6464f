// The init's decisions, with the privileged calls recorded instead of made:
// the order runc uses, and nothing after a failed step.
#include <boost/test/unit_test.hpp>

#include <fcntl.h>
#include <linux/capability.h>
#include <linux/filter.h>
#include <sched.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <map>
#include <optional>

#include "runtime/init/container_init.hpp"
#include "runtime/init/credentials.hpp"
#include "runtime/init/rootfs.hpp"
#include "spec/names.hpp"
#include "support/checks.hpp"
#include "support/recording_sys.hpp"

using namespace agentrun;

namespace {

ProcessPlan process_with(uint64_t bounding, uint64_t effective, uint64_t ambient) {
  ProcessPlan p;
  p.uid = 1000;
  p.gid = 1000;
  p.groups = {27};
  p.caps = CapSets{bounding, effective, effective | ambient, ambient, ambient};
  return p;
}

std::string joined(const std::vector<std::string>& v) {
  std::string out;
  for (const auto& x : v) out += x + "; ";
  return out;
}

constexpr uint64_t bit(int cap) { return uint64_t{1} << cap; }

std::string prctl_call(int option, unsigned long a2, unsigned long a3 = 0) {
  return "prctl " + std::to_string(option) + " " + std::to_string(a2) + " " + std::to_string(a3);
}

}  // namespace

BOOST_AUTO_TEST_CASE(credentials_in_runc_order) {
  test::RecordingSys sys;
  const int kill = *spec::capability_from_name("CAP_KILL"), chown = *spec::capability_from_name("CAP_CHOWN");
  BOOST_TEST_REQUIRE(bool(apply_credentials(sys, process_with(bit(kill) | bit(chown), bit(kill), bit(chown)), 40)));
  // Every capability not in the bounding set is dropped from it, first.
  std::vector<std::string> drops = sys.matching("prctl " + std::to_string(PR_CAPBSET_DROP) + " ");
  BOOST_TEST(drops.size() == 39u);
  for (const auto& d : drops) BOOST_TEST((d != prctl_call(PR_CAPBSET_DROP, kill) && d != prctl_call(PR_CAPBSET_DROP, chown)), d);
  const std::vector<std::string> tail(sys.calls.begin() + 39, sys.calls.end());
  BOOST_TEST(tail == (std::vector<std::string>{
                         prctl_call(PR_SET_KEEPCAPS, 1), "setgroups 1", "setresgid 1000", "setresuid 1000",
                         prctl_call(PR_SET_KEEPCAPS, 0),
                         "capset e=" + std::to_string(bit(kill)) + " p=" + std::to_string(bit(kill) | bit(chown)) +
                             " i=" + std::to_string(bit(chown)),
                         prctl_call(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL),
                         prctl_call(PR_CAP_AMBIENT, PR_CAP_AMBIENT_RAISE, chown)}),
             joined(tail));
}

BOOST_AUTO_TEST_CASE(credentials_stop_at_the_first_failure) {
  test::RecordingSys sys;
  sys.failures["setresuid"] = EPERM;
  Status s = apply_credentials(sys, process_with(0, 0, 0), 40);
  BOOST_TEST_REQUIRE(!s);
  BOOST_TEST(s.error().message() == "set uid 1000: operation not permitted");
  BOOST_TEST(sys.calls.back() == "setresuid 1000");  // no capset, no ambient raise after it
  BOOST_TEST(sys.matching("capset").empty());
}

BOOST_AUTO_TEST_CASE(a_failing_mount_stops_the_mounts_after_it) {
  TempDir root("init-steps");
  test::RecordingSys sys;
  sys.failures["fsconfig mode=bogus"] = EINVAL;
  Plan plan;
  MountStep bad{MountKind::filesystem, "mounts[0]", "tmpfs", "/scratch", "tmpfs", {}};
  bad.options.data = {{"mode", "bogus"}};
  MountStep after{MountKind::filesystem, "mounts[1]", "proc", "/proc", "proc", {}};
  plan.mounts = {bad, after};
  RootfsSetup fs{sys, plan, UniqueFd(::open(root.path.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC)), {}, {}, {}};
  Status s = mount_all(fs);
  BOOST_TEST_REQUIRE(!s);
  BOOST_TEST(s.error().message() == "mount tmpfs on /scratch: option \"mode=bogus\": invalid argument");
  BOOST_TEST(sys.matching("fsopen proc").empty());  // the next mount was never tried
  BOOST_TEST(sys.matching("move_mount").empty());
}

BOOST_AUTO_TEST_CASE(sysfs_without_a_network_namespace_binds_the_hosts) {
  TempDir root("init-steps");
  test::RecordingSys sys;
  sys.failures["fsopen sysfs"] = EPERM;
  Plan plan;
  MountStep sysfs{MountKind::filesystem, "mounts[0]", "sysfs", "/sys", "sysfs", {}};
  sysfs.options.top.set = MOUNT_ATTR_RDONLY;
  plan.mounts = {sysfs};
  RootfsSetup fs{sys, plan, UniqueFd(::open(root.path.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC)), {}, {}, {}};
  BOOST_TEST_REQUIRE(bool(mount_all(fs)));
  BOOST_TEST(sys.matching("open_tree /sys").size() == 1u);
  BOOST_TEST(sys.matching("mount_setattr set=" + std::to_string(MOUNT_ATTR_RDONLY)).size() == 1u);
  BOOST_TEST(sys.matching("move_mount").size() == 1u);

  // With a network namespace of its own, sysfs must mount: EPERM is an error.
  test::RecordingSys strict;
  strict.failures["fsopen sysfs"] = EPERM;
  plan.new_namespaces = CLONE_NEWNET | CLONE_NEWNS;
  RootfsSetup fs2{strict, plan, UniqueFd(::open(root.path.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC)), {}, {}, {}};
  Status s = mount_all(fs2);
  BOOST_TEST_REQUIRE(!s);
  BOOST_TEST(s.error().message() == "mount sysfs on /sys: operation not permitted");
  BOOST_TEST(strict.matching("open_tree").empty());
}

// Each denyExec entry found, a symlink to busybox included, gets its own
// clone of the host's /dev/null made inert; nothing is cloned from a
// detached mount, which kernels before 6.15 refuse (EINVAL).
BOOST_AUTO_TEST_CASE(deny_exec_covers_each_entry_with_a_clone_of_dev_null) {
  TempDir root("init-steps");
  const std::string bin = root.path + "/bin";
  BOOST_TEST_REQUIRE(::mkdir(bin.c_str(), 0755) == 0);
  UniqueFd(::open((bin + "/busybox").c_str(), O_CREAT | O_WRONLY | O_CLOEXEC, 0755));
  BOOST_TEST_REQUIRE(::symlink("busybox", (bin + "/wget").c_str()) == 0);
  BOOST_TEST_REQUIRE(::symlink("busybox", (bin + "/sh").c_str()) == 0);
  BOOST_TEST_REQUIRE(::mkdir((bin + "/nc").c_str(), 0755) == 0);  // a directory is not a command
  test::RecordingSys sys;
  Plan plan;
  plan.deny_exec = {"curl", "wget", "nc"};
  plan.deny_exec_dirs = {"/bin"};
  RootfsSetup fs{sys, plan, UniqueFd(::open(root.path.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC)),
                 UniqueFd(::open("/dev/null", O_PATH | O_CLOEXEC)), {}, {}, {}};
  BOOST_TEST_REQUIRE(bool(apply_filesystem_policy(fs)));
  BOOST_TEST(fs.blocked == (std::vector<std::string>{"/bin/wget"}), boost::test_tools::per_element());
  const unsigned inert = MOUNT_ATTR_RDONLY | MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV | MOUNT_ATTR_NOEXEC;
  BOOST_TEST(sys.calls == (std::vector<std::string>{"open_tree ", "mount_setattr set=" + std::to_string(inert), "move_mount"}),
             boost::test_tools::per_element());

  test::RecordingSys refusing;
  refusing.failures["move_mount"] = EINVAL;
  RootfsSetup fs2{refusing, plan, UniqueFd(::open(root.path.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC)),
                  UniqueFd(::open("/dev/null", O_PATH | O_CLOEXEC)), {}, {}, {}};
  Status s = apply_filesystem_policy(fs2);
  BOOST_TEST_REQUIRE(!s);
  BOOST_TEST(s.error().message() == "block /bin/wget: invalid argument");
  BOOST_TEST(fs2.blocked.empty());
}

// A merged /usr: /bin is a symlink to usr/bin. The directory is looked at
// once: its wget gets one cover, reported under both PATH entries, and a
// PATH entry that does not exist costs nothing.
BOOST_AUTO_TEST_CASE(deny_exec_covers_a_directory_reached_twice_once) {
  TempDir root("init-steps");
  BOOST_TEST_REQUIRE(::mkdir((root.path + "/usr").c_str(), 0755) == 0);
  const std::string bin = root.path + "/usr/bin";
  BOOST_TEST_REQUIRE(::mkdir(bin.c_str(), 0755) == 0);
  UniqueFd(::open((bin + "/busybox").c_str(), O_CREAT | O_WRONLY | O_CLOEXEC, 0755));
  BOOST_TEST_REQUIRE(::symlink("busybox", (bin + "/wget").c_str()) == 0);
  BOOST_TEST_REQUIRE(::symlink("usr/bin", (root.path + "/bin").c_str()) == 0);
  test::RecordingSys sys;
  Plan plan;
  plan.deny_exec = {"curl", "wget"};
  plan.deny_exec_dirs = {"/bin", "/nowhere", "/usr/bin"};
  RootfsSetup fs{sys, plan, UniqueFd(::open(root.path.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC)),
                 UniqueFd(::open("/dev/null", O_PATH | O_CLOEXEC)), {}, {}, {}};
  BOOST_TEST_REQUIRE(bool(apply_filesystem_policy(fs)));
  BOOST_TEST(fs.blocked == (std::vector<std::string>{"/bin/wget", "/usr/bin/wget"}), boost::test_tools::per_element());
  BOOST_TEST(sys.matching("move_mount").size() == 1u);
}

BOOST_AUTO_TEST_CASE(held_capabilities_stay_until_the_process_takes_its_own) {
  test::RecordingSys sys;
  const int kill = *spec::capability_from_name("CAP_KILL"), chown = *spec::capability_from_name("CAP_CHOWN");
  const uint64_t admin = bit(*spec::capability_from_name("CAP_SYS_ADMIN"));
  ProcessPlan p = process_with(bit(kill) | bit(chown), bit(kill), bit(chown));
  BOOST_TEST_REQUIRE(bool(apply_credentials(sys, p, 40, admin)));
  // Held on top of the process's sets, and no ambient capability raised yet.
  BOOST_TEST(sys.calls.back() == prctl_call(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL));
  BOOST_TEST(sys.matching("capset ") ==
             (std::vector<std::string>{"capset e=" + std::to_string(bit(kill) | admin) +
                                       " p=" + std::to_string(bit(kill) | bit(chown) | admin) +
                                       " i=" + std::to_string(bit(chown))}),
             boost::test_tools::per_element());
  sys.calls.clear();
  BOOST_TEST_REQUIRE(bool(set_capabilities(sys, p.caps, 40)));
  BOOST_TEST(sys.calls == (std::vector<std::string>{
                              "capset e=" + std::to_string(bit(kill)) + " p=" +
                                  std::to_string(bit(kill) | bit(chown)) + " i=" + std::to_string(bit(chown)),
                              prctl_call(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL),
                              prctl_call(PR_CAP_AMBIENT, PR_CAP_AMBIENT_RAISE, chown)}),
             boost::test_tools::per_element());
}

namespace {

// What exec_init asked of the kernel, in order, up to execve: it runs in a
// child (it never returns), whose recording comes back through a pipe.
std::vector<test::Op> exec_init_ops(const Plan& plan) {
  struct Reporting : test::RecordingSys {
    int out = -1;
    int execve(const char* path, char* const* argv, char* const* envp) override {
      RecordingSys::execve(path, argv, envp);
      (void)!::write(out, ops.data(), ops.size() * sizeof(test::Op));
      return -ENOEXEC;  // the init reports it and exits
    }
  };
  int pipe_fds[2];
  BOOST_TEST_REQUIRE(::pipe(pipe_fds) == 0);
  auto channels = make_channel_pair();
  BOOST_TEST_REQUIRE(bool(channels));
  const pid_t pid = ::fork();
  BOOST_TEST_REQUIRE(pid >= 0);
  if (pid == 0) {
    ::close(pipe_fds[0]);
    Reporting sys;
    sys.out = pipe_fds[1];
    InitIo io;
    io.sync = &channels->second;
    exec_init(sys, plan, std::move(io));
  }
  ::close(pipe_fds[1]);
  (void)channels->first.send(MsgType::proceed);
  std::vector<test::Op> ops(4096);
  size_t got = 0;
  for (ssize_t n; (n = ::read(pipe_fds[0], reinterpret_cast<char*>(ops.data()) + got, ops.size() * sizeof(test::Op) - got)) > 0;)
    got += static_cast<size_t>(n);
  ::close(pipe_fds[0]);
  int status = 0;
  ::waitpid(pid, &status, 0);
  ops.resize(got / sizeof(test::Op));
  return ops;
}

Plan confined_plan(bool no_new_privileges) {
  Plan plan;
  plan.process = process_with(bit(CAP_KILL), bit(CAP_KILL), 0);
  plan.process.uid = plan.process.gid = 0;
  plan.process.args = {"/bin/true"};
  plan.process.env = {"PATH=/bin:/usr/bin"};
  plan.process.cwd = "/";
  plan.process.no_new_privileges = no_new_privileges;
  LandlockRuleset landlock;
  landlock.abi = 1;
  landlock.handled_fs = 1;
  landlock.path_rules = {{"/", 1}};
  plan.landlock = landlock;
  SeccompProgram allow;
  allow.filter = {sock_filter{0x06, 0, 0, 0x7fff0000}};  // RET ALLOW
  plan.seccomp = SeccompFilter{"config.json: linux.seccomp", {}, allow};
  plan.seccomp_stack = {{"seccomp profile agent-hardening", {}, allow}};
  return plan;
}

std::ptrdiff_t first(const std::vector<test::Op>& ops, test::Op op) {
  return std::find(ops.begin(), ops.end(), op) - ops.begin();
}
std::ptrdiff_t last(const std::vector<test::Op>& ops, test::Op op) {
  return ops.rend() - std::find(ops.rbegin(), ops.rend(), op) - 1;
}

}  // namespace

// Landlock while the process may still restrict itself, then its
// credentials, then the seccomp filters, and execve with nothing between.
BOOST_AUTO_TEST_CASE(exec_confines_in_order_and_loads_the_filters_last) {
  using test::Op;
  const auto ops = exec_init_ops(confined_plan(true));
  BOOST_TEST_REQUIRE(!ops.empty());
  BOOST_TEST((ops.back() == Op::execve));
  BOOST_TEST(first(ops, Op::landlock_create_ruleset) < first(ops, Op::landlock_add_rule));
  BOOST_TEST(last(ops, Op::landlock_add_rule) < first(ops, Op::landlock_restrict_self));
  BOOST_TEST(last(ops, Op::landlock_restrict_self) < first(ops, Op::setresuid));
  BOOST_TEST(last(ops, Op::capset) < first(ops, Op::seccomp_filter));
  const std::vector<Op> tail(ops.end() - 3, ops.end());
  BOOST_TEST((tail == std::vector<Op>{Op::seccomp_filter, Op::seccomp_filter, Op::execve}));
}

// Without no_new_privs, loading a filter needs CAP_SYS_ADMIN: the process's
// own capabilities (and its ambient set) come only after its filters.
BOOST_AUTO_TEST_CASE(without_no_new_privs_the_capabilities_come_after_the_filters) {
  using test::Op;
  const auto ops = exec_init_ops(confined_plan(false));
  BOOST_TEST_REQUIRE(!ops.empty());
  const std::vector<Op> tail(ops.end() - 5, ops.end());
  BOOST_TEST((tail == std::vector<Op>{Op::seccomp_filter, Op::seccomp_filter, Op::capset, Op::prctl, Op::execve}));
}

namespace {

// The first words container_init says to create, given the calls that fail
// and, when `create_says` is set, create's first word (with a network
// namespace's descriptor).
std::vector<agentrun::Message> first_words_of_init(const Plan& plan, const std::map<std::string, int>& failures,
                                                   size_t count = 1, std::optional<MsgType> create_says = {}) {
  auto channels = make_channel_pair();
  BOOST_TEST_REQUIRE(bool(channels));
  const pid_t pid = ::fork();
  BOOST_TEST_REQUIRE(pid >= 0);
  if (pid == 0) {
    channels->first.close();
    test::RecordingSys sys;
    sys.failures = failures;
    InitIo io;
    io.sync = &channels->second;
    container_init(sys, plan, std::move(io));
  }
  channels->second.close();
  if (create_says) {
    const int ns = ::open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC);
    BOOST_TEST_REQUIRE(ns >= 0);
    BOOST_TEST(bool(channels->first.send(*create_says, 0, ns)));
    ::close(ns);
  }
  std::vector<agentrun::Message> words;
  while (words.size() < count) {
    auto m = channels->first.receive();
    if (!m) break;
    words.push_back(std::move(*m));
  }
  ::kill(pid, SIGKILL);
  ::waitpid(pid, nullptr, 0);
  BOOST_TEST_REQUIRE(words.size() == count);
  return words;
}

}  // namespace

// The init enters its network namespace before anything else and says so:
// create puts the egress rules in it, and hooks enter it, only then. A
// refusal is that word with the errno (create names what the host lacks),
// then the init's error. Without a user namespace, create makes the
// namespace and the init joins it (the setns is what a refusal names).
BOOST_AUTO_TEST_CASE(the_init_joins_the_network_namespace_create_made_first, *boost::unit_test::timeout(20)) {
  Plan plan;
  plan.new_namespaces = CLONE_NEWNET | CLONE_NEWNS;
  const std::string net = std::to_string(CLONE_NEWNET);
  const auto joined = std::move(first_words_of_init(plan, {{"unshare " + net, EPERM}}, 1, MsgType::network_namespace)[0]);
  BOOST_TEST((joined.type == MsgType::network_ready));
  BOOST_TEST(joined.value == 0);

  const auto refused = first_words_of_init(plan, {{"setns " + net, EPERM}}, 2, MsgType::network_namespace);
  BOOST_TEST((refused[0].type == MsgType::network_ready));
  BOOST_TEST(refused[0].value == EPERM);
  BOOST_TEST_REQUIRE((refused[1].type == MsgType::error));
  BOOST_TEST(refused[1].error.message() == "join the network namespace create made: operation not permitted");

  // Any other first word from create is no namespace to run in.
  const auto other = std::move(first_words_of_init(plan, {}, 1, MsgType::cgroup_joined)[0]);
  BOOST_TEST_REQUIRE((other.type == MsgType::error));
  BOOST_TEST(other.error.message() == "join the network namespace create made: create sent no namespace");
}

// Under a user namespace the container owns, the init makes it itself.
BOOST_AUTO_TEST_CASE(under_a_user_namespace_the_init_makes_its_network_namespace, *boost::unit_test::timeout(20)) {
  Plan plan;
  plan.new_namespaces = CLONE_NEWUSER | CLONE_NEWNET | CLONE_NEWNS;
  const std::string net = std::to_string(CLONE_NEWNET);
  const auto made = std::move(first_words_of_init(plan, {{"setns " + net, EPERM}})[0]);
  BOOST_TEST((made.type == MsgType::network_ready));
  BOOST_TEST(made.value == 0);

  const auto refused = first_words_of_init(plan, {{"unshare " + net, EPERM}}, 2);
  BOOST_TEST((refused[0].type == MsgType::network_ready));
  BOOST_TEST(refused[0].value == EPERM);
  BOOST_TEST_REQUIRE((refused[1].type == MsgType::error));
  BOOST_TEST(refused[1].error.message() == "create the network namespace: operation not permitted");

  // Without a network namespace of its own, the word is never sent.
  plan.new_namespaces = CLONE_NEWNS;
  BOOST_TEST((first_words_of_init(plan, {})[0].type != MsgType::network_ready));
}
