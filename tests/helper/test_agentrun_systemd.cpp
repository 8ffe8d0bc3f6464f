// agentrun-systemd end to end, through SystemdClient, against a fake
// systemd manager on a private dbus-daemon (DBUS_SYSTEM_BUS_ADDRESS): the
// job protocol (a JobRemoved signal sent before the reply to the call that
// made the job), failed and late jobs, UnitExists, NoSuchUnit. The real
// systemd is the guest tier's (tests/guest/).
#include <boost/test/unit_test.hpp>

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <systemd/sd-bus.h>
#include <unistd.h>

#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>

#include "runtime/cgroup/systemd_client.hpp"
#include "support/needs.hpp"
#include "support/wait.hpp"
#include "unit/support/checks.hpp"

using namespace agentrun;
using namespace std::chrono_literals;

namespace {

// ---- the fake manager (runs in a child process) ----

constexpr const char* kManagerPath = "/org/freedesktop/systemd1";
constexpr const char* kManager = "org.freedesktop.systemd1.Manager";
constexpr const char* kUnitPrefix = "/org/freedesktop/systemd1/unit";

struct FakeUnit {
  std::string state = "active";
  std::string cgroup;
  uint64_t memory_max = UINT64_MAX;
};

// Unit names choose the fake's behaviour: "failed-*" jobs fail, "slow-*"
// start jobs never finish; "leftover.scope" is a failed unit from the start.
struct Fake {
  sd_bus* bus = nullptr;
  std::ofstream log;  // one line a call: "Method unit arguments"
  uint32_t jobs = 0;
  std::map<std::string, FakeUnit> units = {{"leftover.scope", {"failed", "/system.slice/leftover.scope"}}};

  std::string job_path() { return std::string(kManagerPath) + "/job/" + std::to_string(++jobs); }
  void job_removed(const std::string& job, const std::string& unit, const char* result) {
    sd_bus_emit_signal(bus, kManagerPath, kManager, "JobRemoved", "uoss", jobs, job.c_str(), unit.c_str(), result);
  }
};

Fake& fake(void* userdata) { return *static_cast<Fake*>(userdata); }

int no_such_unit(sd_bus_error* e, const std::string& unit) {
  return sd_bus_error_setf(e, "org.freedesktop.systemd1.NoSuchUnit", "Unit %s not loaded.", unit.c_str());
}

// Reads a(sv) into the log as "Name:type" words, keeping Slice and MemoryMax.
int read_properties(sd_bus_message* m, std::string& line, std::string& slice, uint64_t& memory_max) {
  int r = sd_bus_message_enter_container(m, 'a', "(sv)");
  while (r >= 0 && (r = sd_bus_message_enter_container(m, 'r', "sv")) > 0) {
    const char *name = nullptr, *type = nullptr;
    sd_bus_message_read(m, "s", &name);
    sd_bus_message_peek_type(m, nullptr, &type);
    line += std::string(" ") + name + ":" + type;
    if (std::string(name) == "Slice") {
      const char* s = nullptr;
      sd_bus_message_read(m, "v", "s", &s);
      slice = s;
    } else if (std::string(name) == "MemoryMax") {
      sd_bus_message_read(m, "v", "t", &memory_max);
    } else {
      sd_bus_message_skip(m, "v");
    }
    sd_bus_message_exit_container(m);
  }
  return r < 0 ? r : sd_bus_message_exit_container(m);
}

int start_transient_unit(sd_bus_message* m, void* userdata, sd_bus_error* e) {
  Fake& f = fake(userdata);
  const char *name = nullptr, *mode = nullptr;
  sd_bus_message_read(m, "ss", &name, &mode);
  std::string line = std::string("StartTransientUnit ") + name + " " + mode, slice;
  FakeUnit unit;
  if (int r = read_properties(m, line, slice, unit.memory_max); r < 0) return r;
  f.log << line << std::endl;
  if (f.units.count(name)) return sd_bus_error_setf(e, "org.freedesktop.systemd1.UnitExists", "Unit %s already exists.", name);
  const std::string unit_name = name;
  if (unit_name.starts_with("failed-")) unit.state = "failed";
  unit.cgroup = "/" + slice + "/" + unit_name;
  f.units[unit_name] = unit;
  const std::string job = f.job_path();
  // Before the reply: the client must be listening already.
  if (!unit_name.starts_with("slow-")) f.job_removed(job, unit_name, unit_name.starts_with("failed-") ? "failed" : "done");
  return sd_bus_reply_method_return(m, "o", job.c_str());
}

int stop_unit(sd_bus_message* m, void* userdata, sd_bus_error* e) {
  Fake& f = fake(userdata);
  const char *name = nullptr, *mode = nullptr;
  sd_bus_message_read(m, "ss", &name, &mode);
  f.log << "StopUnit " << name << " " << mode << std::endl;
  if (!f.units.count(name)) return no_such_unit(e, name);
  f.units.erase(name);
  const std::string job = f.job_path();
  int r = sd_bus_reply_method_return(m, "o", job.c_str());
  f.job_removed(job, name, "done");  // after the reply, as usual
  return r;
}

int reset_failed_unit(sd_bus_message* m, void* userdata, sd_bus_error* e) {
  Fake& f = fake(userdata);
  const char* name = nullptr;
  sd_bus_message_read(m, "s", &name);
  f.log << "ResetFailedUnit " << name << std::endl;
  const auto it = f.units.find(name);
  if (it == f.units.end()) return no_such_unit(e, name);
  if (it->second.state == "failed") f.units.erase(it);
  return sd_bus_reply_method_return(m, "");
}

int set_unit_properties(sd_bus_message* m, void* userdata, sd_bus_error* e) {
  Fake& f = fake(userdata);
  const char* name = nullptr;
  int runtime = 0;
  sd_bus_message_read(m, "sb", &name, &runtime);
  std::string line = std::string("SetUnitProperties ") + name + (runtime ? " runtime" : " persistent"), slice;
  uint64_t memory_max = UINT64_MAX;
  if (int r = read_properties(m, line, slice, memory_max); r < 0) return r;
  f.log << line << std::endl;
  if (!f.units.count(name)) return no_such_unit(e, name);
  return sd_bus_reply_method_return(m, "");
}

int get_unit(sd_bus_message* m, void* userdata, sd_bus_error* e) {
  const char* name = nullptr;
  sd_bus_message_read(m, "s", &name);
  if (!fake(userdata).units.count(name)) return no_such_unit(e, name);
  char* path = nullptr;
  sd_bus_path_encode(kUnitPrefix, name, &path);
  int r = sd_bus_reply_method_return(m, "o", path);
  free(path);
  return r;
}

int version(sd_bus*, const char*, const char*, const char*, sd_bus_message* reply, void*, sd_bus_error*) {
  return sd_bus_message_append(reply, "s", "252.99-fake");
}

FakeUnit* unit_at(const char* path, void* userdata) {
  char* name = nullptr;
  if (sd_bus_path_decode(path, kUnitPrefix, &name) <= 0) return nullptr;
  auto& units = fake(userdata).units;
  const auto it = units.find(name);
  free(name);
  return it == units.end() ? nullptr : &it->second;
}

int find_unit(sd_bus*, const char* path, const char*, void* userdata, void** found, sd_bus_error*) {
  *found = unit_at(path, userdata);
  return *found != nullptr;
}

int active_state(sd_bus*, const char*, const char*, const char*, sd_bus_message* reply, void* unit, sd_bus_error*) {
  return sd_bus_message_append(reply, "s", static_cast<FakeUnit*>(unit)->state.c_str());
}
int control_group(sd_bus*, const char*, const char*, const char*, sd_bus_message* reply, void* unit, sd_bus_error*) {
  return sd_bus_message_append(reply, "s", static_cast<FakeUnit*>(unit)->cgroup.c_str());
}
int memory_max(sd_bus*, const char*, const char*, const char*, sd_bus_message* reply, void* unit, sd_bus_error*) {
  return sd_bus_message_append(reply, "t", static_cast<FakeUnit*>(unit)->memory_max);
}

const sd_bus_vtable kManagerVtable[] = {
    SD_BUS_VTABLE_START(0),
    SD_BUS_PROPERTY("Version", "s", version, 0, SD_BUS_VTABLE_PROPERTY_CONST),
    SD_BUS_METHOD("StartTransientUnit", "ssa(sv)a(sa(sv))", "o", start_transient_unit, 0),
    SD_BUS_METHOD("StopUnit", "ss", "o", stop_unit, 0),
    SD_BUS_METHOD("ResetFailedUnit", "s", "", reset_failed_unit, 0),
    SD_BUS_METHOD("SetUnitProperties", "sba(sv)", "", set_unit_properties, 0),
    SD_BUS_METHOD("GetUnit", "s", "o", get_unit, 0),
    SD_BUS_SIGNAL("JobRemoved", "uoss", 0),
    SD_BUS_VTABLE_END};
const sd_bus_vtable kUnitVtable[] = {SD_BUS_VTABLE_START(0),
                                     SD_BUS_PROPERTY("ActiveState", "s", active_state, 0, 0),
                                     SD_BUS_VTABLE_END};
const sd_bus_vtable kScopeVtable[] = {SD_BUS_VTABLE_START(0),
                                      SD_BUS_PROPERTY("ControlGroup", "s", control_group, 0, 0),
                                      SD_BUS_PROPERTY("MemoryMax", "t", memory_max, 0, 0),
                                      SD_BUS_VTABLE_END};

// The child's life: serve until killed. Writes one byte to `ready` once
// the name is owned.
[[noreturn]] void serve(const std::string& address, const std::string& log, int ready) {
  Fake f;
  f.log.open(log);
  bool ok = sd_bus_new(&f.bus) >= 0 && sd_bus_set_address(f.bus, address.c_str()) >= 0 &&
            sd_bus_set_bus_client(f.bus, 1) >= 0 && sd_bus_start(f.bus) >= 0 &&
            sd_bus_add_object_vtable(f.bus, nullptr, kManagerPath, kManager, kManagerVtable, &f) >= 0 &&
            sd_bus_add_fallback_vtable(f.bus, nullptr, kUnitPrefix, "org.freedesktop.systemd1.Unit", kUnitVtable,
                                       find_unit, &f) >= 0 &&
            sd_bus_add_fallback_vtable(f.bus, nullptr, kUnitPrefix, "org.freedesktop.systemd1.Scope", kScopeVtable,
                                       find_unit, &f) >= 0 &&
            sd_bus_add_fallback_vtable(f.bus, nullptr, kUnitPrefix, "org.freedesktop.systemd1.Slice", kScopeVtable,
                                       find_unit, &f) >= 0 &&
            sd_bus_request_name(f.bus, "org.freedesktop.systemd1", 0) >= 0;
  if (!ok || ::write(ready, "x", 1) != 1) ::_exit(1);
  for (;;) {
    int r = sd_bus_process(f.bus, nullptr);
    if (r < 0) ::_exit(1);
    if (r == 0 && sd_bus_wait(f.bus, UINT64_MAX) < 0) ::_exit(1);
  }
}

// ---- the test's side ----

std::string find_helper() {
  // scripts/test copies it next to the unit tests; in the build tree it is at the top.
  const std::string self = std::filesystem::read_symlink("/proc/self/exe").parent_path();
  for (const std::string& p : {self + "/agentrun-systemd", std::string(AGENTRUN_SYSTEMD_BINARY)})
    if (::access(p.c_str(), X_OK) == 0) return p;
  BOOST_FAIL("agentrun-systemd is neither next to the test nor at " AGENTRUN_SYSTEMD_BINARY);
  return "";
}

bool accepts(const std::string& path) {
  const int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_un a{};
  a.sun_family = AF_UNIX;
  std::strncpy(a.sun_path, path.c_str(), sizeof a.sun_path - 1);
  const bool ok = fd >= 0 && ::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0;
  if (fd >= 0) ::close(fd);
  return ok;
}

void stop_process(pid_t pid) {
  if (pid <= 0) return;
  ::kill(pid, SIGKILL);
  ::waitpid(pid, nullptr, 0);
}

// A private bus with the fake manager on it, for one test case.
struct FakeSystemd {
  TempDir dir{"fake-systemd"};
  std::string address = "unix:path=" + dir.path + "/bus";
  pid_t daemon = -1, manager = -1;
  SystemdClient client{find_helper()};

  FakeSystemd() {
    try {
      start();
    } catch (...) {  // a failed check leaves no daemon holding the test's output open
      stop_process(manager);
      stop_process(daemon);
      throw;
    }
  }
  void start() {
    std::ofstream(dir.path + "/bus.conf")
        << "<!DOCTYPE busconfig PUBLIC \"-//freedesktop//DTD D-Bus Bus Configuration 1.0//EN\"\n"
           " \"http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd\">\n"
           "<busconfig><type>agentrun-test</type><listen>" << address << "</listen><auth>EXTERNAL</auth>"
           "<policy context=\"default\"><allow user=\"*\"/><allow own=\"*\"/><allow send_destination=\"*\"/>"
           "<allow receive_sender=\"*\"/><allow send_type=\"signal\"/></policy></busconfig>\n";
    daemon = ::fork();
    BOOST_TEST_REQUIRE(daemon >= 0);
    if (daemon == 0) {
      // Its complaints (it cannot raise its descriptor limit as nobody) go to a file.
      const int log = ::open((dir.path + "/dbus-daemon.log").c_str(), O_WRONLY | O_CREAT | O_CLOEXEC, 0600);
      if (log < 0 || ::dup2(log, 1) < 0 || ::dup2(log, 2) < 0) ::_exit(126);
      const std::string config = "--config-file=" + dir.path + "/bus.conf";
      ::execlp("dbus-daemon", "dbus-daemon", "--nofork", "--nopidfile", config.c_str(), nullptr);
      ::_exit(127);
    }
    // Its socket exists from bind(), before it listens: a connect says it does.
    test::wait_for([&] { return accepts(dir.path + "/bus"); }, 10s, "the private dbus-daemon's socket");
    int ready[2];
    BOOST_TEST_REQUIRE(::pipe(ready) == 0);
    manager = ::fork();
    BOOST_TEST_REQUIRE(manager >= 0);
    if (manager == 0) serve(address, dir.path + "/log", ready[1]);
    ::close(ready[1]);
    char byte = 0;
    pollfd p{ready[0], POLLIN, 0};
    const bool up = ::poll(&p, 1, 10000) == 1 && ::read(ready[0], &byte, 1) == 1;
    ::close(ready[0]);
    BOOST_TEST_REQUIRE(up, "the fake systemd manager is on the bus");
    ::setenv("DBUS_SYSTEM_BUS_ADDRESS", address.c_str(), 1);
  }
  ~FakeSystemd() {
    ::unsetenv("DBUS_SYSTEM_BUS_ADDRESS");
    stop_process(manager);
    stop_process(daemon);
  }
  std::string log() const { return read_file(dir.path + "/log"); }
};

const std::vector<UnitProperty> kProps = {
    {"MemoryMax", "t", {uint64_t{1 << 20}}},
    {"AllowedCPUs", "ay", {std::vector<PropertyValue>{{uint64_t{3}}}}},
    {"IODeviceWeight", "a(st)",
     {std::vector<PropertyValue>{{std::vector<PropertyValue>{{std::string("/dev/block/8:0")}, {uint64_t{100}}}}}}}};

const auto kDbus = test::needs_tool("dbus-daemon");

}  // namespace

BOOST_AUTO_TEST_CASE(probe_reads_the_version, *kDbus) {
  FakeSystemd sd;
  BOOST_TEST(sd.client.probe(5s) == "252.99-fake");
}

BOOST_AUTO_TEST_CASE(start_scope_waits_for_the_job, *kDbus) {
  FakeSystemd sd;
  BOOST_TEST(sd.client.start_scope("docker-abc.scope", "system.slice", "agentrun abc", ::getpid(), kProps, 5s) ==
             "/system.slice/docker-abc.scope");
  BOOST_TEST(sd.log() ==
             "StartTransientUnit docker-abc.scope replace Description:s Slice:s Delegate:b PIDs:au "
             "DefaultDependencies:b MemoryMax:t AllowedCPUs:ay IODeviceWeight:a(st)\n");
  const UnitInfo info = sd.client.unit_info("docker-abc.scope", {"MemoryMax", "ActiveState"}, 5s);
  BOOST_TEST(info.loaded);
  BOOST_TEST(info.active_state == "active");
  BOOST_TEST(info.control_group == "/system.slice/docker-abc.scope");
  BOOST_TEST((info.values.at("MemoryMax") == PropertyValue{uint64_t{1 << 20}}));  // from Scope
  BOOST_TEST((info.values.at("ActiveState") == PropertyValue{std::string("active")}));  // from Unit
}

BOOST_AUTO_TEST_CASE(a_failed_job_is_an_error_and_leaves_nothing, *kDbus) {
  FakeSystemd sd;
  expect_failure([&] { sd.client.start_scope("failed-1.scope", "system.slice", "d", ::getpid(), {}, 5s); },
                 "--systemd-cgroup: start failed-1.scope: the start job ended with result \"failed\"");
  BOOST_TEST(!sd.client.unit_info("failed-1.scope", {}, 5s).loaded);
}

BOOST_AUTO_TEST_CASE(a_late_job_is_an_error_and_the_unit_is_stopped, *kDbus) {
  FakeSystemd sd;
  expect_failure([&] { sd.client.start_scope("slow-1.scope", "system.slice", "d", ::getpid(), {}, 300ms); },
                 "--systemd-cgroup: start slow-1.scope: systemd did not finish the start job within 300 ms; "
                 "the unit was stopped: connection timed out");
  BOOST_TEST(sd.log().find("StopUnit slow-1.scope replace\nResetFailedUnit slow-1.scope\n") != std::string::npos,
             sd.log());
  BOOST_TEST(!sd.client.unit_info("slow-1.scope", {}, 5s).loaded);
}

BOOST_AUTO_TEST_CASE(a_unit_that_exists, *kDbus) {
  FakeSystemd sd;
  sd.client.start_scope("a.scope", "system.slice", "d", ::getpid(), {}, 5s);
  // A live unit stays an error, after one reset and retry as runc does.
  expect_failure([&] { sd.client.start_scope("a.scope", "system.slice", "d", ::getpid(), {}, 5s); },
                 "--systemd-cgroup: start a.scope: Unit a.scope already exists. "
                 "(org.freedesktop.systemd1.UnitExists): file exists");
  // A failed leftover is reset and the start goes through.
  BOOST_TEST(sd.client.start_scope("leftover.scope", "system.slice", "d", ::getpid(), {}, 5s) ==
             "/system.slice/leftover.scope");
  BOOST_TEST(sd.log().find("StartTransientUnit leftover.scope replace Description:s Slice:s Delegate:b PIDs:au "
                           "DefaultDependencies:b\nResetFailedUnit leftover.scope\nStartTransientUnit leftover.scope") !=
                 std::string::npos,
             sd.log());
}

BOOST_AUTO_TEST_CASE(a_slice_unit_hangs_off_its_parent_by_wants, *kDbus) {
  FakeSystemd sd;
  sd.client.start_scope("kubepods-besteffort.slice", "kubepods.slice", "d", ::getpid(), {}, 5s);
  BOOST_TEST(sd.log() ==
             "StartTransientUnit kubepods-besteffort.slice replace Description:s Wants:as PIDs:au DefaultDependencies:b\n");
}

BOOST_AUTO_TEST_CASE(stop_unit_and_set_properties, *kDbus) {
  FakeSystemd sd;
  sd.client.start_scope("a.scope", "system.slice", "d", ::getpid(), {}, 5s);
  sd.client.set_properties("a.scope", {{"TasksMax", "t", {uint64_t{9}}}}, 5s);
  sd.client.stop_unit("a.scope", 5s);
  BOOST_TEST(!sd.client.unit_info("a.scope", {}, 5s).loaded);
  // A unit systemd does not have is stopped already.
  sd.client.stop_unit("a.scope", 5s);
  expect_failure([&] { sd.client.set_properties("a.scope", {}, 5s); },
                 "--systemd-cgroup: set properties of a.scope: Unit a.scope not loaded. "
                 "(org.freedesktop.systemd1.NoSuchUnit): no such file or directory");
  BOOST_TEST(sd.log() ==
             "StartTransientUnit a.scope replace Description:s Slice:s Delegate:b PIDs:au DefaultDependencies:b\n"
             "SetUnitProperties a.scope runtime TasksMax:t\n"
             "StopUnit a.scope replace\n"
             "ResetFailedUnit a.scope\n"
             "StopUnit a.scope replace\n"
             "ResetFailedUnit a.scope\n"
             "SetUnitProperties a.scope runtime\n");
}

BOOST_AUTO_TEST_CASE(a_value_that_does_not_fit_names_the_property, *kDbus) {
  FakeSystemd sd;
  expect_failure([&] { sd.client.set_properties("a.scope", {{"TasksMax", "t", {int64_t{-1}}}}, 5s); },
                 "--systemd-cgroup: property TasksMax: value: expected a 64-bit unsigned integer for t: "
                 "invalid argument");
  BOOST_TEST(sd.log().empty());  // refused before anything was sent
}

BOOST_AUTO_TEST_CASE(no_systemd_on_the_bus, *kDbus) {
  FakeSystemd sd;
  stop_process(sd.manager);
  sd.manager = -1;
  const std::string what = failure_of([&] { sd.client.probe(5s); });
  BOOST_TEST(what.starts_with("--systemd-cgroup: read systemd's Version: "), what);
  BOOST_TEST(what.find("org.freedesktop.systemd1") != std::string::npos, what);
}
