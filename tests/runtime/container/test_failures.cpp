// Fail closed: after a failed step the user's process never runs, the
// error names the step, and nothing is left behind.
#include <boost/test/unit_test.hpp>

#include <sys/stat.h>
#include <unistd.h>

#include "support/harness.hpp"
#include "support/wait.hpp"
#include "support/needs.hpp"

using test::Sandbox;

namespace {

// The user's process would leave this marker in the bundle if it ever ran.
rapidjson::Document marking_config(const Sandbox& s) {
  auto cfg = test::base_config({"sh", "-c", "echo ran > /marker/ran"});
  test::set_json(cfg, "/mounts/-", R"({"destination": "/marker", "type": "bind", "source": ")" + s.dir +
                                       R"(/marker", "options": ["rbind", "rw"]})");
  return cfg;
}

void prepare_marker(const Sandbox& s) { BOOST_TEST_REQUIRE(::mkdir((s.dir + "/marker").c_str(), 0755) == 0); }

// Runs, expects failure with `message` in stderr, no marker and no leftovers.
void expect_refused(const Sandbox& s, const rapidjson::Document& cfg, const std::string& message,
                    const std::vector<std::string>& extra = {}) {
  s.write_config(cfg);
  std::vector<std::string> args = {"run"};
  args.insert(args.end(), extra.begin(), extra.end());
  args.insert(args.end(), {"--bundle", s.bundle, "f"});
  auto o = s.agentrun(args);
  BOOST_TEST(o.code != 0);
  BOOST_TEST(o.err.find(message) != std::string::npos, "expected \"" << message << "\" in: " << o.err);
  BOOST_TEST(!test::file_exists(s.dir + "/marker/ran"), "the user's process ran");
  auto left = s.leftovers();
  BOOST_TEST(left.empty(), (left.empty() ? "" : left.front()));
}

}  // namespace

BOOST_AUTO_TEST_CASE(the_marker_proves_a_run) {
  Sandbox s;
  prepare_marker(s);
  s.write_config(marking_config(s));
  BOOST_TEST(s.agentrun({"run", "--bundle", s.bundle, "ok"}).code == 0);
  BOOST_TEST(test::read_file(s.dir + "/marker/ran") == "ran\n");
}

BOOST_AUTO_TEST_CASE(bad_config_values_name_the_field) {
  Sandbox s;
  prepare_marker(s);
  auto cfg = marking_config(s);
  test::set_json(cfg, "/linux/namespaces/1/type", R"("bogus")");
  expect_refused(s, cfg, "config.json: linux.namespaces[1].type: unknown namespace \"bogus\"");

  s.write_config_text("{\"ociVersion\": \"1.2.0\",\n  \"root\": {\"path\": \"rootfs\"},,}");
  auto o = s.agentrun({"create", "--bundle", s.bundle, "f"});
  BOOST_TEST(o.code == 1);
  BOOST_TEST(o.err.find("config.json: line 2, column") != std::string::npos, o.err);
  BOOST_TEST(s.leftovers().empty());
}

BOOST_AUTO_TEST_CASE(a_failing_mount_stops_the_container) {
  Sandbox s;
  prepare_marker(s);
  auto cfg = marking_config(s);
  test::set_json(cfg, "/mounts/-", R"({"destination": "/missing", "type": "bind", "source": "/no/such/dir", "options": ["bind"]})");
  expect_refused(s, cfg, "/no/such/dir");
  expect_refused(s, cfg, "no such file or directory");

  auto bad_fs = marking_config(s);
  test::set_json(bad_fs, "/mounts/-", R"({"destination": "/t", "type": "tmpfs", "source": "tmpfs", "options": ["mode=bogus"]})");
  expect_refused(s, bad_fs, "/t");
}

// What runc and crun pass over (security labels without the LSM, net_cls
// without its hierarchy) is in test_host_gaps.cpp.
BOOST_AUTO_TEST_CASE(host_sysctls_are_refused) {
  Sandbox s;
  prepare_marker(s);
  auto host_sysctl = marking_config(s);
  test::set_json(host_sysctl, "/linux/sysctl", R"({"vm.swappiness": "10"})");
  expect_refused(s, host_sysctl, "vm.swappiness");
}

BOOST_AUTO_TEST_CASE(missing_and_non_executable_programs_fail_with_runc_wording) {
  Sandbox s;
  s.write_config(test::base_config({"no-such-program"}));
  auto missing = s.agentrun({"run", "--bundle", s.bundle, "m"});
  BOOST_TEST(missing.code == 1);  // as runc: docker maps the wording to 127
  BOOST_TEST(missing.err.find("exec: \"no-such-program\": executable file not found in $PATH") != std::string::npos,
             missing.err);
  BOOST_TEST(s.leftovers().empty());

  { std::FILE* f = std::fopen((s.rootfs + "/notexec").c_str(), "w"); std::fputs("#!/bin/sh\n", f); std::fclose(f); }
  s.write_config(test::base_config({"/notexec"}));
  auto denied = s.agentrun({"run", "--bundle", s.bundle, "n"});
  BOOST_TEST(denied.code == 1);  // docker maps the wording to 126
  BOOST_TEST(denied.err.find("permission denied") != std::string::npos, denied.err);
  BOOST_TEST(s.leftovers().empty());

  // With create + start, the failure is reported by create, before any start.
  auto created = s.agentrun({"create", "--bundle", s.bundle, "n2"});
  BOOST_TEST(created.code == 1);
  BOOST_TEST(s.leftovers().empty());

  // A program the kernel cannot execute fails at execve itself, after
  // `run` told the init to start: its error still comes back.
  { std::FILE* f = std::fopen((s.rootfs + "/garbage").c_str(), "w"); std::fputs("\x7f" "ELF?", f); std::fclose(f); }
  BOOST_TEST_REQUIRE(::chmod((s.rootfs + "/garbage").c_str(), 0755) == 0);
  s.write_config(test::base_config({"/garbage"}));
  auto unrunnable = s.agentrun({"run", "--bundle", s.bundle, "g"});
  BOOST_TEST(unrunnable.code == 1);
  BOOST_TEST(unrunnable.err.find("exec /garbage: exec format error") != std::string::npos, unrunnable.err);
  BOOST_TEST(s.leftovers().empty());
}

BOOST_AUTO_TEST_CASE(symlinked_proc_is_refused) {
  Sandbox s;
  prepare_marker(s);
  BOOST_TEST_REQUIRE(::rmdir((s.rootfs + "/proc").c_str()) == 0);
  BOOST_TEST_REQUIRE(::symlink("/", (s.rootfs + "/proc").c_str()) == 0);
  expect_refused(s, marking_config(s), "/proc");
}

BOOST_AUTO_TEST_CASE(mount_targets_cannot_escape_the_rootfs) {
  Sandbox s;
  prepare_marker(s);
  // /escape -> ../../.. : the mount must land inside the rootfs, never on the host.
  const std::string outside = s.dir + "/outside";
  BOOST_TEST_REQUIRE(::mkdir(outside.c_str(), 0755) == 0);
  BOOST_TEST_REQUIRE(::symlink((outside).c_str(), (s.rootfs + "/escape").c_str()) == 0);
  auto cfg = marking_config(s);
  test::set_json(cfg, "/mounts/-", R"({"destination": "/escape", "type": "tmpfs", "source": "tmpfs"})");
  s.write_config(cfg);
  auto o = s.agentrun({"run", "--bundle", s.bundle, "esc"});
  BOOST_TEST(o.code == 0, o.err);
  BOOST_TEST(test::read_file("/proc/self/mountinfo").find(outside) == std::string::npos);
  BOOST_TEST(s.leftovers().empty());
}

BOOST_AUTO_TEST_CASE(failing_hooks_stop_the_container) {
  Sandbox s;
  prepare_marker(s);
  for (const char* kind : {"prestart", "createRuntime", "createContainer", "startContainer"}) {
    auto cfg = marking_config(s);
    test::set_json(cfg, (std::string("/hooks/") + kind).c_str(),
                   R"([{"path": "/bin/sh", "args": ["sh", "-c", "echo hook says no >&2; exit 3"]}])");
    expect_refused(s, cfg, std::string(kind) + " hook #0 (/bin/sh): exit status 3");
    expect_refused(s, cfg, "hook says no");
  }
}

BOOST_AUTO_TEST_CASE(a_killed_init_is_reported) {
  Sandbox s;
  prepare_marker(s);
  // The createRuntime hook kills the init it is told about.
  auto cfg = marking_config(s);
  test::set_json(cfg, "/hooks/createRuntime",
                 R"([{"path": "/bin/sh", "args": ["sh", "-c", "pid=$(sed -n 's/.*\"pid\":\\([0-9]*\\).*/\\1/p'); kill -9 $pid"]}])");
  expect_refused(s, cfg, "its init was killed by signal KILL");
}

BOOST_AUTO_TEST_CASE(a_bad_pid_file_leaves_nothing) {
  Sandbox s;
  prepare_marker(s);
  s.write_config(marking_config(s));
  auto o = s.agentrun({"create", "--bundle", s.bundle, "--pid-file", s.dir + "/no/such/dir/pid", "p"});
  BOOST_TEST(o.code == 1);
  BOOST_TEST(o.err.find("write pid file") != std::string::npos, o.err);
  BOOST_TEST(s.leftovers().empty());
}

BOOST_AUTO_TEST_CASE(preserve_fds_must_be_open) {
  Sandbox s;
  s.write_config(test::base_config({"true"}));
  auto o = s.agentrun({"run", "--preserve-fds", "40", "--bundle", s.bundle, "x"});
  BOOST_TEST(o.code == 1);
  BOOST_TEST(o.err.find("is not open") != std::string::npos, o.err);
  BOOST_TEST(s.leftovers().empty());
}

BOOST_AUTO_TEST_CASE(terminal_without_console_socket_when_detached) {
  Sandbox s;
  auto cfg = test::base_config({"true"});
  test::set_json(cfg, "/process/terminal", "true");
  s.write_config(cfg);
  auto o = s.agentrun({"create", "--bundle", s.bundle, "x"});
  BOOST_TEST(o.code == 1);
  BOOST_TEST(o.err.find("--console-socket") != std::string::npos, o.err);
  BOOST_TEST(s.leftovers().empty());
}

// Without CAP_SYS_ADMIN the host refuses the namespaces: the clone straight
// into them fails, and the two-stage path says which one and why.
BOOST_AUTO_TEST_CASE(refused_namespaces_are_named_with_the_cause, *test::needs_tool("setpriv")) {
  Sandbox s;
  prepare_marker(s);
  s.write_config(marking_config(s));
  auto o = s.command({test::host::tool("setpriv").reason, "--bounding-set", "-sys_admin", "--inh-caps", "-sys_admin",
                              AGENTRUN_BINARY, "--root", s.root, "run", "--bundle", s.bundle, "f"});
  BOOST_TEST(o.code != 0);
  BOOST_TEST(o.err.find("create namespaces: creating a pid namespace failed with EPERM (operation not permitted): "
                        "agentrun lacks CAP_SYS_ADMIN") != std::string::npos,
             o.err);
  BOOST_TEST(!test::file_exists(s.dir + "/marker/ran"), "the user's process ran");
  auto left = s.leftovers();
  BOOST_TEST(left.empty(), (left.empty() ? "" : left.front()));
}

// create killed at any moment (SIGKILL every quarter of a millisecond up to
// 15 ms, then up to 40 ms: through every step from the state directory to
// the init waiting for start): delete --force frees whatever it had acquired
// (cgroups, the init, the state directory), and nothing is left behind.
BOOST_AUTO_TEST_CASE(a_create_killed_at_any_moment_leaves_nothing_after_delete, *test::needs_tool("timeout")) {
  Sandbox s;
  s.write_config(test::base_config({"sleep", "60"}));
  for (int us = 250; us <= 40000; us += us < 15000 ? 250 : 5000) {
    BOOST_TEST_CONTEXT("killed after " << us << " us") {
      char delay[16];
      std::snprintf(delay, sizeof delay, "0.%06d", us);
      s.command({"/usr/bin/timeout", "-s", "KILL", delay, AGENTRUN_BINARY, "--root", s.root, "create", "--bundle",
                 s.bundle, "k"});
      auto d = s.agentrun({"delete", "--force", "k"});
      BOOST_TEST(d.code == 0, d.err);
      // A process the killed create had only just started (stage 1, or the
      // init before it joined its cgroups) exits by itself once it finds its
      // runtime gone: it gets a moment to.
      std::vector<std::string> left;
      test::poll_until([&] { return (left = s.leftovers()).empty(); }, std::chrono::milliseconds(2000));
      BOOST_TEST(left.empty(), (left.empty() ? "" : left.front()));
      if (!left.empty()) break;
    }
  }
}
