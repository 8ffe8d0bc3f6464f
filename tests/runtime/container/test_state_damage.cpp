// A container whose state.json was removed, cut short, corrupted or
// replaced by another container's: `list` still shows it, and
// `delete --force` still finds its init and cgroups through what create
// recorded as it acquired them (init.json, cgroups.json), frees them and
// touches nothing else; it fails, naming what, when it cannot.
#include <boost/test/unit_test.hpp>

#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <functional>
#include <sstream>

#include "runtime/util/proc_stat.hpp"
#include "support/cgroup_files.hpp"
#include "support/harness.hpp"
#include "support/wait.hpp"

using test::Sandbox;

namespace {

// A running container as the test saw it before anything was damaged.
struct Seen {
  std::string id;
  int pid = 0;
  uint64_t start_time = 0;
  test::cgroup::Dirs cgroups;
};

Seen run_detached(const Sandbox& s, const std::string& id) {
  const auto run = s.agentrun({"run", "-d", "--bundle", s.bundle, id});
  BOOST_TEST_REQUIRE(run.code == 0, run.err);
  Seen c{id, s.pid_of(id), 0, test::cgroup::dirs_of(s, id)};
  const auto st = agentrun::read_proc_stat(c.pid);
  BOOST_TEST_REQUIRE(st.has_value());
  c.start_time = st->start_time;
  BOOST_TEST_REQUIRE(!c.cgroups.empty());
  return c;
}

// The same process, not one that has its pid since.
bool alive(const Seen& c) {
  const auto st = agentrun::read_proc_stat(c.pid);
  return st && st->start_time == c.start_time && st->state != 'Z';
}

bool cgroups_exist(const Seen& c) {
  for (const auto& [controller, dir] : c.cgroups)
    if (!test::file_exists(dir)) return false;
  return true;
}

bool no_cgroup_left(const Seen& c) {
  for (const auto& [controller, dir] : c.cgroups)
    if (test::file_exists(dir)) return false;
  return true;
}

// The STATUS column of `list` for `id`, "" when it is not listed.
std::string listed_status(const Sandbox& s, const std::string& id) {
  std::istringstream rows(s.agentrun({"list"}).out);
  for (std::string row; std::getline(rows, row);) {
    std::istringstream cells(row);
    std::string name, pid, status;
    if (cells >> name >> pid >> status && name == id) return status;
  }
  return "";
}

void write(const std::string& path, const std::string& text) {
  std::filesystem::remove(path);
  test::put_file(path, text);
}

// Runs `a` and `b`, damages a's state with `damage`, checks that `list`
// shows a as `status`, then that delete --force frees a's init, cgroups and
// state directory and leaves b running.
void delete_after(const std::function<void(const Sandbox&, const Seen& a, const Seen& b)>& damage,
                  const std::string& status) {
  Sandbox s;
  s.write_config(test::base_config({"sleep", "60"}));
  const Seen a = run_detached(s, "a"), b = run_detached(s, "b");
  damage(s, a, b);
  BOOST_TEST(listed_status(s, "a") == status);
  BOOST_TEST(listed_status(s, "b") == "running");

  const auto d = s.agentrun({"delete", "--force", "a"});
  BOOST_TEST(d.code == 0, d.err);
  BOOST_TEST(test::poll_until([&] { return !alive(a); }, std::chrono::milliseconds(2000)), "a's init still runs");
  BOOST_TEST(no_cgroup_left(a));
  BOOST_TEST(!test::file_exists(s.root + "/a"));
  BOOST_TEST(alive(b), "b's init was killed");
  BOOST_TEST(cgroups_exist(b), "b's cgroups were removed");
  BOOST_TEST(listed_status(s, "b") == "running");
}

}  // namespace

BOOST_AUTO_TEST_CASE(a_removed_state_file_is_listed_as_creating_and_freed) {
  delete_after([](const Sandbox& s, const Seen&, const Seen&) { std::filesystem::remove(s.root + "/a/state.json"); },
               "creating");
}

BOOST_AUTO_TEST_CASE(a_state_file_cut_short_is_listed_as_broken_and_freed) {
  delete_after(
      [](const Sandbox& s, const Seen&, const Seen&) {
        const std::string path = s.root + "/a/state.json";
        const std::string text = test::read_file(path);
        write(path, text.substr(0, text.size() / 2));
      },
      "broken");
}

BOOST_AUTO_TEST_CASE(a_corrupt_state_file_is_listed_as_broken_and_freed) {
  delete_after(
      [](const Sandbox& s, const Seen&, const Seen&) { write(s.root + "/a/state.json", std::string(100000, '[')); },
      "broken");
}

// Another container's state.json in a's directory would point delete and
// kill at b: both are refused that way, and a is found by its records.
BOOST_AUTO_TEST_CASE(another_containers_state_file_frees_this_one_and_spares_the_other) {
  delete_after(
      [](const Sandbox& s, const Seen& a, const Seen& b) {
        write(s.root + "/a/state.json", test::read_file(s.root + "/b/state.json"));
        const auto kill = s.agentrun({"kill", "a", "KILL"});
        BOOST_TEST(kill.code != 0);
        BOOST_TEST(kill.err.find(s.root + "/a/state.json: names container \"b\", not \"a\"") != std::string::npos,
                   kill.err);
        const auto del = s.agentrun({"delete", "a"});
        BOOST_TEST(del.code != 0, "delete without --force of a container whose init runs");
        BOOST_TEST((alive(a) && alive(b)));
      },
      "broken");
}

// The same id's state.json from elsewhere (another root, an older run):
// its init is not the one init.json recorded.
BOOST_AUTO_TEST_CASE(a_state_file_naming_another_init_is_broken) {
  delete_after(
      [](const Sandbox& s, const Seen&, const Seen& b) {
        std::string text = test::read_file(s.root + "/b/state.json");
        text.replace(text.find("\"id\":\"b\""), 8, "\"id\":\"a\"");
        write(s.root + "/a/state.json", text);
        const auto state = s.agentrun({"state", "a"});
        BOOST_TEST(state.code != 0);
        BOOST_TEST(state.err.find("is not the one init.json recorded (pid") != std::string::npos, state.err);
        BOOST_TEST(alive(b));
      },
      "broken");
}

// init.json names a pid that another process has now: that process is not
// the init (its start time differs) and is never signalled; the init is
// found in the container's cgroups all the same.
BOOST_AUTO_TEST_CASE(a_reused_pid_is_never_killed) {
  const pid_t decoy = ::fork();
  BOOST_TEST_REQUIRE(decoy >= 0);
  if (decoy == 0) {
    ::execl("/bin/sleep", "sleep", "60", nullptr);
    ::_exit(127);
  }
  delete_after(
      [decoy](const Sandbox& s, const Seen&, const Seen&) {
        // An init that had this pid before the decoy: it started earlier.
        const auto st = agentrun::read_proc_stat(decoy);
        BOOST_TEST_REQUIRE(st.has_value());
        std::filesystem::remove(s.root + "/a/state.json");
        write(s.root + "/a/init.json",
              "{\"pid\":" + std::to_string(decoy) + ",\"startTime\":" + std::to_string(st->start_time - 1) + "}");
      },
      "creating");
  const auto st = agentrun::read_proc_stat(decoy);
  BOOST_TEST((st && st->state != 'Z'), "the process that has the recorded pid was killed");
  ::kill(decoy, SIGKILL);
  ::waitpid(decoy, nullptr, 0);
}

// A record that cannot be read leaves delete unable to tell whether the
// init is gone: it frees what it can, fails naming the record, and keeps
// the directory until the record is repaired or removed by hand.
BOOST_AUTO_TEST_CASE(an_unreadable_record_fails_loudly) {
  Sandbox s;
  s.write_config(test::base_config({"sleep", "60"}));
  const Seen a = run_detached(s, "a");
  std::filesystem::remove(s.root + "/a/state.json");
  write(s.root + "/a/init.json", "{\"pid\":");
  const auto d = s.agentrun({"delete", "--force", "a"});
  BOOST_TEST(d.code != 0);
  BOOST_TEST(d.err.find("delete container a: could not free everything, so its state directory " + s.root +
                        "/a is kept: " + s.root + "/a/init.json") != std::string::npos,
             d.err);
  BOOST_TEST(test::file_exists(s.root + "/a"));
  // What it could free, it did: the init was in the recorded cgroups.
  BOOST_TEST(test::poll_until([&] { return !alive(a); }, std::chrono::milliseconds(2000)));
  BOOST_TEST(no_cgroup_left(a));
  std::filesystem::remove(s.root + "/a/init.json");
  const auto again = s.agentrun({"delete", "--force", "a"});
  BOOST_TEST(again.code == 0, again.err);
  BOOST_TEST(s.leftovers().empty());
}
