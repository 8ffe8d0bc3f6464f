// start, exec and delete killed (SIGKILL) at any moment of their work:
// `delete --force` then frees whatever the container had — its processes,
// its cgroups in every hierarchy, its state directory, its mounts — and
// nothing is left behind (Sandbox::leftovers). The delays are spread over
// the command's own duration, found here first, so that the kills land at
// every step of it on any machine. AGENTRUN_FAULT_RUNS=N runs each command
// N times (more for CI); the defaults, 200 runs of start and of delete and
// 50 of exec (about 480 with the search), take under two minutes on two
// cores. exec's are fewer because each costs about a second here: once the
// runtime that started an exec'd process is gone, the process is the host
// PID 1's child, and the init's death waits until PID 1 reaps it (this
// host's PID 1 reaps slowly; containerd's shim, a subreaper, at once).
#include <boost/test/unit_test.hpp>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "support/harness.hpp"
#include "support/needs.hpp"
#include "support/wait.hpp"

using test::Sandbox;

namespace {

int runs_per_command(int by_default) {
  const char* set = std::getenv("AGENTRUN_FAULT_RUNS");
  const int n = set ? std::atoi(set) : 0;
  return n > 0 ? n : by_default;
}

// agentrun ARGS as Sandbox::agentrun runs it, under timeout(1), which kills
// it with SIGKILL after `us` microseconds (its own start included).
test::Output killed_after(const Sandbox& s, const std::vector<std::string>& args, long us) {
  char delay[32];
  std::snprintf(delay, sizeof delay, "%ld.%06ld", us / 1000000, us % 1000000);
  std::vector<std::string> argv = {test::host::tool("timeout").reason, "-s", "KILL", delay, AGENTRUN_BINARY};
  if (test::systemd_driver()) argv.push_back("--systemd-cgroup");
  argv.insert(argv.end(), {"--root", s.root, "--policy", s.policy});
  argv.insert(argv.end(), args.begin(), args.end());
  return s.command(argv);
}

// Sets the container up (`prepare`), runs `args` killed after `us`, then
// delete --force, and checks that nothing is left. Whether the kill came
// before the command completed.
template <class Prepare>
bool killed_run(Sandbox& s, Prepare prepare, const std::vector<std::string>& args, long us, bool& clean) {
  prepare();
  // timeout(1) exits 137 when it had to kill.
  const bool killed = killed_after(s, args, us).code == 137;
  const auto d = s.agentrun({"delete", "--force", "k"});
  BOOST_TEST(d.code == 0, d.err);
  // What the killed command had only just started (its stage 1, a process
  // not yet in the container) exits by itself once it finds its runtime
  // gone: it gets a moment to.
  std::vector<std::string> left;
  test::poll_until([&] { return (left = s.leftovers()).empty(); }, std::chrono::milliseconds(2000));
  BOOST_TEST(left.empty(), (left.empty() ? "" : left.front()));
  clean = left.empty() && d.code == 0;
  return killed;
}

// The command is killed after delays spread from 0 to a little past the
// first delay it outlives, found first by doubling and halving (those runs
// are checked too): every step of its work is hit, on any machine.
template <class Prepare>
void kill_at_every_moment(Sandbox& s, const char* command, Prepare prepare, const std::vector<std::string>& args,
                          int runs_by_default) {
  bool clean = true;
  int runs = 0, killed = 0;
  const auto run = [&](long us) {
    bool k = false;
    BOOST_TEST_CONTEXT(command << " killed after " << us << " us") {
      k = killed_run(s, prepare, args, us, clean);
    }
    ++runs;
    killed += k;
    return k;
  };
  long outlived = 250;
  while (clean && outlived < 30000000 && run(outlived)) outlived *= 2;
  for (long lo = outlived / 2, step = 0; clean && step < 4 && outlived - lo > 100; ++step) {
    const long mid = (lo + outlived) / 2;
    if (run(mid)) lo = mid;
    else outlived = mid;
  }
  const int spread = runs_per_command(runs_by_default);
  const long span = outlived * 5 / 4;
  for (int i = 0; clean && i < spread; ++i) run(1 + span * i / spread);
  BOOST_TEST_MESSAGE(command << ": " << runs << " runs, delays up to " << span << " us, " << killed
                             << " killed before the command completed");
  // Runs that all completed, or all died at once, would prove nothing.
  BOOST_TEST(killed > 0);
  BOOST_TEST(killed < runs);
}

}  // namespace

BOOST_AUTO_TEST_CASE(a_killed_start_leaves_nothing_after_delete, *test::needs_tool("timeout")) {
  Sandbox s;
  s.write_config(test::base_config({"sleep", "60"}));
  kill_at_every_moment(
      s, "start", [&] { BOOST_TEST_REQUIRE(s.agentrun({"create", "--bundle", s.bundle, "k"}).code == 0); },
      {"start", "k"}, 200);
}

BOOST_AUTO_TEST_CASE(a_killed_exec_leaves_nothing_after_delete, *test::needs_tool("timeout")) {
  Sandbox s;
  s.write_config(test::base_config({"sleep", "60"}));
  kill_at_every_moment(
      s, "exec", [&] { BOOST_TEST_REQUIRE(s.agentrun({"run", "-d", "--bundle", s.bundle, "k"}).code == 0); },
      {"exec", "-d", "k", "sleep", "60"}, 50);
}

BOOST_AUTO_TEST_CASE(a_killed_delete_leaves_nothing_after_delete, *test::needs_tool("timeout")) {
  Sandbox s;
  s.write_config(test::base_config({"sleep", "60"}));
  kill_at_every_moment(
      s, "delete", [&] { BOOST_TEST_REQUIRE(s.agentrun({"run", "-d", "--bundle", s.bundle, "k"}).code == 0); },
      {"delete", "--force", "k"}, 200);
}
