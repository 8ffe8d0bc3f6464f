#include <boost/test/unit_test.hpp>

#include <unistd.h>

#include <string>

#include "runtime/container/host_namespaces.hpp"
#include "spec/error.hpp"
#include "spec/parse_config.hpp"
#include "support/checks.hpp"

using agentrun::refuse_writes_into_host_namespaces;

namespace {

agentrun::spec::Config joining(const std::string& namespaces, const std::string& rest) {
  return agentrun::spec::parse_config(R"({"ociVersion": "1.2.0", "root": {"path": "rootfs"},
    "process": {"args": ["true"], "cwd": "/", "user": {"uid": 0, "gid": 0}},
    "linux": {"namespaces": [)" + namespaces + "]" + rest + "}}");
}

}  // namespace

// Joining the runtime's own network or uts namespace by path and writing a
// sysctl or the hostname there would change the host (runc refuses it).
BOOST_AUTO_TEST_CASE(a_write_into_the_hosts_namespace_is_refused) {
  expect_failure(
      [] {
        refuse_writes_into_host_namespaces(
            joining(R"({"type": "network", "path": "/proc/self/ns/net"})", R"(, "sysctl": {"net.ipv4.ip_forward": "1"})"),
            "config.json");
      },
      "config.json: linux.sysctl.net.ipv4.ip_forward: the network namespace it joins (/proc/self/ns/net) is the "
      "host's: refusing to set it on the host");
  auto uts = joining(R"({"type": "uts", "path": "/proc/self/ns/uts"})", "");
  uts.hostname = "evil";
  expect_failure([&] { refuse_writes_into_host_namespaces(uts, "config.json"); },
                 "config.json: hostname: the uts namespace it joins (/proc/self/ns/uts) is the host's: refusing to set "
                 "it on the host");
}

BOOST_AUTO_TEST_CASE(writes_into_other_namespaces_pass) {
  // A new namespace, or one joined that is not the runtime's: the test
  // pretends the runtime's network namespace is another (its pid namespace).
  BOOST_CHECK_NO_THROW(refuse_writes_into_host_namespaces(
      joining(R"({"type": "network"})", R"(, "sysctl": {"net.ipv4.ip_forward": "1"})"), "config.json"));
  TempDir own("own-ns");
  BOOST_TEST_REQUIRE(::symlink("/proc/self/ns/pid", (own.path + "/net").c_str()) == 0);
  BOOST_CHECK_NO_THROW(refuse_writes_into_host_namespaces(
      joining(R"({"type": "network", "path": "/proc/self/ns/net"})", R"(, "sysctl": {"net.ipv4.ip_forward": "1"})"),
      "config.json", own.path));
  // A path that is no namespace at all is an error naming it, before anything is made.
  expect_failure(
      [] {
        refuse_writes_into_host_namespaces(
            joining(R"({"type": "network", "path": "/nonexistent/ns"})", R"(, "sysctl": {"net.ipv4.ip_forward": "1"})"),
            "config.json");
      },
      "stat namespace /nonexistent/ns: no such file or directory");
}
