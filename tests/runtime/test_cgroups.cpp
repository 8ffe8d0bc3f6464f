// linux.resources and the commands that work through the container's cgroups.
#include <boost/test/unit_test.hpp>

#include <sys/stat.h>
#include <unistd.h>

#include <rapidjson/document.h>

#include <algorithm>
#include <map>
#include <thread>

#include "support/harness.hpp"

using test::Sandbox;

namespace {

// controller -> the container's cgroup directory, from its state file.
std::map<std::string, std::string> cgroup_dirs(const Sandbox& s, const std::string& id) {
  rapidjson::Document state, cg;
  state.Parse(test::read_file(s.root + "/" + id + "/state.json").c_str());
  BOOST_TEST_REQUIRE(!state.HasParseError());
  cg.Parse(state["cgroup"].GetString());
  std::map<std::string, std::string> out;
  for (auto& m : cg["dirs"].GetObject()) out[m.name.GetString()] = m.value.GetString();
  return out;
}

std::string cgroup_file(const Sandbox& s, const std::string& id, const std::string& controller, const std::string& file) {
  std::string text = test::read_file(cgroup_dirs(s, id).at(controller) + "/" + file);
  while (!text.empty() && text.back() == '\n') text.pop_back();
  return text;
}

void sleep_ms(int ms) { std::this_thread::sleep_for(std::chrono::milliseconds(ms)); }

void run_detached(const Sandbox& s, const rapidjson::Document& cfg, const std::string& id) {
  s.write_config(cfg);
  auto o = s.agentrun({"run", "-d", "--bundle", s.bundle, id});
  BOOST_TEST_REQUIRE(o.code == 0, o.err);
}

}  // namespace

BOOST_AUTO_TEST_CASE(limits_are_written_and_the_cgroup_removed) {
  Sandbox s;
  auto cfg = test::base_config({"sleep", "60"});
  test::set_json(cfg, "/linux/resources", R"({
    "memory": {"limit": 33554432, "reservation": 16777216, "swappiness": 10},
    "cpu": {"shares": 512, "quota": 50000, "period": 100000, "cpus": "0"},
    "pids": {"limit": 42}})");
  run_detached(s, cfg, "lim");
  BOOST_TEST(cgroup_file(s, "lim", "memory", "memory.limit_in_bytes") == "33554432");
  BOOST_TEST(cgroup_file(s, "lim", "memory", "memory.soft_limit_in_bytes") == "16777216");
  BOOST_TEST(cgroup_file(s, "lim", "memory", "memory.swappiness") == "10");
  BOOST_TEST(cgroup_file(s, "lim", "cpu", "cpu.shares") == "512");
  BOOST_TEST(cgroup_file(s, "lim", "cpu", "cpu.cfs_quota_us") == "50000");
  BOOST_TEST(cgroup_file(s, "lim", "cpuset", "cpuset.cpus") == "0");
  BOOST_TEST(cgroup_file(s, "lim", "pids", "pids.max") == "42");
  // The container's process is in every one of them, and nothing else: the
  // short-lived processes of create and exec (the cgroup warm-up) are gone.
  const auto dirs = cgroup_dirs(s, "lim");
  rapidjson::Document state;
  state.Parse(test::read_file(s.root + "/lim/state.json").c_str());
  const std::string procs = std::to_string(state["pid"].GetInt()) + "\n";
  for (const auto& [controller, dir] : dirs)
    BOOST_TEST(test::read_file(dir + "/cgroup.procs") == procs, controller);

  auto exec = s.agentrun({"exec", "lim", "cat", "/proc/self/cgroup"});
  BOOST_TEST(exec.out.find("pids:/") != std::string::npos, exec.out);
  for (const auto& [controller, dir] : dirs)
    BOOST_TEST(test::read_file(dir + "/cgroup.procs") == procs, controller);
  BOOST_TEST(s.agentrun({"delete", "--force", "lim"}).code == 0);
  for (const auto& [controller, dir] : dirs) BOOST_TEST(!test::file_exists(dir), dir);
  BOOST_TEST(s.leftovers().empty());
}

BOOST_AUTO_TEST_CASE(memory_limit_is_enforced_by_the_oom_killer) {
  Sandbox s;
  auto cfg = test::base_config({"sh", "-c", "x=$(head -c 100000000 /dev/zero | tr '\\000' a); echo survived"});
  test::set_json(cfg, "/linux/resources", R"({"memory": {"limit": 16777216, "swap": 16777216}})");
  auto o = s.run(cfg, "oom");
  BOOST_TEST(o.code == 128 + 9, o.out << o.err);
  BOOST_TEST(o.out.find("survived") == std::string::npos);
  BOOST_TEST(s.leftovers().empty());
}

BOOST_AUTO_TEST_CASE(pids_limit_stops_a_fork_flood) {
  Sandbox s;
  // The flood runs in a subshell, which dies at the first failed fork; then
  // sh and the 6 sleeps that fitted are left, counted with builtins only.
  auto cfg = test::base_config({"sh", "-c", "(for i in $(seq 30); do sleep 5 & done) 2>/dev/null; set -- /proc/[0-9]*; echo $#"});
  test::set_json(cfg, "/linux/resources", R"({"pids": {"limit": 8}})");
  auto o = s.run(cfg, "pids");
  BOOST_TEST(o.code == 0, o.err);
  BOOST_TEST(o.out == "7\n", o.out);
  BOOST_TEST(s.leftovers().empty());
}

BOOST_AUTO_TEST_CASE(device_rules_deny_what_is_not_allowed) {
  Sandbox s;
  // As runc: the default devices stay usable; a device node the rules do not allow cannot be opened.
  auto cfg = test::base_config({"sh", "-c", "echo ok > /dev/null && echo null-ok; head -c 1 /dev/zero >/dev/null && echo zero-ok;"
                                            "head -c 1 /dev/kmsg-like >/dev/null 2>&1 || echo kmsg-denied;"
                                            "head -c 1 /dev/allowed-full >/dev/null && echo full-ok"});
  test::set_json(cfg, "/linux/devices", R"([{"path": "/dev/kmsg-like", "type": "c", "major": 1, "minor": 11},
                                            {"path": "/dev/allowed-full", "type": "c", "major": 1, "minor": 7}])");
  test::set_json(cfg, "/linux/resources", R"({"devices": [
    {"allow": false, "access": "rwm"},
    {"allow": true, "type": "c", "major": 1, "minor": 7, "access": "r"}]})");
  auto o = s.run(cfg, "dev");
  BOOST_TEST(o.code == 0, o.err);
  BOOST_TEST(o.out == "null-ok\nzero-ok\nkmsg-denied\nfull-ok\n", o.out);
  BOOST_TEST(s.leftovers().empty());
}

BOOST_AUTO_TEST_CASE(pause_freezes_and_resume_thaws) {
  Sandbox s;
  const std::string dir = s.dir + "/counter";
  BOOST_TEST_REQUIRE(::mkdir(dir.c_str(), 0755) == 0);
  auto cfg = test::base_config({"sh", "-c", "i=0; while :; do i=$((i+1)); echo $i >> /counter/n; done"});
  test::set_json(cfg, "/mounts/-", R"({"destination": "/counter", "type": "bind", "source": ")" + dir + R"(", "options": ["rbind"]})");
  run_detached(s, cfg, "frz");
  sleep_ms(200);
  BOOST_TEST_REQUIRE(s.agentrun({"pause", "frz"}).code == 0);
  BOOST_TEST(s.agentrun({"state", "frz"}).out.find("\"status\": \"paused\"") != std::string::npos);
  sleep_ms(100);
  const std::string frozen = test::read_file(dir + "/n");
  BOOST_TEST_REQUIRE(!frozen.empty());
  sleep_ms(400);
  BOOST_TEST(test::read_file(dir + "/n").size() == frozen.size());
  auto exec = s.agentrun({"exec", "frz", "true"});
  BOOST_TEST(exec.code == 1);
  BOOST_TEST(exec.err.find("paused") != std::string::npos, exec.err);
  BOOST_TEST(s.agentrun({"pause", "frz"}).code == 1);
  BOOST_TEST_REQUIRE(s.agentrun({"resume", "frz"}).code == 0);
  sleep_ms(300);
  BOOST_TEST(test::read_file(dir + "/n").size() > frozen.size());
  BOOST_TEST(s.agentrun({"resume", "frz"}).code == 1);

  // A paused container is deleted with --force.
  BOOST_TEST_REQUIRE(s.agentrun({"pause", "frz"}).code == 0);
  BOOST_TEST(s.agentrun({"delete", "frz"}).code == 1);
  BOOST_TEST(s.agentrun({"delete", "--force", "frz"}).code == 0);
  BOOST_TEST(s.leftovers().empty());
}

BOOST_AUTO_TEST_CASE(update_changes_the_limits) {
  Sandbox s;
  run_detached(s, test::base_config({"sleep", "60"}), "upd");
  auto o = s.agentrun({"update", "--memory", "64m", "--memory-swap", "128m", "--cpu-shares", "256", "--cpu-quota",
                       "20000", "--cpu-period", "100000", "--pids-limit", "33", "--cpuset-cpus", "0", "upd"});
  BOOST_TEST_REQUIRE(o.code == 0, o.err);
  BOOST_TEST(cgroup_file(s, "upd", "memory", "memory.limit_in_bytes") == "67108864");
  BOOST_TEST(cgroup_file(s, "upd", "memory", "memory.memsw.limit_in_bytes") == "134217728");
  BOOST_TEST(cgroup_file(s, "upd", "cpu", "cpu.shares") == "256");
  BOOST_TEST(cgroup_file(s, "upd", "cpu", "cpu.cfs_quota_us") == "20000");
  BOOST_TEST(cgroup_file(s, "upd", "pids", "pids.max") == "33");
  const std::string resources = s.dir + "/r.json";
  { std::FILE* f = std::fopen(resources.c_str(), "w"); std::fputs(R"({"pids": {"limit": 44}})", f); std::fclose(f); }
  BOOST_TEST(s.agentrun({"update", "-r", resources, "upd"}).code == 0);
  BOOST_TEST(cgroup_file(s, "upd", "pids", "pids.max") == "44");
  auto bad = s.agentrun({"update", "--memory", "lots", "upd"});
  BOOST_TEST(bad.code == 1);
  BOOST_TEST(bad.err.find("--memory \"lots\"") != std::string::npos, bad.err);
}

BOOST_AUTO_TEST_CASE(events_stats_ps_and_kill_all) {
  Sandbox s;
  // No pid namespace of its own: kill --all must find the processes through the cgroup.
  auto cfg = test::base_config({"sh", "-c", "sleep 60 & sleep 60 & wait"});
  test::set_json(cfg, "/linux/namespaces", R"([{"type": "mount"}, {"type": "ipc"}, {"type": "uts"}])");
  test::set_json(cfg, "/linux/resources", R"({"pids": {"limit": 50}, "memory": {"limit": 67108864}})");
  run_detached(s, cfg, "ev");
  sleep_ms(200);
  auto stats = s.agentrun({"events", "--stats", "ev"});
  BOOST_TEST_REQUIRE(stats.code == 0, stats.err);
  rapidjson::Document d;
  d.Parse(stats.out.c_str());
  BOOST_TEST_REQUIRE(!d.HasParseError(), stats.out);
  BOOST_TEST(std::string(d["type"].GetString()) == "stats");
  BOOST_TEST(d["data"]["pids"]["current"].GetUint64() == 3u, stats.out);
  BOOST_TEST(d["data"]["pids"]["limit"].GetUint64() == 50u, stats.out);
  BOOST_TEST(d["data"]["memory"]["usage"]["usage"].GetUint64() > 0u, stats.out);
  BOOST_TEST(d["data"]["memory"]["usage"]["limit"].GetUint64() == 67108864u, stats.out);

  auto ps = s.agentrun({"ps", "--format", "json", "ev"});
  rapidjson::Document pids;
  pids.Parse(ps.out.c_str());
  BOOST_TEST_REQUIRE(pids.IsArray(), ps.out);
  BOOST_TEST(pids.Size() == 3u);
  auto table = s.agentrun({"ps", "ev", "-o", "pid,comm"});
  BOOST_TEST(table.out.find("PID") != std::string::npos, table.out);
  BOOST_TEST(std::count(table.out.begin(), table.out.end(), '\n') == 4, table.out);

  BOOST_TEST(s.agentrun({"kill", "--all", "ev", "KILL"}).code == 0);
  for (int i = 0; i < 100 && !cgroup_file(s, "ev", "pids", "cgroup.procs").empty(); ++i) sleep_ms(20);
  BOOST_TEST(cgroup_file(s, "ev", "pids", "cgroup.procs").empty());
  BOOST_TEST(s.agentrun({"delete", "ev"}).code == 0);
  BOOST_TEST(s.leftovers().empty());
}

BOOST_AUTO_TEST_CASE(events_stream_reports_an_oom_kill) {
  Sandbox s;
  auto cfg = test::base_config({"sh", "-c", "sleep 1; x=$(head -c 100000000 /dev/zero | tr '\\000' a); sleep 60"});
  test::set_json(cfg, "/linux/namespaces", R"([{"type": "mount"}, {"type": "ipc"}, {"type": "uts"}])");
  test::set_json(cfg, "/linux/resources", R"({"memory": {"limit": 16777216, "swap": 16777216}})");
  run_detached(s, cfg, "evo");
  auto o = s.agentrun({"events", "--interval", "200ms", "evo"}, 4);  // ends when the harness stops it
  BOOST_TEST(o.out.find(R"({"type":"oom","id":"evo"})") != std::string::npos, o.out.substr(0, 300));
  BOOST_TEST(o.out.find(R"({"type":"stats","id":"evo")") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(cgroups_path_and_bad_resources) {
  Sandbox s;
  auto cfg = test::base_config({"sleep", "60"});
  const std::string path = "agentrun-test-" + std::to_string(::getpid()) + "/named";
  test::set_string(cfg, "/linux/cgroupsPath", path);
  run_detached(s, cfg, "cp");
  const auto dirs = cgroup_dirs(s, "cp");
  BOOST_TEST(dirs.at("pids").find("/" + path) != std::string::npos, dirs.at("pids"));
  BOOST_TEST(s.agentrun({"delete", "--force", "cp"}).code == 0);
  for (const auto& [controller, dir] : dirs) {
    BOOST_TEST(!test::file_exists(dir), dir);
    BOOST_TEST(!test::file_exists(dir.substr(0, dir.rfind('/'))), "parent of " << dir);
  }

  auto bad = test::base_config({"true"});
  test::set_json(bad, "/linux/resources", R"({"memory": {"swappiness": 200}})");
  s.write_config(bad);
  auto o = s.agentrun({"run", "--bundle", s.bundle, "bad"});
  BOOST_TEST(o.code == 1);
  BOOST_TEST(o.err.find("linux.resources.memory.swappiness") != std::string::npos, o.err);
  BOOST_TEST(!test::file_exists("/sys/fs/cgroup/pids/agentrun/bad"));
  BOOST_TEST(s.leftovers().empty());
}
