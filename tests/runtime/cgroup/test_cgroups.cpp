// linux.resources and the commands that work through the container's cgroups,
// on whatever layout this host has (support/cgroup_files.hpp).
#include <boost/test/unit_test.hpp>

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <rapidjson/document.h>

#include <algorithm>
#include <map>
#include <memory>

#include "support/cgroup_files.hpp"
#include "support/harness.hpp"
#include "support/needs.hpp"
#include "support/wait.hpp"

using test::Sandbox;
namespace cg = test::cgroup;
using namespace std::chrono_literals;

namespace {

// A command whose output is read as it comes, so that a test can wait for a
// line instead of sleeping; killed and reaped when it goes.
class Stream {
 public:
  explicit Stream(const std::vector<std::string>& argv) {
    int p[2];
    BOOST_TEST_REQUIRE(::pipe2(p, O_CLOEXEC) == 0);
    pid_ = ::fork();
    BOOST_TEST_REQUIRE(pid_ >= 0);
    if (pid_ == 0) {
      ::dup2(p[1], 1);
      std::vector<char*> args;
      for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
      args.push_back(nullptr);
      ::execv(args[0], args.data());
      ::_exit(127);
    }
    ::close(p[1]);
    fd_ = p[0];
  }
  ~Stream() {
    ::kill(pid_, SIGKILL);
    ::waitpid(pid_, nullptr, 0);
    ::close(fd_);
  }
  // Reads until the output holds `text` or `timeout` passes.
  bool wait_for_text(const std::string& text, std::chrono::milliseconds timeout) {
    return test::poll_until(
        [&] {
          read_some();
          return out.find(text) != std::string::npos;
        },
        timeout);
  }
  // Reads until the command closes its output (it ended) or `timeout` passes.
  bool wait_for_end(std::chrono::milliseconds timeout) {
    return test::poll_until([&] { return read_some() == 0; }, timeout);
  }
  // The end of the output, for a failure's message.
  std::string tail() const { return out.substr(out.size() > 600 ? out.size() - 600 : 0); }
  std::string out;

 private:
  // What the command wrote within 20 ms, added to `out`: read(2)'s result
  // (0 at the end of the output), or -1 when nothing came.
  ssize_t read_some() {
    pollfd p{fd_, POLLIN, 0};
    if (::poll(&p, 1, 20) <= 0) return -1;
    char buf[4096];
    const ssize_t n = ::read(fd_, buf, sizeof buf);
    if (n > 0) out.append(buf, static_cast<size_t>(n));
    return n;
  }

  pid_t pid_ = -1;
  int fd_ = -1;
};

void run_detached(const Sandbox& s, const rapidjson::Document& cfg, const std::string& id) {
  s.write_config(cfg);
  auto o = s.agentrun({"run", "-d", "--bundle", s.bundle, id});
  BOOST_TEST_REQUIRE(o.code == 0, o.err);
}

void expect_setting(const cg::Dirs& dirs, const cg::Setting& want) {
  BOOST_TEST(cg::read(dirs, want) == want.value, want.controller << ": " << want.file);
}

size_t lines_in(const std::string& text) { return static_cast<size_t>(std::count(text.begin(), text.end(), '\n')); }

test::host::Probe memory_on_v1() {
  if (test::host::cgroup_v1_mount("memory").empty()) return {false, "memory.swappiness exists on cgroup v1 only"};
  return {true, "v1 memory hierarchy"};
}

}  // namespace

BOOST_AUTO_TEST_CASE(limits_are_written_and_the_cgroup_removed,
                     *test::needs_cgroup("memory") * test::needs_cgroup("cpu") *
                         test::needs_cgroup("cpuset") * test::needs_cgroup("pids")) {
  Sandbox s;
  auto cfg = test::base_config({"sleep", "60"});
  test::set_json(cfg, "/linux/resources", R"({
    "memory": {"limit": 33554432, "reservation": 16777216},
    "cpu": {"shares": 512, "quota": 50000, "period": 100000, "cpus": "0"},
    "pids": {"limit": 42}})");
  run_detached(s, cfg, "lim");
  const auto dirs = cg::dirs_of(s, "lim");
  expect_setting(dirs, cg::memory_limit(33554432));
  expect_setting(dirs, cg::memory_reservation(16777216));
  expect_setting(dirs, cg::cpu_shares(512));
  expect_setting(dirs, cg::cpu_quota(50000, 100000));
  expect_setting(dirs, cg::cpuset_cpus("0"));
  expect_setting(dirs, cg::pids_max(42));
  // The container's process is in every one of them, and nothing else: the
  // short-lived processes of create and exec (the cgroup warm-up) are gone.
  const std::string procs = std::to_string(s.pid_of("lim")) + "\n";
  for (const auto& [controller, dir] : dirs)
    BOOST_TEST(test::read_file(dir + "/cgroup.procs") == procs, controller);

  // exec joins the same cgroups as the container's first process.
  auto own = s.agentrun({"exec", "lim", "cat", "/proc/self/cgroup"});
  auto first = s.agentrun({"exec", "lim", "cat", "/proc/1/cgroup"});
  BOOST_TEST(!own.out.empty());
  BOOST_TEST(own.out == first.out);
  for (const auto& [controller, dir] : dirs)
    BOOST_TEST(test::read_file(dir + "/cgroup.procs") == procs, controller);
  auto deleted = s.agentrun({"delete", "--force", "lim"});
  BOOST_TEST(deleted.code == 0, deleted.err);
  for (const auto& [controller, dir] : dirs) BOOST_TEST(!test::file_exists(dir), dir);
  BOOST_TEST(s.leftovers().empty());
}

BOOST_AUTO_TEST_CASE(swappiness_is_written_on_v1, *test::needs(memory_on_v1)) {
  Sandbox s;
  auto cfg = test::base_config({"sleep", "60"});
  test::set_json(cfg, "/linux/resources", R"({"memory": {"limit": 33554432, "swappiness": 10}})");
  run_detached(s, cfg, "swp");
  BOOST_TEST(cg::read(cg::dirs_of(s, "swp"), "memory", "memory.swappiness") == "10");
}

BOOST_AUTO_TEST_CASE(memory_limit_is_enforced_by_the_oom_killer,
                     *test::needs(test::host::swap_accounting)) {
  Sandbox s;
  auto cfg = test::base_config({"sh", "-c", "x=$(head -c 100000000 /dev/zero | tr '\\000' a); echo survived"});
  test::set_json(cfg, "/linux/resources", R"({"memory": {"limit": 16777216, "swap": 16777216}})");
  auto o = s.run(cfg, "oom");
  BOOST_TEST(o.code == 128 + 9, o.out << o.err);
  BOOST_TEST(o.out.find("survived") == std::string::npos);
  BOOST_TEST(s.leftovers().empty());
}

BOOST_AUTO_TEST_CASE(pids_limit_stops_a_fork_flood, *test::needs_cgroup("pids")) {
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

BOOST_AUTO_TEST_CASE(device_rules_deny_what_is_not_allowed, *test::needs_cgroup("devices")) {
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

BOOST_AUTO_TEST_CASE(pause_freezes_and_resume_thaws, *test::needs_cgroup("freezer")) {
  Sandbox s;
  const std::string dir = s.dir + "/counter";
  BOOST_TEST_REQUIRE(::mkdir(dir.c_str(), 0755) == 0);
  auto cfg = test::base_config({"sh", "-c", "i=0; while :; do i=$((i+1)); echo $i >> /counter/n; done"});
  test::set_json(cfg, "/mounts/-", R"({"destination": "/counter", "type": "bind", "source": ")" + dir + R"(", "options": ["rbind"]})");
  run_detached(s, cfg, "frz");
  auto counted = [&] { return test::read_file(dir + "/n").size(); };
  test::wait_for([&] { return counted() > 0; }, 5s, "the container to count");
  BOOST_TEST_REQUIRE(s.agentrun({"pause", "frz"}).code == 0);
  BOOST_TEST(s.agentrun({"state", "frz"}).out.find("\"status\": \"paused\"") != std::string::npos);
  const size_t frozen = counted();
  BOOST_TEST_REQUIRE(frozen > 0u);
  BOOST_TEST(test::stays_for([&] { return counted() == frozen; }, 400ms), "the count moved while paused");
  auto exec = s.agentrun({"exec", "frz", "true"});
  BOOST_TEST(exec.code == 1);
  BOOST_TEST(exec.err.find("paused") != std::string::npos, exec.err);
  BOOST_TEST(s.agentrun({"pause", "frz"}).code == 1);
  BOOST_TEST_REQUIRE(s.agentrun({"resume", "frz"}).code == 0);
  test::wait_for([&] { return counted() > frozen; }, 5s, "the resumed container to count on");
  BOOST_TEST(s.agentrun({"resume", "frz"}).code == 1);

  // A paused container is deleted with --force.
  BOOST_TEST_REQUIRE(s.agentrun({"pause", "frz"}).code == 0);
  BOOST_TEST(s.agentrun({"delete", "frz"}).code == 1);
  const auto deleted = s.agentrun({"delete", "--force", "frz"});
  BOOST_TEST(deleted.code == 0, deleted.err);
  BOOST_TEST(s.leftovers().empty());
}

BOOST_AUTO_TEST_CASE(update_changes_the_limits,
                     *test::needs(test::host::swap_accounting) * test::needs_cgroup("cpu") *
                         test::needs_cgroup("cpuset") * test::needs_cgroup("pids")) {
  Sandbox s;
  run_detached(s, test::base_config({"sleep", "60"}), "upd");
  auto o = s.agentrun({"update", "--memory", "64m", "--memory-swap", "128m", "--cpu-shares", "256", "--cpu-quota",
                       "20000", "--cpu-period", "100000", "--pids-limit", "33", "--cpuset-cpus", "0", "upd"});
  BOOST_TEST_REQUIRE(o.code == 0, o.err);
  const auto dirs = cg::dirs_of(s, "upd");
  expect_setting(dirs, cg::memory_limit(67108864));
  expect_setting(dirs, cg::memory_and_swap(67108864, 134217728));
  expect_setting(dirs, cg::cpu_shares(256));
  expect_setting(dirs, cg::cpu_quota(20000, 100000));
  expect_setting(dirs, cg::cpuset_cpus("0"));
  expect_setting(dirs, cg::pids_max(33));
  const std::string resources = s.dir + "/r.json";
  { std::FILE* f = std::fopen(resources.c_str(), "w"); std::fputs(R"({"pids": {"limit": 44}})", f); std::fclose(f); }
  BOOST_TEST(s.agentrun({"update", "-r", resources, "upd"}).code == 0);
  expect_setting(dirs, cg::pids_max(44));
  auto bad = s.agentrun({"update", "--memory", "lots", "upd"});
  BOOST_TEST(bad.code == 1);
  BOOST_TEST(bad.err.find("--memory \"lots\"") != std::string::npos, bad.err);
}

BOOST_AUTO_TEST_CASE(events_stats_ps_and_kill_all,
                     *test::needs_cgroup("pids") * test::needs_cgroup("memory")) {
  Sandbox s;
  // No pid namespace of its own: kill --all must find the processes through the cgroup.
  auto cfg = test::base_config({"sh", "-c", "sleep 60 & sleep 60 & wait"});
  test::set_json(cfg, "/linux/namespaces", R"([{"type": "mount"}, {"type": "ipc"}, {"type": "uts"}])");
  test::set_json(cfg, "/linux/resources", R"({"pids": {"limit": 50}, "memory": {"limit": 67108864}})");
  run_detached(s, cfg, "ev");
  const auto dirs = cg::dirs_of(s, "ev");
  auto procs = [&] { return cg::read(dirs, "pids", "cgroup.procs"); };
  test::wait_for([&] { return lines_in(procs() + "\n") == 3u; }, 5s, "sh and its two sleeps");
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
  test::wait_for([&] { return procs().empty(); }, 5s, "every process of the cgroup to be killed");
  BOOST_TEST(s.agentrun({"delete", "ev"}).code == 0);
  BOOST_TEST(s.leftovers().empty());
}

namespace {

// A shell that fills its memory with 100 MB.
constexpr char kMemoryBomb[] = "x=$(head -c 100000000 /dev/zero | tr '\\000' a)";

// Runs `script` in a container of 16 MiB, swap included, without a pid
// namespace, once `events` streams from it; returns that stream. The script's
// errors go nowhere: the init's word on a killed child ("Killed") would go
// to a pipe no one reads, and SIGPIPE would end it.
std::unique_ptr<Stream> events_of_a_memory_bomb(const Sandbox& s, const std::string& id, const std::string& script) {
  auto cfg = test::base_config({"sh", "-c", "exec 2>/dev/null; while [ ! -e /tmp/go ]; do sleep 0.02; done; " + script});
  test::set_json(cfg, "/root/readonly", "false");
  test::set_json(cfg, "/linux/namespaces", R"([{"type": "mount"}, {"type": "ipc"}, {"type": "uts"}])");
  test::set_json(cfg, "/linux/resources", R"({"memory": {"limit": 16777216, "swap": 16777216}})");
  run_detached(s, cfg, id);
  auto events = std::make_unique<Stream>(
      std::vector<std::string>{AGENTRUN_BINARY, "--root", s.root, "--policy", s.policy, "events", "--interval", "100ms", id});
  BOOST_TEST_REQUIRE(events->wait_for_text(R"({"type":"stats","id":")" + id + "\"", 10s), events->out);
  test::run_process({"/bin/touch", s.rootfs + "/tmp/go"});
  return events;
}

test::host::Probe the_cgroup_outlives_its_processes() {
  if (test::systemd_driver())
    return {false, "under the systemd driver the emptied scope goes with its OOM count (oom_kills.hpp)"};
  return {true, "the cgroupfs driver removes the cgroup at delete"};
}

}  // namespace

// The bomb is a child of the init, and it and its pipeline volunteer
// (oom_score_adj 1000): a second OOM while the first victim dies would
// otherwise take the init, the largest process left.
BOOST_AUTO_TEST_CASE(events_stream_reports_an_oom_kill,
                     *test::needs(test::host::swap_accounting)) {
  Sandbox s;
  auto events = events_of_a_memory_bomb(s, "evo",
                                        std::string("{ echo 1000 > /proc/self/oom_score_adj; ") + kMemoryBomb +
                                            "; } & wait; echo survived > /tmp/after; sleep 60");
  BOOST_TEST(events->wait_for_text(R"({"type":"oom","id":"evo"})", 20s), events->tail());
  // The kill took the bomb, not the container: its init went on.
  test::wait_for([&] { return test::file_exists(s.rootfs + "/tmp/after"); }, 10s, "the init to go on after the OOM kill");
  auto state = s.agentrun({"state", "evo"});
  BOOST_TEST(state.out.find(R"("status": "running")") != std::string::npos, state.out);
  BOOST_TEST(s.agentrun({"delete", "--force", "evo"}).code == 0);
  BOOST_TEST(events->wait_for_end(10s), "events goes on after delete: " << events->tail());
  BOOST_TEST(s.leftovers().empty());
}

// An OOM kill that takes the init ends the container, and `events` reports
// it before it ends too. Under the systemd driver, systemd removes the
// emptied scope with its count within milliseconds, sooner than events may
// read it: oom_kills.hpp says what events infers then, and
// unit_test_oom_kills proves that.
BOOST_AUTO_TEST_CASE(events_reports_the_oom_kill_that_ends_the_container,
                     *test::needs(test::host::swap_accounting) * test::needs(the_cgroup_outlives_its_processes)) {
  Sandbox s;
  auto events = events_of_a_memory_bomb(s, "evi", std::string(kMemoryBomb) + "; sleep 60");
  BOOST_TEST(events->wait_for_end(20s), events->tail());
  BOOST_TEST(events->out.find(R"({"type":"oom","id":"evi"})") != std::string::npos, events->tail());
  BOOST_TEST(s.agentrun({"delete", "evi"}).code == 0);
  BOOST_TEST(s.leftovers().empty());
}

BOOST_AUTO_TEST_CASE(cgroups_path_and_bad_resources, *test::needs_cgroup("pids") * test::needs_cgroupfs_driver()) {
  Sandbox s;
  auto cfg = test::base_config({"sleep", "60"});
  const std::string path = "agentrun-test-" + std::to_string(::getpid()) + "/named";
  test::set_string(cfg, "/linux/cgroupsPath", path);
  run_detached(s, cfg, "cp");
  const auto dirs = cg::dirs_of(s, "cp");
  BOOST_TEST(cg::dir_for(dirs, "pids").find("/" + path) != std::string::npos, cg::dir_for(dirs, "pids"));
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
  BOOST_TEST(s.leftovers().empty());
}
