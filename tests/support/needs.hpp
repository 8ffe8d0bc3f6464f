#pragma once
// What a test case needs of the host, declared as a Boost.Test precondition:
//   BOOST_AUTO_TEST_CASE(x, *test::needs(test::host::i386_syscalls))
// When the need is absent Boost skips the case ("... is skipped because
// REASON"), which ctest reports as Not Run (Skipped): never passed, never failed.

#include <boost/test/unit_test.hpp>

#include <functional>
#include <string>

#include "support/host.hpp"

namespace test {

inline boost::unit_test::precondition needs(std::function<host::Probe()> probe) {
  return boost::unit_test::precondition([probe](boost::unit_test::test_unit_id) {
    const host::Probe p = probe();
    boost::test_tools::assertion_result r(p.available);
    r.message() << p.reason;
    return r;
  });
}

// For a test of what the runtime does on a host that lacks something.
inline boost::unit_test::precondition needs_absent(std::function<host::Probe()> probe, const std::string& what) {
  return boost::unit_test::precondition([probe, what](boost::unit_test::test_unit_id) {
    const host::Probe p = probe();
    boost::test_tools::assertion_result r(!p.available);
    r.message() << "needs a host without " << what << " (" << p.reason << ")";
    return r;
  });
}

inline boost::unit_test::precondition needs_landlock(int abi) {
  return needs([abi] { return host::landlock(abi); });
}

inline boost::unit_test::precondition needs_tool(const std::string& name) {
  return needs([name] { return host::tool(name); });
}

inline boost::unit_test::precondition needs_cgroup(const std::string& controller) {
  return needs([controller] { return host::cgroup_controller(controller); });
}

// What agent-default needs of a host: Landlock, the pids controller, and
// nftables for its egress rules.
inline boost::unit_test::precondition needs_agent_default() {
  return needs([] {
    if (auto p = host::landlock(1); !p.available) return p;
    if (auto p = host::nftables(); !p.available) return p;
    return host::cgroup_controller("pids");
  });
}

}  // namespace test
