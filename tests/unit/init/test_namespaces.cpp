// Joining namespaces by path, with the setns calls recorded instead of
// made: every path is opened and checked before any is joined, the plan's
// order is kept, and the first failure stops the rest.
#include <boost/test/unit_test.hpp>

#include <sched.h>

#include <string>
#include <vector>

#include "runtime/init/namespaces.hpp"
#include "support/recording_sys.hpp"

using namespace agentrun;
using spec::NamespaceType;

namespace {

Plan joining(std::vector<NamespaceJoin> joins) {
  Plan p;
  p.joins = std::move(joins);
  return p;
}

std::string setns(int flag) { return "setns " + std::to_string(flag); }

}  // namespace

BOOST_AUTO_TEST_CASE(joins_in_the_plans_order) {
  test::RecordingSys sys;
  const Plan plan = joining({{NamespaceType::user, "/proc/self/ns/user"},
                             {NamespaceType::network, "/proc/self/ns/net"},
                             {NamespaceType::ipc, "/proc/self/ns/ipc"}});
  const Status s = join_namespaces(sys, plan, true);
  BOOST_TEST(static_cast<bool>(s), (s ? "" : s.error().message()));
  BOOST_TEST(sys.calls == (std::vector<std::string>{setns(CLONE_NEWUSER), setns(CLONE_NEWNET), setns(CLONE_NEWIPC)}),
             boost::test_tools::per_element());
}

BOOST_AUTO_TEST_CASE(a_failed_join_stops_the_ones_after_it) {
  test::RecordingSys sys;
  sys.failures[setns(CLONE_NEWNET)] = EPERM;
  const Status s = join_namespaces(
      sys, joining({{NamespaceType::network, "/proc/self/ns/net"}, {NamespaceType::ipc, "/proc/self/ns/ipc"}}), true);
  BOOST_TEST_REQUIRE(!s);
  BOOST_TEST(s.error().message() == "join network namespace /proc/self/ns/net: operation not permitted");
  BOOST_TEST(sys.calls == std::vector<std::string>{setns(CLONE_NEWNET)}, boost::test_tools::per_element());
}

// A path that cannot be opened fails before anything is joined.
BOOST_AUTO_TEST_CASE(every_path_is_opened_before_any_join) {
  test::RecordingSys sys;
  const Status s = join_namespaces(
      sys, joining({{NamespaceType::network, "/proc/self/ns/net"}, {NamespaceType::ipc, "/nonexistent/ipc"}}), true);
  BOOST_TEST_REQUIRE(!s);
  BOOST_TEST(s.error().message() == "open ipc namespace /nonexistent/ipc: no such file or directory");
  BOOST_TEST(sys.calls.empty());
}

// The runtime's own namespaces are the host's here: a container that would
// set a hostname in the joined uts namespace, or set up its root in the
// joined mount namespace, is refused before anything is joined; `exec`
// joins the mount namespace without setting anything up.
BOOST_AUTO_TEST_CASE(the_runtimes_own_namespace_is_not_changed) {
  test::RecordingSys sys;
  Plan plan = joining({{NamespaceType::network, "/proc/self/ns/net"}, {NamespaceType::uts, "/proc/self/ns/uts"}});
  plan.hostname = "box";
  Status s = join_namespaces(sys, plan, true);
  BOOST_TEST_REQUIRE(!s);
  BOOST_TEST(s.error().message() ==
             "join uts namespace /proc/self/ns/uts: it is the runtime's own: the container's hostname and "
             "domainname would rename the host");
  BOOST_TEST(sys.calls.empty());

  const Plan mount = joining({{NamespaceType::mount, "/proc/self/ns/mnt"}});
  s = join_namespaces(sys, mount, true);
  BOOST_TEST_REQUIRE(!s);
  BOOST_TEST(s.error().message().find("it is the runtime's own: the container's root file system") != std::string::npos,
             s.error().message());
  BOOST_TEST(static_cast<bool>(join_namespaces(sys, mount, false)));
  BOOST_TEST(sys.calls == std::vector<std::string>{setns(CLONE_NEWNS)}, boost::test_tools::per_element());
}

// A sysctl goes into the namespace it belongs to: written into the host's
// network or ipc namespace joined by path, it would change the host's value.
BOOST_AUTO_TEST_CASE(no_sysctl_is_set_in_the_runtimes_own_namespace) {
  test::RecordingSys sys;
  Plan plan = joining({{NamespaceType::network, "/proc/self/ns/net"}, {NamespaceType::ipc, "/proc/self/ns/ipc"}});
  plan.sysctls = {{"kernel/shmmax", "1000"}};
  Status s = join_namespaces(sys, plan, true);
  BOOST_TEST_REQUIRE(!s);
  BOOST_TEST(s.error().message() ==
             "join ipc namespace /proc/self/ns/ipc: it is the runtime's own: the container's sysctl kernel.shmmax "
             "would be set on the host");
  plan.sysctls = {{"net/ipv4/conf/all/log_martians", "1"}};
  s = join_namespaces(sys, plan, true);
  BOOST_TEST_REQUIRE(!s);
  BOOST_TEST(s.error().message().rfind("join network namespace /proc/self/ns/net: it is the runtime's own: the "
                                       "container's sysctl net.ipv4.conf.all.log_martians", 0) == 0u);
  BOOST_TEST(sys.calls.empty());
}
