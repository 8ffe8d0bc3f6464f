// The runc-compatible lifecycle, driven through the binary as a client would.
#include <boost/test/unit_test.hpp>

#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <thread>

#include "support/harness.hpp"
#include "support/needs.hpp"
#include "support/wait.hpp"

using test::Sandbox;

namespace {

std::string status_of(const Sandbox& s, const std::string& id) {
  auto o = s.agentrun({"state", id});
  auto pos = o.out.find("\"status\": \"");
  if (o.code != 0 || pos == std::string::npos) return "<" + o.err + ">";
  pos += 11;
  return o.out.substr(pos, o.out.find('"', pos) - pos);
}

bool wait_for_status(const Sandbox& s, const std::string& id, const std::string& want) {
  return test::wait_for([&] { return status_of(s, id) == want; }, std::chrono::seconds(5), id + " " + want);
}

// Whether the container's process has set its trap: it then creates
// /dev/shm/trapped, seen from the host through its root.
bool trapped(const Sandbox& s, const std::string& id) {
  const int pid = s.pid_of(id);
  return pid > 0 && test::file_exists("/proc/" + std::to_string(pid) + "/root/dev/shm/trapped");
}

// Sends `sig` to the one process running `command` once the container's
// process has set its trap. Runs on a thread: returns what went wrong, "" if nothing.
std::string signal_when_trapped(const Sandbox& s, const std::string& id, const std::string& command, int sig) {
  if (!test::poll_until([&] { return trapped(s, id); }, std::chrono::seconds(10)))
    return id + " did not set its trap within 10 s";
  const auto pids = test::processes_running(command);
  if (pids.size() != 1) return std::to_string(pids.size()) + " processes run \"" + command + "\"";
  ::kill(pids.front(), sig);
  return "";
}

}  // namespace

BOOST_AUTO_TEST_CASE(create_start_state_delete) {
  Sandbox s;
  s.write_config(test::base_config({"sleep", "30"}));

  auto c = s.agentrun({"create", "--bundle", s.bundle, "--pid-file", s.dir + "/pid", "c1"});
  BOOST_TEST_REQUIRE(c.code == 0, c.err);
  BOOST_TEST(status_of(s, "c1") == "created");
  const std::string pid = test::read_file(s.dir + "/pid");
  BOOST_TEST(std::stoi(pid) > 0);
  // The init exists but has not run the user's process: it is still agentrun.
  BOOST_TEST(test::read_file("/proc/" + pid + "/comm").find("agentrun") != std::string::npos);

  auto st = s.agentrun({"start", "c1"});
  BOOST_TEST_REQUIRE(st.code == 0, st.err);
  BOOST_TEST(status_of(s, "c1") == "running");
  BOOST_TEST(test::read_file("/proc/" + pid + "/comm") == "sleep\n");

  auto again = s.agentrun({"start", "c1"});
  BOOST_TEST(again.code == 1);
  BOOST_TEST(again.err.find("already running") != std::string::npos, again.err);

  auto del = s.agentrun({"delete", "c1"});
  BOOST_TEST(del.code == 1);
  BOOST_TEST(del.err.find("running") != std::string::npos, del.err);

  BOOST_TEST(s.agentrun({"kill", "c1", "KILL"}).code == 0);
  BOOST_TEST(wait_for_status(s, "c1", "stopped"));
  auto state = s.agentrun({"state", "c1"});
  BOOST_TEST(state.out.find("\"pid\": 0") != std::string::npos, state.out);
  BOOST_TEST(s.agentrun({"delete", "c1"}).code == 0);
  BOOST_TEST(s.agentrun({"state", "c1"}).code == 1);
  BOOST_TEST(s.leftovers().empty());
}

BOOST_AUTO_TEST_CASE(state_json_has_runc_fields) {
  Sandbox s;
  auto cfg = test::base_config({"sleep", "30"});
  test::set_json(cfg, "/annotations", R"({"org.example.key": "value"})");
  s.write_config(cfg);
  BOOST_TEST_REQUIRE(s.agentrun({"create", "--bundle", s.bundle, "c2"}).code == 0);
  auto o = s.agentrun({"state", "c2"});
  for (const char* key : {"\"ociVersion\": \"1.2.0\"", "\"id\": \"c2\"", "\"status\": \"created\"", "\"bundle\": ",
                          "\"rootfs\": ", "\"created\": \"", "\"org.example.key\": \"value\""})
    BOOST_TEST(o.out.find(key) != std::string::npos, key << " in " << o.out);
  BOOST_TEST(o.out.find("\"bundle\": \"" + s.bundle + "\"") != std::string::npos);
  BOOST_TEST(s.agentrun({"delete", "c2"}).code == 0);  // a created container is deleted without --force
  BOOST_TEST(s.leftovers().empty());
}

BOOST_AUTO_TEST_CASE(run_returns_the_exit_status) {
  Sandbox s;
  auto o = s.run(test::base_config({"sh", "-c", "echo out; echo err >&2; exit 7"}));
  BOOST_TEST(o.code == 7);
  BOOST_TEST(o.out == "out\n");
  BOOST_TEST(o.err == "err\n");
  BOOST_TEST(s.leftovers().empty());

  // Not pid 1 of a pid namespace, which no signal from inside can kill.
  auto cfg = test::base_config({"sh", "-c", "kill -9 $$"});
  test::set_json(cfg, "/linux/namespaces", R"([{"type": "mount"}, {"type": "uts"}, {"type": "ipc"}])");
  auto killed = s.run(cfg);
  BOOST_TEST(killed.code == 128 + SIGKILL);
  BOOST_TEST(s.leftovers().empty());
}

BOOST_AUTO_TEST_CASE(run_passes_stdin_and_forwards_signals) {
  Sandbox s;
  s.write_config(test::base_config({"cat"}));
  auto cat = s.agentrun({"run", "--bundle", s.bundle, "cat"}, 30, "through stdin\n");
  BOOST_TEST(cat.code == 0);
  BOOST_TEST(cat.out == "through stdin\n");

  // SIGTERM sent to `agentrun run` reaches the container's init, which traps it.
  s.write_config(test::base_config(
      {"sh", "-c", "trap 'echo got TERM; exit 3' TERM; echo ready; touch /dev/shm/trapped; while :; do sleep 0.1; done"}));
  std::string killer_error;
  std::thread killer([&] { killer_error = signal_when_trapped(s, "sig", "--root " + s.root + " --policy oci run", SIGTERM); });
  auto o = s.agentrun({"run", "--bundle", s.bundle, "sig"}, 30);
  killer.join();
  BOOST_TEST(killer_error.empty(), killer_error);
  BOOST_TEST(o.code == 3, o.err);
  BOOST_TEST(o.out == "ready\ngot TERM\n");
  BOOST_TEST(s.leftovers().empty());
}

BOOST_AUTO_TEST_CASE(run_detached_and_keep) {
  Sandbox s;
  s.write_config(test::base_config({"sleep", "30"}));
  auto d = s.agentrun({"run", "-d", "--bundle", s.bundle, "det"});
  BOOST_TEST_REQUIRE(d.code == 0, d.err);
  BOOST_TEST(status_of(s, "det") == "running");
  BOOST_TEST(s.agentrun({"delete", "--force", "det"}).code == 0);
  BOOST_TEST(s.leftovers().empty());

  s.write_config(test::base_config({"true"}));
  BOOST_TEST(s.agentrun({"run", "--keep", "--bundle", s.bundle, "kept"}).code == 0);
  BOOST_TEST(status_of(s, "kept") == "stopped");
  BOOST_TEST(s.agentrun({"delete", "kept"}).code == 0);
  BOOST_TEST(s.leftovers().empty());
}

BOOST_AUTO_TEST_CASE(list_formats) {
  Sandbox s;
  s.write_config(test::base_config({"sleep", "30"}));
  BOOST_TEST_REQUIRE(s.agentrun({"create", "--bundle", s.bundle, "l1"}).code == 0);
  BOOST_TEST_REQUIRE(s.agentrun({"run", "-d", "--bundle", s.bundle, "l2"}).code == 0);
  auto q = s.agentrun({"list", "-q"});
  BOOST_TEST(q.out == "l1\nl2\n");
  auto table = s.agentrun({"list"});
  BOOST_TEST(table.out.rfind("ID", 0) == 0);
  BOOST_TEST(table.out.find("created") != std::string::npos);
  BOOST_TEST(table.out.find("running") != std::string::npos);
  auto json = s.agentrun({"list", "--format=json"});
  BOOST_TEST(json.out.front() == '[');
  BOOST_TEST(json.out.find("\"id\":\"l2\"") != std::string::npos, json.out);
  BOOST_TEST(s.agentrun({"list", "--format", "xml"}).code == 1);
}

BOOST_AUTO_TEST_CASE(kill_with_signal_names_and_numbers) {
  Sandbox s;
  s.write_config(test::base_config(
      {"sh", "-c", "trap 'echo usr1 >> /dev/shm/x' USR1; touch /dev/shm/trapped; while :; do sleep 0.1; done"}));
  BOOST_TEST_REQUIRE(s.agentrun({"run", "-d", "--bundle", s.bundle, "k"}).code == 0);
  BOOST_TEST_REQUIRE(test::wait_for([&] { return trapped(s, "k"); }, std::chrono::seconds(10), "k to set its trap"));
  // One signal at a time: pending standard signals coalesce, so wait for each trap to run.
  int delivered = 0;
  for (const char* sig : {"USR1", "SIGUSR1", "10"}) {
    BOOST_TEST(s.agentrun({"kill", "k", sig}).code == 0, sig);
    const std::string want = std::to_string(++delivered);
    test::wait_for([&] {
      std::string count = s.agentrun({"exec", "k", "sh", "-c", "cat /dev/shm/x 2>/dev/null | wc -l"}).out;
      return count.erase(count.find_last_not_of(" \n") + 1) == want;
    }, std::chrono::seconds(5), std::string(sig) + " to reach the container's handler");
  }
  auto bad = s.agentrun({"kill", "k", "SIGBOGUS"});
  BOOST_TEST(bad.code == 1);
  BOOST_TEST(bad.err.find("unknown signal \"SIGBOGUS\"") != std::string::npos, bad.err);
  BOOST_TEST(status_of(s, "k") == "running");
  // Pid 1 of a namespace ignores signals it has no handler for, except SIGKILL.
  BOOST_TEST(s.agentrun({"kill", "--all", "k", "KILL"}).code == 0);
  BOOST_TEST(wait_for_status(s, "k", "stopped"));
  auto late = s.agentrun({"kill", "k"});
  BOOST_TEST(late.code == 1);
  BOOST_TEST(late.err.find("not running") != std::string::npos, late.err);
  BOOST_TEST(s.agentrun({"delete", "k"}).code == 0);
  BOOST_TEST(s.leftovers().empty());
}

BOOST_AUTO_TEST_CASE(delete_of_missing_container) {
  Sandbox s;
  auto o = s.agentrun({"delete", "nosuch"});
  BOOST_TEST(o.code == 1);
  BOOST_TEST(o.err.find("container \"nosuch\": does not exist") != std::string::npos, o.err);
  BOOST_TEST(s.agentrun({"delete", "--force", "nosuch"}).code == 0);
}

BOOST_AUTO_TEST_CASE(ids_are_checked_and_unique) {
  Sandbox s;
  s.write_config(test::base_config({"sleep", "30"}));
  auto bad = s.agentrun({"create", "--bundle", s.bundle, "../escape"});
  BOOST_TEST(bad.code == 1);
  BOOST_TEST(bad.err.find("invalid") != std::string::npos, bad.err);
  BOOST_TEST(!test::file_exists(s.dir + "/escape"));
  BOOST_TEST_REQUIRE(s.agentrun({"create", "--bundle", s.bundle, "dup"}).code == 0);
  auto dup = s.agentrun({"create", "--bundle", s.bundle, "dup"});
  BOOST_TEST(dup.code == 1);
  BOOST_TEST(dup.err.find("exists") != std::string::npos, dup.err);
  BOOST_TEST(status_of(s, "dup") == "created");  // the first one is untouched
}

BOOST_AUTO_TEST_CASE(json_log_carries_the_error) {
  Sandbox s;
  auto cfg = test::base_config({"true"});
  test::set_json(cfg, "/process/rlimits", R"([{"type": "RLIMIT_BOGUS", "hard": 1, "soft": 1}])");
  s.write_config(cfg);
  const std::string log = s.dir + "/log.json";
  auto o = s.agentrun({"--log", log, "--log-format", "json", "run", "--bundle", s.bundle, "j"});
  BOOST_TEST(o.code == 1);
  const std::string text = test::read_file(log);
  BOOST_TEST(text.find(R"({"level":"error","msg":"config.json: process.rlimits[0].type: unknown rlimit \"RLIMIT_BOGUS\"","time":")") == 0, text);
  BOOST_TEST(s.leftovers().empty());
}

BOOST_AUTO_TEST_CASE(spec_features_version_help) {
  Sandbox s;
  const std::string dir = s.dir + "/specdir";
  BOOST_TEST_REQUIRE(::mkdir(dir.c_str(), 0755) == 0);
  BOOST_TEST(s.agentrun({"spec", "--bundle", dir}).code == 0);
  BOOST_TEST(test::read_file(dir + "/config.json").find("\"ociVersion\": \"1.2.0\"") != std::string::npos);
  auto again = s.agentrun({"spec", "-b", dir});
  BOOST_TEST(again.code == 1);
  BOOST_TEST(again.err.find("exists") != std::string::npos);

  auto f = s.agentrun({"features"});
  BOOST_TEST(f.code == 0);
  for (const char* key : {"\"ociVersionMax\": \"1.2.0\"", "\"CAP_SYS_ADMIN\"", "\"SCMP_ACT_NOTIFY\"", "\"rbind\"", "\"cgroup\""})
    BOOST_TEST(f.out.find(key) != std::string::npos, key);

  auto v = s.agentrun({"--version"});
  BOOST_TEST(v.out.rfind("agentrun version ", 0) == 0);
  auto h = s.agentrun({"run", "--help"});
  BOOST_TEST(h.code == 0);
  BOOST_TEST(h.out.find("--console-socket") != std::string::npos);
  auto unknown = s.agentrun({"create", "--bogus", "x"});
  BOOST_TEST(unknown.code == 1);
  BOOST_TEST(unknown.err.find("flag provided but not defined: -bogus") != std::string::npos, unknown.err);
}

BOOST_AUTO_TEST_CASE(systemd_cgroup_driver_names_a_malformed_path) {
  Sandbox s;
  auto cfg = test::base_config({"true"});
  test::set_string(cfg, "/linux/cgroupsPath", "not-a-systemd-path");
  s.write_config(cfg);
  auto malformed = s.agentrun({"--systemd-cgroup", "run", "--bundle", s.bundle, "x"});
  BOOST_TEST(malformed.code == 1);
  BOOST_TEST(malformed.err.find("linux.cgroupsPath") != std::string::npos, malformed.err);
  BOOST_TEST(malformed.err.find("slice:prefix:name") != std::string::npos, malformed.err);
  BOOST_TEST(s.leftovers().empty());
}

BOOST_AUTO_TEST_CASE(systemd_cgroup_driver_is_refused_without_systemd,
                     *test::needs_absent([] { return test::host::systemd(); }, "systemd")) {
  Sandbox s;
  auto cfg = test::base_config({"true"});
  test::set_string(cfg, "/linux/cgroupsPath", "system.slice:agentrun:x");
  s.write_config(cfg);
  auto refused = s.agentrun({"--systemd-cgroup", "run", "--bundle", s.bundle, "x"});
  BOOST_TEST(refused.code == 1);
  BOOST_TEST(refused.err.find("systemd is not running on this host") != std::string::npos, refused.err);
  BOOST_TEST(s.leftovers().empty());
  // preflight predicts it.
  auto preflight = s.agentrun({"--systemd-cgroup", "preflight"});
  BOOST_TEST(preflight.code == 1);
  BOOST_TEST(preflight.out.find("cgroup driver: systemd: UNUSABLE: systemd is not running on this host") !=
                 std::string::npos,
             preflight.out);
}
