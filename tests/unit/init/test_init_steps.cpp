// The init's decisions, with the privileged calls recorded instead of made:
// the order runc uses, and nothing after a failed step.
#include <boost/test/unit_test.hpp>

#include <fcntl.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <unistd.h>

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
