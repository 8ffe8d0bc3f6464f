// The systemd cgroup driver against a real systemd (the guest tier boots
// one): the scope, its properties and files, every command on it, nested
// slices, annotations, and faults that must leave no unit, cgroup or state.
#include <boost/test/unit_test.hpp>

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>

#include "support/cgroup_files.hpp"
#include "support/harness.hpp"
#include "support/needs.hpp"
#include "support/wait.hpp"

using namespace std::chrono_literals;
using test::Sandbox;
namespace cg = test::cgroup;

namespace {

const auto needs_systemd = test::needs([] { return test::host::systemd(); });

// One property of a unit, as systemctl shows it.
std::string property(const Sandbox& s, const std::string& unit, const std::string& name) {
  auto o = s.command({"/bin/systemctl", "show", "-p", name, "--value", unit});
  return o.out.substr(0, o.out.find_last_not_of('\n') + 1);
}

// A name no other test run uses.
std::string unique(const std::string& stem) { return stem + std::to_string(::getpid()); }

std::string cgroup_line(int pid) {
  const std::string text = test::read_file("/proc/" + std::to_string(pid) + "/cgroup");
  const auto at = text.find("0::");
  return at == std::string::npos ? "" : text.substr(at + 3, text.find('\n', at) - at - 3);
}

test::Output run_detached(const Sandbox& s, const rapidjson::Document& cfg, const std::string& id) {
  s.write_config(cfg);
  return s.agentrun({"--systemd-cgroup", "run", "-d", "--bundle", s.bundle, id});
}

// The unit is gone: systemd does not know it and its cgroup is removed.
void expect_no_unit(const Sandbox& s, const std::string& unit, const std::string& cgroup) {
  test::wait_for([&] { return property(s, unit, "LoadState") == "not-found"; }, 10s, unit + " to be unloaded");
  BOOST_TEST(!test::file_exists(test::host::cgroup_v2_mount() + cgroup), cgroup);
}

}  // namespace

BOOST_AUTO_TEST_SUITE(systemd_driver, *needs_systemd)

BOOST_AUTO_TEST_CASE(a_container_lives_in_its_scope_with_its_limits) {
  Sandbox s;
  auto preflight = s.agentrun({"--systemd-cgroup", "preflight", "--format", "json"});
  BOOST_TEST(preflight.out.find(R"("driver":"systemd","usable":true,"detail":"systemd )") != std::string::npos,
             preflight.out);
  const std::string name = unique("c");
  const std::string unit = "agentrun-sd-" + name + ".scope", cgroup = "/system.slice/" + unit;
  auto cfg = test::base_config({"sleep", "300"});
  test::set_string(cfg, "/linux/cgroupsPath", "system.slice:agentrun-sd:" + name);
  test::set_json(cfg, "/linux/resources", R"({"memory": {"limit": 67108864}, "pids": {"limit": 40},
                                              "cpu": {"shares": 512, "quota": 50000, "period": 100000}})");
  auto o = run_detached(s, cfg, "sd");
  BOOST_TEST_REQUIRE(o.code == 0, o.err);
  const int pid = s.pid_of("sd");
  BOOST_TEST(cgroup_line(pid) == cgroup);
  BOOST_TEST(property(s, unit, "ActiveState") == "active");
  BOOST_TEST(property(s, unit, "Delegate") == "yes");
  // systemd's names for the limits differ by layout (cgroup v1 controllers on hybrid).
  const bool v2 = test::host::cgroup_layout() == test::host::CgroupLayout::v2;
  const std::string memory_max = v2 ? "MemoryMax" : "MemoryLimit";
  BOOST_TEST(property(s, unit, memory_max) == "67108864");
  BOOST_TEST(property(s, unit, "TasksMax") == "40");
  BOOST_TEST(property(s, unit, v2 ? "CPUWeight" : "CPUShares") == (v2 ? "20" : "512"));
  BOOST_TEST(property(s, unit, "CPUQuotaPerSecUSec") == "500ms");
  const auto dirs = cg::dirs_of(s, "sd");
  BOOST_TEST(cg::read(dirs, cg::memory_limit(67108864)) == "67108864");
  BOOST_TEST(cg::read(dirs, cg::pids_max(40)) == "40");
  BOOST_TEST(cg::read(dirs, cg::cpu_quota(50000, 100000)) == cg::cpu_quota(50000, 100000).value);

  // exec joins the scope.
  auto own = s.agentrun({"--systemd-cgroup", "exec", "sd", "cat", "/proc/self/cgroup"});
  BOOST_TEST(own.code == 0, own.err);
  BOOST_TEST(own.out == s.agentrun({"exec", "sd", "cat", "/proc/1/cgroup"}).out);

  // update reaches systemd and the file.
  auto up = s.agentrun({"--systemd-cgroup", "update", "--memory", "134217728", "--pids-limit", "50", "sd"});
  BOOST_TEST_REQUIRE(up.code == 0, up.err);
  BOOST_TEST(property(s, unit, memory_max) == "134217728");
  BOOST_TEST(property(s, unit, "TasksMax") == "50");
  BOOST_TEST(cg::read(dirs, cg::memory_limit(134217728)) == "134217728");

  // The freezer of the layout: v1's on a hybrid host, cgroup.freeze on v2.
  const bool v1_freezer = dirs.count("freezer");
  const auto freezer = [&] {
    return v1_freezer ? cg::read(dirs, "freezer", "freezer.state") : cg::read(dirs, "", "cgroup.freeze");
  };
  BOOST_TEST(s.agentrun({"pause", "sd"}).code == 0);
  BOOST_TEST(freezer() == (v1_freezer ? "FROZEN" : "1"));
  BOOST_TEST(s.agentrun({"state", "sd"}).out.find("\"paused\"") != std::string::npos);
  BOOST_TEST(s.agentrun({"resume", "sd"}).code == 0);
  BOOST_TEST(freezer() == (v1_freezer ? "THAWED" : "0"));

  auto stats = s.agentrun({"events", "--stats", "sd"});
  BOOST_TEST(stats.out.find("\"limit\":134217728") != std::string::npos, stats.out);
  auto ps = s.agentrun({"ps", "--format", "json", "sd"});
  BOOST_TEST(ps.out == "[" + std::to_string(pid) + "]\n");

  BOOST_TEST(s.agentrun({"kill", "sd", "KILL"}).code == 0);
  test::wait_for([&] { return s.agentrun({"state", "sd"}).out.find("\"stopped\"") != std::string::npos; }, 10s,
                 "the container to stop");
  auto del = s.agentrun({"delete", "sd"});
  BOOST_TEST(del.code == 0, del.err);
  expect_no_unit(s, unit, cgroup);
}

BOOST_AUTO_TEST_CASE(dashed_slices_nest_as_kubernetes_pod_slices) {
  Sandbox s;
  const std::string pod = unique("agentruntest-pod");
  auto cfg = test::base_config({"sleep", "300"});
  test::set_string(cfg, "/linux/cgroupsPath", pod + ".slice:cri-containerd:abc");
  auto o = run_detached(s, cfg, "pod");
  BOOST_TEST_REQUIRE(o.code == 0, o.err);
  const std::string cgroup = "/agentruntest.slice/" + pod + ".slice/cri-containerd-abc.scope";
  BOOST_TEST(cgroup_line(s.pid_of("pod")) == cgroup);
  BOOST_TEST(s.agentrun({"delete", "--force", "pod"}).code == 0);
  expect_no_unit(s, "cri-containerd-abc.scope", cgroup);
  // The slices are the caller's (the kubelet's); these are the test's own.
  s.command({"/bin/systemctl", "stop", "agentruntest.slice"});
  BOOST_TEST(!test::file_exists(test::host::cgroup_v2_mount() + "/agentruntest.slice"));
}

BOOST_AUTO_TEST_CASE(annotations_become_unit_properties) {
  Sandbox s;
  const std::string name = unique("a");
  const std::string unit = "agentrun-sd-" + name + ".scope";
  auto cfg = test::base_config({"sleep", "300"});
  test::set_string(cfg, "/linux/cgroupsPath", "system.slice:agentrun-sd:" + name);
  test::set_json(cfg, "/annotations", R"({"org.systemd.property.TimeoutStopUSec": "uint64 123456789",
                                         "org.systemd.property.CollectMode": "'inactive-or-failed'"})");
  auto o = run_detached(s, cfg, "ann");
  BOOST_TEST_REQUIRE(o.code == 0, o.err);
  BOOST_TEST(property(s, unit, "TimeoutStopUSec") == "2min 3.456789s");
  BOOST_TEST(property(s, unit, "CollectMode") == "inactive-or-failed");
  BOOST_TEST(s.agentrun({"delete", "--force", "ann"}).code == 0);
  expect_no_unit(s, unit, "/system.slice/" + unit);

  // A value that is not GVariant text is named, before anything starts.
  test::set_json(cfg, "/annotations", R"({"org.systemd.property.CPUWeight": "[["})");
  auto bad = run_detached(s, cfg, "bad");
  BOOST_TEST(bad.code == 1);
  BOOST_TEST(bad.err.find("org.systemd.property.CPUWeight") != std::string::npos, bad.err);
  // A property systemd refuses: its error, and nothing left.
  test::set_json(cfg, "/annotations", R"({"org.systemd.property.NoSuchSetting": "true"})");
  auto refused = run_detached(s, cfg, "refused");
  BOOST_TEST(refused.code == 1);
  BOOST_TEST(refused.err.find("NoSuchSetting") != std::string::npos, refused.err);
  expect_no_unit(s, unit, "/system.slice/" + unit);
  BOOST_TEST(s.leftovers().empty());
}

BOOST_AUTO_TEST_CASE(faults_are_named_and_leave_nothing) {
  Sandbox s;
  const std::string name = unique("f");
  const std::string unit = "agentrun-sd-" + name + ".scope", cgroup = "/system.slice/" + unit;
  auto cfg = test::base_config({"sleep", "300"});
  test::set_string(cfg, "/linux/cgroupsPath", "system.slice:agentrun-sd:" + name);

  // The unit name is taken by a scope of someone else's.
  s.command({"/bin/sh", "-c", "systemd-run --quiet --scope --unit=" + unit + " sleep 300 >/dev/null 2>&1 &"});
  test::wait_for([&] { return property(s, unit, "ActiveState") == "active"; }, 10s, "the other scope to start");
  auto taken = run_detached(s, cfg, "taken");
  BOOST_TEST(taken.code == 1);
  BOOST_TEST(taken.err.find("start " + unit + ": ") != std::string::npos, taken.err);
  BOOST_TEST(taken.err.find("org.freedesktop.systemd1.UnitExists") != std::string::npos, taken.err);
  BOOST_TEST(s.agentrun({"list", "-q"}).out.empty());
  // The failed create left the other scope alone.
  BOOST_TEST(property(s, unit, "ActiveState") == "active");
  s.command({"/bin/systemctl", "stop", unit});
  expect_no_unit(s, unit, cgroup);

  // No system bus to reach systemd through.
  s.write_config(cfg);
  auto no_bus = s.command({"/usr/bin/env", "DBUS_SYSTEM_BUS_ADDRESS=unix:path=/nonexistent/bus", AGENTRUN_BINARY,
                           "--root", s.root, "--systemd-cgroup", "run", "-d", "--bundle", s.bundle, "nobus"});
  BOOST_TEST(no_bus.code == 1);
  BOOST_TEST(no_bus.err.find("--systemd-cgroup") != std::string::npos, no_bus.err);
  BOOST_TEST(s.agentrun({"list", "-q"}).out.empty());

  // create killed once the scope holds its init: delete frees everything.
  const std::string hook_mark = "sleep 47";
  test::set_json(cfg, "/hooks", R"({"createRuntime": [{"path": "/bin/sh", "args": ["sh", "-c", ")" + hook_mark +
                                     R"("]}]})");
  s.write_config(cfg);
  const pid_t create = ::fork();
  BOOST_TEST_REQUIRE(create >= 0);
  if (create == 0) {
    ::execl(AGENTRUN_BINARY, AGENTRUN_BINARY, "--root", s.root.c_str(), "--systemd-cgroup", "create", "--bundle",
            s.bundle.c_str(), "killed", nullptr);
    ::_exit(127);
  }
  test::wait_for([&] { return property(s, unit, "ActiveState") == "active"; }, 20s, "the scope to start");
  ::kill(create, SIGKILL);
  ::waitpid(create, nullptr, 0);
  for (int hook : test::processes_running(hook_mark)) ::kill(hook, SIGKILL);
  auto del = s.agentrun({"delete", "--force", "killed"});
  BOOST_TEST(del.code == 0, del.err);
  expect_no_unit(s, unit, cgroup);
  BOOST_TEST(s.leftovers().empty());
}

BOOST_AUTO_TEST_SUITE_END()
