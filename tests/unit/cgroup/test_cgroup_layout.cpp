#include <boost/test/unit_test.hpp>

#include <set>
#include <string>
#include <vector>

#include "runtime/cgroup/host_layout.hpp"
#include "runtime/cgroup/path.hpp"
#include "spec/error.hpp"
#include "support/checks.hpp"
#include "support/files.hpp"

using namespace agentrun;

namespace {

const char* kHybrid =
    "31 23 0:28 / /sys/fs/cgroup rw,relatime - tmpfs tmpfs rw,mode=755\n"
    "32 31 0:29 / /sys/fs/cgroup/cpu rw,relatime - cgroup cgroup rw,cpu\n"
    "33 31 0:30 / /sys/fs/cgroup/cpuacct rw,relatime - cgroup cgroup rw,cpuacct\n"
    "34 31 0:31 / /sys/fs/cgroup/cpuset rw,relatime - cgroup cgroup rw,cpuset\n"
    "35 31 0:32 / /sys/fs/cgroup/memory rw,relatime - cgroup cgroup rw,memory\n"
    "36 31 0:33 / /sys/fs/cgroup/devices rw,relatime - cgroup cgroup rw,devices\n"
    "37 31 0:34 / /sys/fs/cgroup/freezer rw,relatime - cgroup cgroup rw,freezer\n"
    "38 31 0:35 / /sys/fs/cgroup/blkio rw,relatime - cgroup cgroup rw,blkio\n"
    "39 31 0:36 / /sys/fs/cgroup/pids rw,relatime - cgroup cgroup rw,pids\n"
    "40 31 0:37 / /sys/fs/cgroup/systemd rw,relatime - cgroup cgroup rw,name=systemd\n"
    "41 31 0:38 / /sys/fs/cgroup/unified rw,relatime - cgroup2 cgroup2 rw\n";

const char* kV1Comounted =
    "25 18 0:22 / /sys/fs/cgroup rw - tmpfs tmpfs ro,mode=755\n"
    "26 25 0:23 / /sys/fs/cgroup/systemd rw - cgroup cgroup rw,xattr,release_agent=/x,name=systemd\n"
    "29 25 0:26 / /sys/fs/cgroup/cpu,cpuacct rw - cgroup cgroup rw,cpu,cpuacct\n"
    "30 25 0:27 / /sys/fs/cgroup/net_cls,net_prio rw - cgroup cgroup rw,net_cls,net_prio\n"
    "31 25 0:28 / /sys/fs/cgroup/memory rw - cgroup cgroup rw,memory\n"
    "32 25 0:29 /docker /mnt/memory-sub rw - cgroup cgroup rw,memory\n";

const char* kV2 =
    "22 1 0:20 / /proc rw - proc proc rw\n"
    "29 23 0:26 / /sys/fs/cgroup rw,nosuid - cgroup2 cgroup2 rw,nsdelegate,memory_recursiveprot\n";

}  // namespace

BOOST_AUTO_TEST_CASE(hybrid_as_on_this_machine) {
  const auto l = parse_cgroup_layout(parse_mountinfo(kHybrid), "hugetlb\n");
  BOOST_TEST(cgroup_mode_name(l.mode) == std::string("hybrid"));
  BOOST_TEST(l.v1.size() == 9u);
  BOOST_TEST(l.v1.at("memory") == "/sys/fs/cgroup/memory");
  BOOST_TEST(l.v1.at("name=systemd") == "/sys/fs/cgroup/systemd");
  BOOST_TEST(!l.v1.count("rw"));
  BOOST_TEST(l.unified == "/sys/fs/cgroup/unified");
  BOOST_TEST((l.unified_controllers == std::set<std::string>{"hugetlb"}));
}

BOOST_AUTO_TEST_CASE(pure_v1_with_comounted_controllers) {
  const auto l = parse_cgroup_layout(parse_mountinfo(kV1Comounted), "");
  BOOST_TEST(cgroup_mode_name(l.mode) == std::string("v1"));
  BOOST_TEST(l.v1.at("cpu") == "/sys/fs/cgroup/cpu,cpuacct");
  BOOST_TEST(l.v1.at("cpuacct") == "/sys/fs/cgroup/cpu,cpuacct");
  BOOST_TEST(l.v1.at("net_prio") == "/sys/fs/cgroup/net_cls,net_prio");
  BOOST_TEST(l.v1.at("name=systemd") == "/sys/fs/cgroup/systemd");
  // A bind of a subtree does not replace the hierarchy's root mount.
  BOOST_TEST(l.v1.at("memory") == "/sys/fs/cgroup/memory");
  BOOST_TEST(!l.v1.count("xattr"));
  BOOST_TEST(!l.v1.count("release_agent=/x"));
  BOOST_TEST(l.unified.empty());
}

BOOST_AUTO_TEST_CASE(pure_v2) {
  const auto l = parse_cgroup_layout(parse_mountinfo(kV2), "cpuset cpu io memory hugetlb pids rdma misc\n");
  BOOST_TEST(cgroup_mode_name(l.mode) == std::string("v2"));
  BOOST_TEST(l.v1.empty());
  BOOST_TEST(l.unified == "/sys/fs/cgroup");
  BOOST_TEST(l.unified_controllers.size() == 8u);
  BOOST_TEST(l.unified_controllers.count("io"));
}

BOOST_AUTO_TEST_CASE(no_cgroups_at_all) {
  expect_failure([] { parse_cgroup_layout(parse_mountinfo("22 1 0:20 / /proc rw - proc proc rw\n"), ""); },
                 "cgroup: no cgroup file system is mounted");
}

// Whichever way it was read (the usual v2 host's without mountinfo), the
// layout and the cgroup mounts are what mountinfo says.
BOOST_AUTO_TEST_CASE(detects_this_host) {
  std::vector<MountInfo> mounts;
  const auto l = detect_cgroup_layout(&mounts);
  BOOST_TEST((!l.v1.empty() || !l.unified.empty()));
  const auto listed = read_mountinfo();
  const auto expected = parse_cgroup_layout(listed, "");
  BOOST_TEST(cgroup_mode_name(l.mode) == cgroup_mode_name(expected.mode));
  BOOST_TEST(l.unified == expected.unified);
  BOOST_TEST((l.v1 == expected.v1));
  // What a cgroup mount binds: each v1 hierarchy, the first cgroup2 mount.
  std::set<std::string> seen, used;
  for (const auto& m : mounts) seen.insert(m.mount_point + " " + m.root + " " + m.fstype);
  bool unified = false;
  for (const auto& m : listed) {
    if (!m.mount_point.starts_with("/sys/fs/cgroup")) continue;
    if (m.fstype == "cgroup" || (m.fstype == "cgroup2" && !unified))
      used.insert(m.mount_point + " " + m.root + " " + m.fstype);
    unified = unified || m.fstype == "cgroup2";
  }
  for (const auto& m : used) BOOST_TEST(seen.count(m) == 1u, m);
}

BOOST_AUTO_TEST_CASE(the_unified_hierarchy_alone) {
  BOOST_TEST(in_unified_hierarchy_only("0::/user.slice/session-1.scope\n"));
  BOOST_TEST(in_unified_hierarchy_only("0::/\n"));
  BOOST_TEST(!in_unified_hierarchy_only("1:name=systemd:/\n0::/\n"));
  BOOST_TEST(!in_unified_hierarchy_only("0::/\n1:name=systemd:/\n"));
  BOOST_TEST(!in_unified_hierarchy_only("12:pids:/\n"));
  BOOST_TEST(!in_unified_hierarchy_only("0::/"));
  BOOST_TEST(!in_unified_hierarchy_only(""));
}

BOOST_AUTO_TEST_CASE(proc_self_cgroup) {
  const auto m = parse_proc_cgroup(
      "9:name=systemd:/\n8:pids:/\n4:memory:/process_api/1f23\n2:cpu,cpuacct:/a b\n0::/x/y\n");
  BOOST_TEST(m.size() == 6u);
  BOOST_TEST(m.at("name=systemd") == "/");
  BOOST_TEST(m.at("memory") == "/process_api/1f23");
  BOOST_TEST(m.at("cpu") == "/a b");
  BOOST_TEST(m.at("cpuacct") == "/a b");
  BOOST_TEST(m.at("") == "/x/y");
  BOOST_TEST(parse_proc_cgroup("0::/\n").at("") == "/");
}

BOOST_AUTO_TEST_CASE(cgroups_path_resolution) {
  BOOST_TEST(resolve_cgroup_path("/machine/c1", "c1", "/own") == "/machine/c1");
  BOOST_TEST(resolve_cgroup_path("machine/c1", "c1", "/own") == "/own/machine/c1");
  BOOST_TEST(resolve_cgroup_path("c1", "c1", "/") == "/c1");
  BOOST_TEST(resolve_cgroup_path("", "c1", "/own") == "/own/agentrun/c1");
  BOOST_TEST(resolve_cgroup_path("", "c1", "/") == "/agentrun/c1");
}

BOOST_AUTO_TEST_CASE(cgroups_path_must_be_clean) {
  const std::string f = "config.json: linux.cgroupsPath: ";
  for (const char* bad : {"../x", "/a/../b", "/a//b", "/a/./b", "a/", "/a/b/", "/a/.."})
    expect_failure([&] { resolve_cgroup_path(bad, "c", "/own"); },
                   f + "\"" + bad + "\" is not a clean path (empty, \".\" or \"..\" component)");
  expect_failure([] { resolve_cgroup_path("/", "c", "/own"); }, f + "\"/\" is the root cgroup, not a container's");
}

BOOST_AUTO_TEST_CASE(systemd_cgroup_path) {
  const auto p = parse_systemd_cgroup_path("system.slice:docker:abc");
  BOOST_TEST(p.slice == "system.slice");
  BOOST_TEST(p.prefix == "docker");
  BOOST_TEST(p.name == "abc");
  const auto q = parse_systemd_cgroup_path(":agentrun:c1");
  BOOST_TEST(q.slice.empty());
  BOOST_TEST(q.prefix == "agentrun");
  const std::string f = "config.json: linux.cgroupsPath: ";
  expect_failure([] { parse_systemd_cgroup_path("/a/b"); },
                 f + "\"/a/b\" is not of the form slice:prefix:name needed by --systemd-cgroup");
  expect_failure([] { parse_systemd_cgroup_path("a:b:c:d"); },
                 f + "\"a:b:c:d\" is not of the form slice:prefix:name needed by --systemd-cgroup");
  expect_failure([] { parse_systemd_cgroup_path("system.slice:x:"); },
                 f + "\"system.slice:x:\": the name after the last \":\" is empty");
  expect_failure([] { parse_systemd_cgroup_path("system:x:y"); },
                 f + "\"system\" is not a systemd slice name (NAME.slice)");
  expect_failure([] { parse_systemd_cgroup_path("a.slice:x/y:z"); },
                 f + "\"a.slice:x/y:z\": prefix and name must not contain \"/\"");
}

BOOST_AUTO_TEST_CASE(v2_delegation_stops_at_a_cgroup_holding_processes) {
  TempDir t("layout-test");
  const std::string r = t.path;
  const auto& put = test::put_file;
  put(r + "/cgroup.controllers", "memory pids\n");
  put(r + "/cgroup.subtree_control", "pids\n");
  put(r + "/cgroup.procs", "1\n");  // the root may hold processes
  put(r + "/a/cgroup.controllers", "pids\n");
  put(r + "/a/cgroup.subtree_control", "");
  put(r + "/a/cgroup.procs", "");
  put(r + "/a/b/cgroup.controllers", "");
  put(r + "/a/b/cgroup.subtree_control", "");
  put(r + "/a/b/cgroup.procs", "");
  BOOST_TEST(v2_delegation_gap(r, r + "/a/b", "pids") == "");
  BOOST_TEST(v2_delegation_gap(r, r + "/a/b", "memory") == "");
  put(r + "/a/cgroup.procs", "42\n");
  BOOST_TEST(v2_delegation_gap(r, r + "/a/b", "pids") ==
             "cgroup v2 cannot enable it in " + r + "/a/cgroup.subtree_control: that cgroup holds processes");
  put(r + "/a/cgroup.subtree_control", "pids\n");  // already passed down: the processes do not matter
  BOOST_TEST(v2_delegation_gap(r, r + "/a/b", "pids") == "");
  put(r + "/a/b/cgroup.procs", "7\n");
  BOOST_TEST(v2_delegation_gap(r, r + "/a/b", "pids") ==
             "cgroup v2 cannot enable it in " + r + "/a/b/cgroup.subtree_control: that cgroup holds processes");
}
