#include <boost/test/unit_test.hpp>

#include "runtime/cgroup/systemd_unit.hpp"
#include "support/checks.hpp"

using namespace agentrun;

namespace {
const std::string kField = "config.json: linux.cgroupsPath: ";
}

BOOST_AUTO_TEST_CASE(slices_nest_by_their_dashes) {
  BOOST_TEST(expand_slice("system.slice") == "/system.slice");
  BOOST_TEST(expand_slice("a-b-c.slice") == "/a.slice/a-b.slice/a-b-c.slice");
  BOOST_TEST(expand_slice("kubepods-burstable-pod1234.slice") ==
             "/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod1234.slice");
  BOOST_TEST(expand_slice("-.slice") == "/");
}

BOOST_AUTO_TEST_CASE(malformed_slices_name_the_field) {
  for (const char* bad : {"-a.slice", "a-.slice", "a--b.slice", "--.slice"})
    expect_failure([&] { expand_slice(bad); },
                   kField + "\"" + bad + "\" is not a valid systemd slice name (a dash at either end of the name, or two in a row)");
  for (const char* bad : {".slice", "a.scope", "a/b.slice", "slice"})
    expect_failure([&] { expand_slice(bad); },
                   kField + "\"" + bad + "\" is not a valid systemd slice name (NAME.slice, without \"/\")");
}

BOOST_AUTO_TEST_CASE(docker_scope) {
  const auto u = systemd_unit_for("system.slice:docker:abc", "id");
  BOOST_TEST(u.slice == "system.slice");
  BOOST_TEST(u.name == "docker-abc.scope");
  BOOST_TEST(u.cgroup == "/system.slice/docker-abc.scope");
  BOOST_TEST(!u.is_slice());
}

BOOST_AUTO_TEST_CASE(kubernetes_pod_slice) {
  const auto u = systemd_unit_for("kubepods-burstable-pod1234.slice:cri-containerd:abc", "id");
  BOOST_TEST(u.name == "cri-containerd-abc.scope");
  BOOST_TEST(u.cgroup ==
             "/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod1234.slice/cri-containerd-abc.scope");
}

BOOST_AUTO_TEST_CASE(empty_parts_take_runc_defaults) {
  // An empty slice is system.slice; an empty path is the runtime's own prefix and the id.
  const auto u = systemd_unit_for(":podman:abc", "id");
  BOOST_TEST(u.slice == "system.slice");
  BOOST_TEST(u.cgroup == "/system.slice/podman-abc.scope");
  const auto d = systemd_unit_for("", "c1");
  BOOST_TEST(d.name == "agentrun-c1.scope");
  BOOST_TEST(d.cgroup == "/system.slice/agentrun-c1.scope");
  // As in runc, an empty prefix still gets its dash.
  BOOST_TEST(systemd_unit_for("system.slice::abc", "id").name == "-abc.scope");
  BOOST_TEST(systemd_unit_for("-.slice:p:abc", "id").cgroup == "/p-abc.scope");
}

BOOST_AUTO_TEST_CASE(a_name_that_is_a_slice_makes_a_slice) {
  const auto u = systemd_unit_for("kubepods.slice:x:kubepods-besteffort.slice", "id");
  BOOST_TEST(u.is_slice());
  BOOST_TEST(u.name == "kubepods-besteffort.slice");
  BOOST_TEST(u.cgroup == "/kubepods.slice/kubepods-besteffort.slice");
  expect_failure([] { systemd_unit_for("system.slice:x:a--b.slice", "id"); },
                 kField + "\"a--b.slice\" is not a valid systemd slice name (a dash at either end of the name, or two in a row)");
}

BOOST_AUTO_TEST_CASE(bad_unit_names_name_the_field) {
  expect_failure([] { systemd_unit_for("system.slice:dock er:abc", "id"); },
                 kField + "the unit name \"dock er-abc.scope\" has characters systemd does not allow in unit names");
  expect_failure([] { systemd_unit_for("system.slice:p:" + std::string(250, 'a'), "id"); },
                 kField + "the unit name \"p-" + std::string(250, 'a') + ".scope\" is longer than systemd allows (255)");
  expect_failure([] { systemd_unit_for("bad-.slice:p:n", "id"); },
                 kField + "\"bad-.slice\" is not a valid systemd slice name (a dash at either end of the name, or two in a row)");
  // The form itself is parse_systemd_cgroup_path's (test_cgroup_layout).
  expect_failure([] { systemd_unit_for("/a/b", "id"); },
                 kField + "\"/a/b\" is not of the form slice:prefix:name needed by --systemd-cgroup");
}
