#include <boost/test/unit_test.hpp>

#include <signal.h>
#include <sys/stat.h>

#include <cerrno>
#include <cstdlib>
#include <fstream>

#include "runtime/cgroup/systemd_client.hpp"
#include "support/checks.hpp"

using namespace agentrun;
using namespace std::chrono_literals;

namespace {

// A fake agentrun-systemd: a shell script that saves its command and
// request in the temporary directory and then runs `body`.
struct FakeHelper {
  TempDir dir{"systemd-client"};
  std::string path = dir.path + "/agentrun-systemd";
  explicit FakeHelper(const std::string& body) {
    std::ofstream(path) << "#!/bin/sh\necho \"$1\" > " << dir.path << "/command\ncat > " << dir.path
                        << "/request\n" << body << "\n";
    BOOST_TEST_REQUIRE(::chmod(path.c_str(), 0755) == 0);
  }
  std::string request() const { return read_file(dir.path + "/request"); }
  std::string command() const { return read_file(dir.path + "/command"); }
};

struct ScopedEnv {
  std::string name;
  ScopedEnv(std::string n, const std::string& value) : name(std::move(n)) { ::setenv(name.c_str(), value.c_str(), 1); }
  ~ScopedEnv() { ::unsetenv(name.c_str()); }
};

}  // namespace

BOOST_AUTO_TEST_CASE(start_scope_sends_the_request_and_returns_the_cgroup) {
  FakeHelper fake("echo '{\"ok\":true,\"cgroup\":\"/system.slice/docker-abc.scope\"}'");
  SystemdClient client(fake.path);
  const std::vector<UnitProperty> props = {{"MemoryMax", "t", {uint64_t{1048576}}},
                                           {"IODeviceWeight", "a(st)",
                                            {std::vector<PropertyValue>{{std::vector<PropertyValue>{{std::string("/dev/block/8:0")}, {uint64_t{5}}}}}}},
                                           {"CPUWeight", "t", {uint64_t{0}}},
                                           {"Nice", "i", {int64_t{-5}}},
                                           {"Delegate", "b", {true}}};
  BOOST_TEST(client.start_scope("docker-abc.scope", "system.slice", "agentrun container abc", 123, props, 2000ms) ==
             "/system.slice/docker-abc.scope");
  BOOST_TEST(fake.command() == "start-scope\n");
  BOOST_TEST(fake.request() ==
             "{\"unit\":\"docker-abc.scope\",\"timeoutMs\":2000,\"slice\":\"system.slice\","
             "\"description\":\"agentrun container abc\",\"pid\":123,\"properties\":["
             "{\"name\":\"MemoryMax\",\"type\":\"t\",\"value\":1048576},"
             "{\"name\":\"IODeviceWeight\",\"type\":\"a(st)\",\"value\":[[\"/dev/block/8:0\",5]]},"
             "{\"name\":\"CPUWeight\",\"type\":\"t\",\"value\":0},"
             "{\"name\":\"Nice\",\"type\":\"i\",\"value\":-5},"
             "{\"name\":\"Delegate\",\"type\":\"b\",\"value\":true}]}");
}

BOOST_AUTO_TEST_CASE(the_other_commands) {
  FakeHelper fake("echo '{\"ok\":true,\"version\":\"252.22-1~deb12u1\"}'");
  SystemdClient client(fake.path);
  BOOST_TEST(client.probe(1000ms) == "252.22-1~deb12u1");
  BOOST_TEST(fake.command() == "probe\n");
  BOOST_TEST(fake.request() == "{\"timeoutMs\":1000}");
  client.stop_unit("a.scope", 1000ms);
  BOOST_TEST(fake.command() == "stop-unit\n");
  BOOST_TEST(fake.request() == "{\"unit\":\"a.scope\",\"timeoutMs\":1000}");
  client.set_properties("a.scope", {{"TasksMax", "t", {uint64_t{7}}}}, 1000ms);
  BOOST_TEST(fake.command() == "set-properties\n");
  BOOST_TEST(fake.request() ==
             "{\"unit\":\"a.scope\",\"timeoutMs\":1000,\"properties\":[{\"name\":\"TasksMax\",\"type\":\"t\",\"value\":7}]}");
}

BOOST_AUTO_TEST_CASE(unit_info_reads_values) {
  FakeHelper fake(
      "echo '{\"ok\":true,\"loaded\":true,\"activeState\":\"active\",\"controlGroup\":\"/a.slice/b.scope\","
      "\"values\":{\"MemoryMax\":18446744073709551615,\"Nice\":-1,\"DeviceAllow\":[[\"/dev/null\",\"rw\"]],\"Delegate\":true}}'");
  const UnitInfo info = SystemdClient(fake.path).unit_info("b.scope", {"MemoryMax", "Nice", "DeviceAllow", "Delegate"});
  BOOST_TEST(fake.request() ==
             "{\"unit\":\"b.scope\",\"timeoutMs\":30000,\"properties\":[\"MemoryMax\",\"Nice\",\"DeviceAllow\",\"Delegate\"]}");
  BOOST_TEST(info.loaded);
  BOOST_TEST(info.active_state == "active");
  BOOST_TEST(info.control_group == "/a.slice/b.scope");
  BOOST_TEST((info.values.at("MemoryMax") == PropertyValue{kSystemdInfinity}));
  BOOST_TEST((info.values.at("Nice") == PropertyValue{int64_t{-1}}));
  BOOST_TEST((info.values.at("Delegate") == PropertyValue{true}));
  const std::vector<PropertyValue> entry = {{std::string("/dev/null")}, {std::string("rw")}};
  BOOST_TEST((info.values.at("DeviceAllow") == PropertyValue{std::vector<PropertyValue>{{entry}}}));

  FakeHelper gone("echo '{\"ok\":true,\"loaded\":false}'");
  BOOST_TEST(!SystemdClient(gone.path).unit_info("b.scope").loaded);
}

BOOST_AUTO_TEST_CASE(an_error_reply_is_a_failure) {
  FakeHelper fake(
      "echo '{\"ok\":false,\"error\":\"start a.scope: Unit a.scope already exists.\",\"errno\":17,"
      "\"name\":\"org.freedesktop.systemd1.UnitExists\"}'; exit 1");
  SystemdClient client(fake.path);
  expect_failure([&] { client.start_scope("a.scope", "system.slice", "d", 1, {}, 1000ms); },
                 "--systemd-cgroup: start a.scope: Unit a.scope already exists. "
                 "(org.freedesktop.systemd1.UnitExists): file exists");
  FakeHelper plain("echo '{\"ok\":false,\"error\":\"connect to the system bus at x: No such file or directory\",\"errno\":2,\"name\":\"\"}'; exit 1");
  expect_failure([&] { SystemdClient(plain.path).probe(); },
                 "--systemd-cgroup: connect to the system bus at x: No such file or directory: no such file or directory");
}

BOOST_AUTO_TEST_CASE(garbage_is_not_a_reply) {
  const auto refused = [](const std::string& body, const std::string& why) {
    FakeHelper fake(body);
    expect_failure([&] { SystemdClient(fake.path).probe(1000ms); },
                   "--systemd-cgroup: agentrun-systemd probe (" + fake.path + "): " + why);
  };
  refused("echo hello", "exit status 0 without a reply, output: hello\n");
  refused("echo '{\"ok\":true}'; exit 3", "exit status 3 without a reply, output: {\"ok\":true}\n");
  refused("echo '{\"ok\":true}'; exit 1", "exit status 1 with a reply that says otherwise: {\"ok\":true}\n");
  refused("echo '{\"ok\":true}'", "its reply has no \"version\"");
  refused("head -c 1100000 /dev/zero | tr '\\\\0' a", "its reply is larger than 1 MiB");
}

BOOST_AUTO_TEST_CASE(a_helper_that_hangs_is_killed) {
  // exec: the script's pid is the sleeping process.
  FakeHelper fake("echo $$ > " + std::string("\"$(dirname \"$0\")/pid\"") + "; exec sleep 100");
  const auto start = std::chrono::steady_clock::now();
  expect_failure([&] { SystemdClient(fake.path).stop_unit("a.scope", 100ms); },
                 "--systemd-cgroup: agentrun-systemd stop-unit (" + fake.path + "): timed out");
  BOOST_TEST((std::chrono::steady_clock::now() - start < 5s));
  const pid_t pid = std::atoi(read_file(fake.dir.path + "/pid").c_str());
  BOOST_TEST_REQUIRE(pid > 0);
  // Killed and reaped: no such process any more.
  BOOST_TEST((::kill(pid, 0) < 0 && errno == ESRCH));
}

BOOST_AUTO_TEST_CASE(a_helper_that_dies) {
  FakeHelper fake("echo partial; kill -9 $$");
  expect_failure([&] { SystemdClient(fake.path).probe(1000ms); },
                 "--systemd-cgroup: agentrun-systemd probe (" + fake.path + "): killed by signal KILL without a reply, output: partial\n");
  FakeHelper missing("");
  ::unlink(missing.path.c_str());
  expect_failure([&] { SystemdClient(missing.path).probe(1000ms); },
                 "--systemd-cgroup: agentrun-systemd probe (" + missing.path +
                     "): exit status 127 without a reply, output: cannot execute: no such file or directory");
}

BOOST_AUTO_TEST_CASE(finding_the_helper) {
  FakeHelper fake("true");
  {
    ScopedEnv chosen("AGENTRUN_SYSTEMD_HELPER", fake.path);
    BOOST_TEST(find_systemd_helper() == fake.path);
  }
  {
    ScopedEnv chosen("AGENTRUN_SYSTEMD_HELPER", fake.dir.path + "/nothing");
    expect_failure([] { find_systemd_helper(); },
                   "--systemd-cgroup: AGENTRUN_SYSTEMD_HELPER=" + fake.dir.path + "/nothing is not an executable file");
  }
  {
    // Next to the installed runtime, which a re-executed copy learns from the environment.
    ScopedEnv installed("AGENTRUN_INSTALLED_BINARY", fake.dir.path + "/agentrun");
    BOOST_TEST(find_systemd_helper() == fake.path);
    BOOST_TEST(SystemdClient().helper() == fake.path);
  }
  TempDir empty("systemd-client-empty");
  ScopedEnv installed("AGENTRUN_INSTALLED_BINARY", empty.path + "/agentrun");
  if (exists("/usr/local/libexec/agentrun/agentrun-systemd") || exists("/usr/libexec/agentrun/agentrun-systemd")) return;
  expect_failure([] { find_systemd_helper(); },
                 "--systemd-cgroup: the helper agentrun-systemd was not found (looked in " + empty.path +
                     "/agentrun-systemd, /usr/local/libexec/agentrun/agentrun-systemd, "
                     "/usr/libexec/agentrun/agentrun-systemd)");
}

BOOST_AUTO_TEST_CASE(version_numbers) {
  BOOST_TEST(systemd_version_number("252.22-1~deb12u1") == 252);
  BOOST_TEST(systemd_version_number("v245.4-1.fc32") == 245);
  BOOST_TEST(systemd_version_number("\"245\"") == 245);
  BOOST_TEST(systemd_version_number("257") == 257);
  BOOST_TEST(systemd_version_number("") == -1);
  BOOST_TEST(systemd_version_number("abc") == -1);
}
