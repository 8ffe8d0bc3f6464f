// The tests' own view of the host (support/host.hpp), checked where it can be.
#include <boost/test/unit_test.hpp>

#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <fstream>
#include <string>

#include "support/needs.hpp"

namespace host = test::host;

namespace {

host::Probe asked_to_run_unprivileged() {
  if (!std::getenv("AGENTRUN_TEST_UNPRIVILEGED")) return {false, "AGENTRUN_TEST_UNPRIVILEGED is not set (scripts/test sets it)"};
  return {true, "asked"};
}

std::string status_field(const std::string& name) {
  std::ifstream f("/proc/self/status");
  for (std::string line; std::getline(f, line);)
    if (line.rfind(name + ":", 0) == 0) return line.substr(line.find_first_not_of(" \t", name.size() + 1));
  return "";
}

}  // namespace

// scripts/test runs the unit tests as nobody without capabilities: seen from inside.
BOOST_AUTO_TEST_CASE(unit_tests_run_unprivileged, *test::needs(asked_to_run_unprivileged)) {
  BOOST_TEST(::geteuid() != 0u);
  BOOST_TEST(status_field("CapEff") == "0000000000000000");
  BOOST_TEST(status_field("CapBnd") == "0000000000000000");
  BOOST_TEST(!host::root().available);
}

BOOST_AUTO_TEST_CASE(cgroup_mounts_match_the_layout) {
  const auto& mounts = host::cgroup_mounts();
  const bool has_v2 = std::count(mounts.begin(), mounts.end(), host::cgroup_v2_mount()) == 1;
  switch (host::cgroup_layout()) {
    case host::CgroupLayout::v2:
      BOOST_TEST((mounts == std::vector<std::string>{"/sys/fs/cgroup"}));
      break;
    case host::CgroupLayout::hybrid:
      BOOST_TEST(has_v2);
      BOOST_TEST(mounts.size() > 1u);
      break;
    case host::CgroupLayout::v1:
      BOOST_TEST(host::cgroup_v2_mount().empty());
      BOOST_TEST(!mounts.empty());
      break;
    case host::CgroupLayout::none:
      BOOST_TEST(mounts.empty());
      break;
  }
  // Our cgroup in each hierarchy is a path, "/" at least.
  for (const auto& m : mounts) BOOST_TEST(host::own_cgroup(m).rfind("/", 0) == 0u, m);
}
