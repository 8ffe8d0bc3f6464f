#include <boost/test/unit_test.hpp>

#include <fcntl.h>
#include <ftw.h>
#include <signal.h>
#include <sys/file.h>
#include <sys/stat.h>

#include <filesystem>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <fstream>
#include <optional>
#include <string>
#include <vector>

#include "runtime/container/store.hpp"
#include "runtime/util/proc_stat.hpp"
#include "spec/error.hpp"
#include "support/checks.hpp"
#include "support/wait.hpp"

using namespace agentrun;

namespace {

// A temporary store directory, under umask 022 while it exists.
struct StoreDir : ScopedUmask, TempDir {
  StoreDir() : ScopedUmask(022), TempDir("store") {}
};

ContainerRecord full_record(const std::string& id) {
  ContainerRecord r;
  r.id = id;
  r.oci_version = "1.2.0";
  r.bundle = "/bundles/with \"quotes\"\nand newline";
  r.rootfs = "/bundles/b/rootfs";
  r.pid = 2147483647;
  r.start_time = 18446744073709551615ull;
  r.own_pid_namespace = true;
  r.created = "2026-01-02T03:04:05.123456789Z";
  r.owner = "root";
  r.annotations = {{"org.example/key", "value"}, {"empty", ""}, {"unicode", "h\xc3\xa9llo"}};
  return r;
}

void check_same(const ContainerRecord& a, const ContainerRecord& b) {
  BOOST_TEST(a.id == b.id);
  BOOST_TEST(a.oci_version == b.oci_version);
  BOOST_TEST(a.bundle == b.bundle);
  BOOST_TEST(a.rootfs == b.rootfs);
  BOOST_TEST(a.pid == b.pid);
  BOOST_TEST(a.start_time == b.start_time);
  BOOST_TEST(a.own_pid_namespace == b.own_pid_namespace);
  BOOST_TEST(a.created == b.created);
  BOOST_TEST(a.owner == b.owner);
  BOOST_TEST(a.annotations == b.annotations);
}

// Waits until `pid` is in state `state` (a forked child getting there).
bool wait_for_state(pid_t pid, char state) {
  return test::wait_for([&] {
    auto st = read_proc_stat(pid);
    return st && st->state == state;
  }, std::chrono::seconds(5), "pid " + std::to_string(pid) + " in state " + state);
}

}  // namespace

BOOST_AUTO_TEST_CASE(container_ids) {
  for (const std::string& id : std::vector<std::string>{"a", "abc", "A-b_c+d.e", "0", "a...", "a..b", std::string(1024, 'x')})
    BOOST_TEST(failure_of([&] { check_container_id(id); }) == "<no failure>", id);
  BOOST_TEST(failure_of([] { check_container_id(""); }) == "container id: missing");
  for (const std::string& id : std::vector<std::string>{".", "..", "...", ".hidden", "a/b", "/a", "a b", "a\nb", "h\xc3\xa9", "a:b", "a*", "-x/../y",
                               std::string(1025, 'x')})
    BOOST_TEST(failure_of([&] { check_container_id(id); }) ==
                   "container id \"" + id + "\": invalid: use letters, digits, '_', '+', '-' and '.' (not first)",
               id);
}

BOOST_AUTO_TEST_CASE(status_names) {
  BOOST_TEST(std::string(status_name(ContainerStatus::creating)) == "creating");
  BOOST_TEST(std::string(status_name(ContainerStatus::created)) == "created");
  BOOST_TEST(std::string(status_name(ContainerStatus::running)) == "running");
  BOOST_TEST(std::string(status_name(ContainerStatus::stopped)) == "stopped");
}

BOOST_AUTO_TEST_CASE(create_makes_private_directories) {
  StoreDir t;
  Store store(t.path + "/state");
  BOOST_TEST(store.root() == t.path + "/state");
  BOOST_TEST(store.dir("c1") == t.path + "/state/c1");
  BOOST_TEST(store.config_path("c1") == t.path + "/state/c1/config.json");
  BOOST_TEST(store.start_socket("c1") == t.path + "/state/c1/start.sock");
  BOOST_TEST(!store.exists("c1"));
  {
    ContainerLock lock = store.create("c1");
    BOOST_TEST(lock.dir_fd() >= 0);
    struct stat st;
    BOOST_TEST_REQUIRE(::stat(store.root().c_str(), &st) == 0);
    BOOST_TEST(S_ISDIR(st.st_mode));
    BOOST_TEST((st.st_mode & 07777) == 0700u);
    BOOST_TEST_REQUIRE(::stat(store.dir("c1").c_str(), &st) == 0);
    BOOST_TEST((st.st_mode & 07777) == 0700u);
    struct stat fdst;
    BOOST_TEST_REQUIRE(::fstat(lock.dir_fd(), &fdst) == 0);
    BOOST_TEST(fdst.st_ino == st.st_ino);
  }
  BOOST_TEST(store.exists("c1"));
  BOOST_TEST(failure_of([&] { store.create("c1"); }) ==
             "create container \"c1\": a container with this id exists");
  BOOST_TEST(failure_of([&] { store.create("bad/id"); }) ==
             "container id \"bad/id\": invalid: use letters, digits, '_', '+', '-' and '.' (not first)");
}

BOOST_AUTO_TEST_CASE(lock_and_load_of_missing_container) {
  StoreDir t;
  Store store(t.path);
  BOOST_TEST(failure_of([&] { store.lock("x"); }) == "container \"x\": does not exist");
  BOOST_TEST(failure_of([&] { store.load("x"); }) == "container \"x\": does not exist");
  BOOST_TEST(failure_of([&] { store.lock(".."); }) ==
             "container id \"..\": invalid: use letters, digits, '_', '+', '-' and '.' (not first)");
  // A regular file with the id's name is not a container.
  std::ofstream(t.path + "/file") << "x";
  BOOST_TEST(!store.exists("file"));
  BOOST_TEST(failure_of([&] { store.load("file"); }) == "container \"file\": does not exist");
}

BOOST_AUTO_TEST_CASE(lock_is_exclusive) {
  StoreDir t;
  Store store(t.path);
  ContainerLock held = store.create("c");
  int fd = ::open(store.dir("c").c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  BOOST_TEST_REQUIRE(fd >= 0);
  BOOST_TEST(::flock(fd, LOCK_EX | LOCK_NB) == -1);
  BOOST_TEST(errno == EWOULDBLOCK);
  ::close(fd);
}

BOOST_AUTO_TEST_CASE(save_and_load_round_trip) {
  StoreDir t;
  Store store(t.path);
  const ContainerRecord r = full_record("c1");
  {
    ContainerLock lock = store.create("c1");
    store.save(lock, r);
  }
  BOOST_TEST(exists(store.dir("c1") + "/state.json"));
  // Nothing else: no temporary file left beside it, whatever its name.
  std::vector<std::string> entries;
  for (const auto& e : std::filesystem::directory_iterator(store.dir("c1"))) entries.push_back(e.path().filename());
  BOOST_TEST(entries == std::vector<std::string>{"state.json"});
  check_same(store.load("c1"), r);

  // Saving again replaces the record.
  ContainerRecord r2 = r;
  r2.pid = 42;
  r2.own_pid_namespace = false;
  r2.annotations.clear();
  {
    ContainerLock lock = store.lock("c1");
    store.save(lock, r2);
  }
  check_same(store.load("c1"), r2);
}

BOOST_AUTO_TEST_CASE(record_json_round_trip) {
  const ContainerRecord r = full_record("x");
  const std::string text = record_json(r);
  check_same(parse_record(text, "state.json"), r);
  BOOST_TEST(text.find("\"startTime\":18446744073709551615") != std::string::npos);
  BOOST_TEST(text.find("\"ownPidNamespace\":true") != std::string::npos);
  BOOST_TEST(text.find("\"ociVersion\":\"1.2.0\"") != std::string::npos);
  ContainerRecord empty;
  check_same(parse_record(record_json(empty), "s"), empty);
}

BOOST_AUTO_TEST_CASE(parse_record_errors) {
  BOOST_CHECK_THROW(parse_record("{", "s.json"), Failure);
  BOOST_CHECK_THROW(parse_record("{}", "s.json"), Failure);
  BOOST_TEST(failure_of([] { parse_record("{}", "s.json"); }).find("missing required field \"id\"") !=
             std::string::npos);
  std::string text = record_json(full_record("x"));
  auto at = text.find("\"pid\":2147483647");
  BOOST_TEST_REQUIRE(at != std::string::npos);
  text.replace(at, 16, "\"pid\":\"1\"");
  BOOST_TEST(failure_of([&] { parse_record(text, "s.json"); }).find("s.json") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(load_while_creating) {
  StoreDir t;
  Store store(t.path);
  { ContainerLock lock = store.create("c"); }
  ContainerRecord r = store.load("c");
  BOOST_TEST(r.id == "c");
  BOOST_TEST(r.pid == 0);
  BOOST_TEST(r.bundle.empty());
  BOOST_TEST((store.status(r, nullptr) == ContainerStatus::creating));
}

BOOST_AUTO_TEST_CASE(save_file_replaces_atomically) {
  StoreDir t;
  Store store(t.path);
  ContainerLock lock = store.create("c");
  store.save_file(lock, "c", "config.json", "{\"ociVersion\":\"1.2.0\"}");
  auto read = [&] { return read_file(store.config_path("c")); };
  BOOST_TEST(read() == "{\"ociVersion\":\"1.2.0\"}");
  store.save_file(lock, "c", "config.json", "{}");
  BOOST_TEST(read() == "{}");
  BOOST_TEST(store.file_path("c", "isolation.json") == t.path + "/c/isolation.json");
}

BOOST_AUTO_TEST_CASE(ids_are_sorted_directories) {
  StoreDir t;
  Store missing(t.path + "/nope");
  BOOST_TEST(missing.ids().empty());
  Store store(t.path + "/s");
  for (const char* id : {"b", "a", "c-2", "C", "c"}) ContainerLock l = store.create(id);
  std::ofstream(store.root() + "/not-a-dir") << "x";
  BOOST_TEST(::mkdir((store.root() + "/.seccomp-cache").c_str(), 0700) == 0);  // the runtime's, not a container
  BOOST_TEST(store.ids() == (std::vector<std::string>{"C", "a", "b", "c", "c-2"}));
}

BOOST_AUTO_TEST_CASE(remove_deletes_nested_content) {
  StoreDir t;
  Store store(t.path);
  {
    ContainerLock lock = store.create("c");
    store.save(lock, full_record("c"));
  }
  const std::string d = store.dir("c");
  BOOST_TEST_REQUIRE(::mkdir((d + "/sub").c_str(), 0700) == 0);
  BOOST_TEST_REQUIRE(::mkdir((d + "/sub/deeper").c_str(), 0700) == 0);
  std::ofstream(d + "/sub/deeper/file") << "data";
  std::ofstream(d + "/start.sock") << "";
  BOOST_TEST_REQUIRE(::symlink("/etc", (d + "/link").c_str()) == 0);
  store.remove("c");
  BOOST_TEST(!store.exists("c"));
  BOOST_TEST(!exists(d));
  BOOST_TEST(exists("/etc/passwd"));  // the symlink was removed, not followed
  BOOST_TEST(store.ids().empty());
  BOOST_TEST(failure_of([&] { store.remove("c"); }) == "remove " + d + ": no such file or directory");
  BOOST_TEST(failure_of([&] { store.remove("a/../.."); }) ==
             "container id \"a/../..\": invalid: use letters, digits, '_', '+', '-' and '.' (not first)");
}

BOOST_AUTO_TEST_CASE(status_from_pid_and_start_time) {
  StoreDir t;
  Store store(t.path);
  { ContainerLock l = store.create("c"); }
  ContainerRecord r;
  r.id = "c";
  r.pid = 0;
  BOOST_TEST((store.status(r, nullptr) == ContainerStatus::creating));

  r.pid = 2147483647;  // above any pid_max
  r.start_time = 1;
  BOOST_TEST((store.status(r, nullptr) == ContainerStatus::stopped));

  auto self = read_proc_stat(::getpid());
  BOOST_TEST_REQUIRE(self.has_value());
  r.pid = ::getpid();
  r.start_time = self->start_time;
  std::ofstream(store.start_socket("c")) << "";
  BOOST_TEST((store.status(r, nullptr) == ContainerStatus::created));
  BOOST_TEST_REQUIRE(::unlink(store.start_socket("c").c_str()) == 0);
  BOOST_TEST((store.status(r, nullptr) == ContainerStatus::running));
  r.start_time = self->start_time + 1;  // the pid was reused by another process
  BOOST_TEST((store.status(r, nullptr) == ContainerStatus::stopped));
}

BOOST_AUTO_TEST_CASE(zombie_is_stopped) {
  StoreDir t;
  Store store(t.path);
  { ContainerLock l = store.create("z"); }
  pid_t child = ::fork();
  BOOST_TEST_REQUIRE(child >= 0);
  if (child == 0) {
    ::pause();
    ::_exit(0);
  }
  BOOST_TEST_REQUIRE(wait_for_state(child, 'S'));
  auto st = read_proc_stat(child);
  BOOST_TEST_REQUIRE(st.has_value());
  ContainerRecord r;
  r.id = "z";
  r.pid = child;
  r.start_time = st->start_time;
  BOOST_TEST((store.status(r, nullptr) == ContainerStatus::running));
  ::kill(child, SIGKILL);
  BOOST_TEST_REQUIRE(wait_for_state(child, 'Z'));  // dead, not reaped
  BOOST_TEST((store.status(r, nullptr) == ContainerStatus::stopped));
  int status = 0;
  BOOST_TEST(::waitpid(child, &status, 0) == child);
  BOOST_TEST((store.status(r, nullptr) == ContainerStatus::stopped));
}

// runc creates its state root with os.MkdirAll(root, 0700); containerd passes
// --root /run/containerd/runc/<namespace>, whose parent does not exist on a
// fresh boot. Store::create makes only the last component.
BOOST_AUTO_TEST_CASE(create_makes_missing_parents_of_the_root) {
  StoreDir t;
  Store store(t.path + "/run/containerd/runc/moby");
  BOOST_TEST(failure_of([&] { ContainerLock l = store.create("c1"); }) == "<no failure>");
  BOOST_TEST(store.exists("c1"));
}

// What create acquired is recorded in files of its own, read back one by
// one: an unreadable record is named, and hides none of the others.
BOOST_AUTO_TEST_CASE(acquired_resources_are_read_back_from_their_records) {
  StoreDir t;
  Store store(t.path);
  ContainerLock lock = store.create("c");
  Acquired none = store.acquired("c");
  BOOST_TEST(none.pid == 0);
  BOOST_TEST(none.cgroup.empty());
  BOOST_TEST(none.unreadable.empty());

  store.record_cgroups(lock, "c", R"({"driver":"cgroupfs"})");
  store.record_init(lock, "c", 4242, 18446744073709551615ull);
  Acquired a = store.acquired("c");
  BOOST_TEST(a.pid == 4242);
  BOOST_TEST(a.start_time == 18446744073709551615ull);
  BOOST_TEST(a.cgroup == R"({"driver":"cgroupfs"})");
  BOOST_TEST(a.unreadable.empty());

  store.save_file(lock, "c", "init.json", R"({"pid":)");
  Acquired cut = store.acquired("c");
  BOOST_TEST(cut.pid == 0);
  BOOST_TEST(cut.cgroup == R"({"driver":"cgroupfs"})");
  BOOST_TEST_REQUIRE(cut.unreadable.size() == 1u);
  BOOST_TEST(cut.unreadable[0].message().rfind(store.dir("c") + "/init.json: ", 0) == 0, cut.unreadable[0].message());
  store.save_file(lock, "c", "init.json", R"({"pid":0,"startTime":1})");
  BOOST_TEST(store.acquired("c").unreadable.at(0).message().find("init.json: pid: not a process id") != std::string::npos);
  store.save_file(lock, "c", "cgroups.json", "[]");
  BOOST_TEST(store.acquired("c").unreadable.size() == 2u);
}

// A state.json that is not this container's (another id, another init,
// other cgroups than those recorded) is refused, so that no command acts on
// what it names.
BOOST_AUTO_TEST_CASE(load_refuses_a_state_file_that_is_not_the_containers) {
  StoreDir t;
  Store store(t.path);
  ContainerLock lock = store.create("a");
  ContainerRecord r = full_record("a");
  r.cgroup = R"({"driver":"cgroupfs"})";
  store.record_init(lock, "a", r.pid, r.start_time);
  store.record_cgroups(lock, "a", r.cgroup);
  store.save(lock, r);
  check_same(store.load("a"), r);
  const std::string path = store.dir("a") + "/state.json";

  ContainerRecord other = r;
  other.id = "b";
  store.save_file(lock, "a", "state.json", record_json(other));
  BOOST_TEST(failure_of([&] { store.load("a"); }) == path + ": names container \"b\", not \"a\"");

  other = r;
  other.start_time = 7;
  store.save_file(lock, "a", "state.json", record_json(other));
  BOOST_TEST(failure_of([&] { store.load("a"); }) ==
             path + ": its init (pid 2147483647, started at 7) is not the one init.json recorded (pid 2147483647, "
                    "started at 18446744073709551615)");

  other = r;
  other.cgroup = R"({"driver":"systemd"})";
  store.save_file(lock, "a", "state.json", record_json(other));
  BOOST_TEST(failure_of([&] { store.load("a"); }) == path + ": its cgroups are not the ones cgroups.json recorded");

  store.save(lock, r);
  store.save_file(lock, "a", "cgroups.json", "{");
  BOOST_TEST(failure_of([&] { store.load("a"); }).rfind(store.dir("a") + "/cgroups.json: ", 0) == 0u);
}
