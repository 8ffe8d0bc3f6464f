#include <rapidjson/document.h>
#include <sched.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <boost/test/unit_test.hpp>
#include <set>
#include <string>
#include <vector>

#include "runtime/confine/landlock.hpp"
#include "runtime/policy/preflight.hpp"
#include "spec/error.hpp"
#include "support/needs.hpp"

using namespace agentrun;

namespace {

// A hybrid host like the development VM: memory and pids as v1
// hierarchies, a cgroup2 mount with only hugetlb.
CgroupLayout hybrid_layout() {
  CgroupLayout l;
  l.mode = CgroupMode::hybrid;
  l.v1 = {{"memory", "/sys/fs/cgroup/memory"}, {"pids", "/sys/fs/cgroup/pids"}};
  l.unified = "/sys/fs/cgroup/unified";
  l.unified_controllers = {"hugetlb"};
  return l;
}

CgroupLayout v2_layout(std::set<std::string> controllers) {
  CgroupLayout l;
  l.mode = CgroupMode::v2;
  l.unified = "/sys/fs/cgroup";
  l.unified_controllers = std::move(controllers);
  return l;
}

const FeatureProbe& find(const std::vector<FeatureProbe>& probes, const std::string& name) {
  auto it = std::find_if(probes.begin(), probes.end(), [&](const FeatureProbe& p) { return p.name == name; });
  BOOST_REQUIRE_MESSAGE(it != probes.end(), "no probe for " << name);
  return *it;
}

}  // namespace

BOOST_AUTO_TEST_CASE(the_named_features) {
  const std::vector<std::string> expected = {
      "user-ns",     "pid-ns",        "net-ns",     "mount-ns", "ipc-ns",  "uts-ns",
      "cgroup-ns",   "time-ns",       "seccomp",    "no-new-privileges",   "landlock",
      "cgroup-pids", "cgroup-memory", "cgroup-cpu", "apparmor", "selinux"};
  BOOST_TEST(feature_names() == expected, boost::test_tools::per_element());
}

BOOST_AUTO_TEST_CASE(every_feature_is_probed_with_a_reason) {
  auto probes = probe_features(hybrid_layout(), HostFacts{});
  BOOST_REQUIRE(probes.size() == feature_names().size());
  for (size_t i = 0; i < probes.size(); ++i) {
    BOOST_TEST(probes[i].name == feature_names()[i]);
    BOOST_TEST(!probes[i].reason.empty(), probes[i].name << " has no reason");
  }
}

BOOST_AUTO_TEST_CASE(probes_on_this_host) {
  auto probes = probe_features(hybrid_layout(), HostFacts{});
  // Whoever runs the tests: these work unprivileged on any kernel agentrun supports.
  BOOST_TEST(find(probes, "seccomp").available);
  BOOST_TEST(find(probes, "no-new-privileges").available);
  // The preflight sees what the tests' own look at the host sees.
  const auto& ll = find(probes, "landlock");
  BOOST_TEST(ll.available == (test::host::landlock_abi() > 0));
  BOOST_TEST(ll.landlock_abi == test::host::landlock_abi());
  const std::string shortfall = landlock_shortfall(test::host::landlock_abi());
  if (ll.available)
    BOOST_TEST(ll.reason == "ABI " + std::to_string(test::host::landlock_abi()) + (shortfall.empty() ? "" : "; " + shortfall));
  BOOST_TEST(find(probes, "user-ns").available == test::host::user_namespaces().available);
  for (const char* ns : {"pid-ns", "net-ns", "mount-ns", "ipc-ns", "uts-ns", "cgroup-ns", "user-ns", "time-ns"}) {
    const auto& p = find(probes, ns);
    BOOST_TEST_CONTEXT(ns << ": " << p.reason) {
      if (p.available)
        BOOST_TEST(p.reason.find(" namespace works") != std::string::npos);
      else
        BOOST_TEST(p.reason.find(" namespace failed with E") != std::string::npos);
    }
  }
  // The probes ran in children: this process is still in its namespaces and
  // has not set no_new_privs.
  BOOST_TEST(find(probes, "no-new-privileges").reason == "prctl(PR_SET_NO_NEW_PRIVS) is supported");
}

BOOST_AUTO_TEST_CASE(root_creates_every_namespace, *test::needs(test::host::root)) {
  auto probes = probe_features(hybrid_layout(), HostFacts{});
  for (const char* ns : {"pid-ns", "net-ns", "mount-ns", "ipc-ns", "uts-ns", "cgroup-ns"})
    BOOST_TEST(find(probes, ns).available, ns << ": " << find(probes, ns).reason);
}

BOOST_AUTO_TEST_CASE(an_unprivileged_namespace_failure_says_why, *test::needs_absent(test::host::root, "root")) {
  auto p = probe_feature("mount-ns", hybrid_layout(), HostFacts{});
  BOOST_TEST(!p.available);
  BOOST_TEST(p.reason.rfind("creating a mount namespace failed with EPERM (operation not permitted): ", 0) == 0u,
             p.reason);
}

BOOST_AUTO_TEST_CASE(cgroup_controllers_in_each_mode) {
  auto hybrid = hybrid_layout();
  auto mem = probe_feature("cgroup-memory", hybrid, {});
  BOOST_TEST(mem.available);
  BOOST_TEST(mem.reason == "v1 hierarchy at /sys/fs/cgroup/memory");
  auto cpu = probe_feature("cgroup-cpu", hybrid, {});
  BOOST_TEST(!cpu.available);
  BOOST_TEST(cpu.reason.rfind("no v1 hierarchy or cgroup2 controller \"cpu\" on this host", 0) == 0u, cpu.reason);

  auto v2 = v2_layout({"cpu", "pids"});
  auto pids = probe_feature("cgroup-pids", v2, {});
  BOOST_TEST(pids.available);
  BOOST_TEST(pids.reason == "cgroup2 controller in /sys/fs/cgroup");
  auto mem2 = probe_feature("cgroup-memory", v2, {});
  BOOST_TEST(!mem2.available);
  BOOST_TEST(mem2.reason.rfind("controller \"memory\" is not in /sys/fs/cgroup/cgroup.controllers", 0) == 0u,
             mem2.reason);

  CgroupLayout v1;
  v1.mode = CgroupMode::v1;
  auto pids1 = probe_feature("cgroup-pids", v1, {});
  BOOST_TEST(!pids1.available);
  BOOST_TEST(pids1.reason.rfind("no v1 hierarchy for controller \"pids\" is mounted", 0) == 0u, pids1.reason);
}

BOOST_AUTO_TEST_CASE(lsms_from_host_facts) {
  HostFacts host;
  host.apparmor = true;
  BOOST_TEST(probe_feature("apparmor", hybrid_layout(), host).available);
  BOOST_TEST(!probe_feature("selinux", hybrid_layout(), host).available);
  host.apparmor = false;
  host.selinux = true;
  BOOST_TEST(!probe_feature("apparmor", hybrid_layout(), host).available);
  BOOST_TEST(probe_feature("selinux", hybrid_layout(), host).available);
}

BOOST_AUTO_TEST_CASE(an_unknown_feature_lists_the_known_ones) {
  try {
    probe_feature("user-namespace", hybrid_layout(), {});
    BOOST_FAIL("an unknown feature was probed");
  } catch (const Failure& f) {
    const std::string msg = f.what();
    BOOST_TEST(msg.rfind("preflight: unknown feature \"user-namespace\" (known: user-ns, pid-ns, ", 0) == 0u, msg);
    BOOST_TEST(msg.find("apparmor, selinux)") != std::string::npos, msg);
  }
}

BOOST_AUTO_TEST_CASE(table_and_json) {
  std::vector<FeatureProbe> probes = {{"landlock", true, "ABI 7", 7},
                                      {"no-new-privileges", false, "prctl failed"}};
  BOOST_TEST(preflight_table(probes) ==
             "FEATURE            AVAILABLE  REASON\n"
             "landlock           yes        ABI 7\n"
             "no-new-privileges  no         prctl failed\n");

  rapidjson::Document d;
  d.Parse(preflight_json(probes).c_str());
  BOOST_REQUIRE(!d.HasParseError());
  BOOST_REQUIRE(d.IsArray());
  BOOST_REQUIRE(d.Size() == 2u);
  BOOST_TEST(d[0]["feature"].GetString() == std::string("landlock"));
  BOOST_TEST(d[0]["available"].GetBool());
  BOOST_TEST(d[0]["reason"].GetString() == std::string("ABI 7"));
  BOOST_TEST(!d[1]["available"].GetBool());
  BOOST_TEST(d[1].MemberCount() == 3u);
}

BOOST_AUTO_TEST_CASE(a_refused_namespace_creation_names_the_namespace_and_the_cause) {
  int fds[2];
  BOOST_REQUIRE(::pipe(fds) == 0);
  pid_t pid = ::fork();
  BOOST_REQUIRE(pid >= 0);
  if (pid == 0) {  // without CAP_SYS_ADMIN, as the stage that creates them would be
    ::close(fds[0]);
    if (::geteuid() == 0 && ::setresuid(65534, 65534, 65534) != 0) ::_exit(2);
    const std::string m = namespace_error(CLONE_NEWIPC | CLONE_NEWNS, EPERM).message();
    ::_exit(::write(fds[1], m.data(), m.size()) == static_cast<ssize_t>(m.size()) ? 0 : 3);
  }
  ::close(fds[1]);
  std::string message;
  char buf[512];
  for (ssize_t n; (n = ::read(fds[0], buf, sizeof buf)) > 0;) message.append(buf, static_cast<size_t>(n));
  ::close(fds[0]);
  int status = 0;
  BOOST_REQUIRE(::waitpid(pid, &status, 0) == pid);
  BOOST_TEST(status == 0);
  BOOST_TEST(message ==
             "create namespaces: creating a mount namespace failed with EPERM (operation not permitted): "
             "agentrun lacks CAP_SYS_ADMIN here: run it as root, or rootless with a user namespace");
}

BOOST_AUTO_TEST_CASE(a_single_refused_namespace_is_named_without_trying_again) {
  // Nothing is unshared for one namespace: this process keeps its own.
  BOOST_TEST(namespace_error(CLONE_NEWUSER, ENOSPC).message() ==
             "create namespaces: creating a user namespace failed with ENOSPC (no space left on device): "
             "the limit /proc/sys/user/max_user_namespaces is reached or 0");
}
