// exec: a new process in a running container, confined like its first one.
#include <boost/test/unit_test.hpp>

#include <signal.h>
#include <unistd.h>

#include <future>
#include <thread>

#include "support/console.hpp"
#include "support/harness.hpp"
#include "support/needs.hpp"
#include "support/wait.hpp"

using test::Sandbox;

namespace {

// A running container whose first process sleeps; seccomp denies mkdir with ENOSYS.
void start_sleeper(const Sandbox& s, const std::string& id, bool user_namespace = false) {
  auto cfg = test::base_config({"sleep", "60"});
  test::set_json(cfg, "/linux/seccomp", R"({"defaultAction": "SCMP_ACT_ALLOW",
      "syscalls": [{"names": ["mkdir", "mkdirat"], "action": "SCMP_ACT_ERRNO", "errnoRet": 38}]})");
  if (user_namespace) {
    test::run_process({"/bin/chown", "-R", "100000:100000", s.rootfs});
    cfg["linux"]["namespaces"].PushBack(
        rapidjson::Value(rapidjson::kObjectType).AddMember("type", "user", cfg.GetAllocator()), cfg.GetAllocator());
    test::set_json(cfg, "/linux/uidMappings", R"([{"containerID": 0, "hostID": 100000, "size": 65536}])");
    test::set_json(cfg, "/linux/gidMappings", R"([{"containerID": 0, "hostID": 100000, "size": 65536}])");
  }
  s.write_config(cfg);
  auto o = s.agentrun({"run", "-d", "--bundle", s.bundle, "--pid-file", s.dir + "/" + id + ".pid", id});
  BOOST_TEST_REQUIRE(o.code == 0, o.err);
}

std::string init_ns(const Sandbox& s, const std::string& id, const char* ns) {
  const std::string pid = test::read_file(s.dir + "/" + id + ".pid");
  char buf[128] = {};
  BOOST_TEST_REQUIRE(::readlink(("/proc/" + pid + "/ns/" + ns).c_str(), buf, sizeof buf - 1) > 0);
  return buf;
}

}  // namespace

BOOST_AUTO_TEST_CASE(exec_joins_every_namespace_and_is_confined) {
  Sandbox s;
  start_sleeper(s, "e");
  auto o = s.agentrun({"exec", "e", "sh", "-c",
                       "for n in pid net ipc uts mnt cgroup; do readlink /proc/self/ns/$n; done;"
                       "grep -E '^(CapEff|NoNewPrivs|Seccomp):' /proc/self/status; mkdir /dev/shm/x 2>&1; hostname"});
  BOOST_TEST_REQUIRE(o.code == 0, o.err);
  std::string expected;
  for (const char* n : {"pid", "net", "ipc", "uts", "mnt", "cgroup"}) expected += init_ns(s, "e", n) + "\n";
  BOOST_TEST(o.out.rfind(expected, 0) == 0, o.out);
  BOOST_TEST(o.out.find("CapEff:\t0000000020000420\nNoNewPrivs:\t1\nSeccomp:\t2\n") != std::string::npos, o.out);
  BOOST_TEST(o.out.find("Function not implemented") != std::string::npos, o.out);
  BOOST_TEST(o.out.find("agentrun\n") != std::string::npos, o.out);
}

BOOST_AUTO_TEST_CASE(exec_flags_as_runc) {
  Sandbox s;
  start_sleeper(s, "f");
  auto o = s.agentrun({"exec", "-u", "1000:1000", "-g", "27", "-e", "FOO=bar", "--env=PATH=/bin", "--cwd", "/tmp",
                       "--cap", "CAP_SYS_TIME", "f", "sh", "-c", "id -u; id -G; pwd; echo $FOO $PATH; grep CapBnd /proc/self/status; exit 3"});
  BOOST_TEST(o.code == 3, o.err);
  BOOST_TEST(o.out == "1000\n1000 27\n/tmp\nbar /bin\nCapBnd:\t0000000022000420\n", o.out);
  auto missing = s.agentrun({"exec", "f", "nosuch"});
  BOOST_TEST(missing.code == 1);
  BOOST_TEST(missing.err.find("exec: \"nosuch\": executable file not found in $PATH") != std::string::npos, missing.err);
  auto bad_cap = s.agentrun({"exec", "--cap", "CAP_BOGUS", "f", "true"});
  BOOST_TEST(bad_cap.code == 1);
  BOOST_TEST(bad_cap.err.find("--cap \"CAP_BOGUS\": unknown capability") != std::string::npos, bad_cap.err);
  auto none = s.agentrun({"exec", "f"});
  BOOST_TEST(none.code == 1);
}

// A working directory through a magic link (a descriptor the exec'd process
// holds, /proc/self/fd/N, could lead out of the container's root: runc's
// CVE-2024-21626) is refused before anything runs; ".." and symlinks stay
// inside the root, as for process.cwd.
BOOST_AUTO_TEST_CASE(exec_cwd_stays_inside_the_root) {
  Sandbox s;
  start_sleeper(s, "cwd");
  for (const std::string cwd : {"/proc/self/fd/0", "/proc/self/fd/3", "/proc/self/cwd", "/proc/1/root/tmp"}) {
    auto o = s.agentrun({"exec", "--cwd", cwd, "cwd", "sh", "-c", "echo ran in $(pwd -P)"});
    BOOST_TEST(o.code == 1, cwd << ": " << o.out);
    BOOST_TEST(o.out.empty(), cwd << ": " << o.out);
    BOOST_TEST(o.err.find("exec --cwd " + cwd + ": it leads through a magic link") != std::string::npos, o.err);
  }
  ::symlink("/../../..", (s.rootfs + "/up").c_str());
  auto o = s.agentrun({"exec", "--cwd", "/tmp/../../up/tmp", "cwd", "sh", "-c", "pwd -P"});
  BOOST_TEST(o.code == 0, o.err);
  BOOST_TEST(o.out == "/tmp\n", o.out);
}

BOOST_AUTO_TEST_CASE(exec_with_a_process_file_and_detached) {
  Sandbox s;
  start_sleeper(s, "p");
  const std::string process = s.dir + "/process.json";
  { std::FILE* f = std::fopen(process.c_str(), "w");
    std::fputs(R"({"user": {"uid": 0, "gid": 0}, "cwd": "/", "args": ["sh", "-c", "echo from-process-json > /dev/shm/out; sleep 30"],
                  "env": ["PATH=/bin"]})", f);
    std::fclose(f); }
  auto d = s.agentrun({"exec", "-d", "--pid-file", s.dir + "/exec.pid", "--process", process, "p"});
  BOOST_TEST_REQUIRE(d.code == 0, d.err);
  const std::string pid = test::read_file(s.dir + "/exec.pid");
  // The pid is the process's: sh, which becomes sleep once it has written the file.
  test::wait_for([&] { return test::read_file("/proc/" + pid + "/comm") == "sleep\n"; }, std::chrono::seconds(10),
                 "the exec'd process to become sleep");
  auto seen = s.agentrun({"exec", "p", "cat", "/dev/shm/out"});
  BOOST_TEST(seen.out == "from-process-json\n", seen.err);
}

BOOST_AUTO_TEST_CASE(exec_into_a_user_namespace, *test::needs(test::host::user_namespaces)) {
  Sandbox s;
  start_sleeper(s, "u", true);
  auto o = s.agentrun({"exec", "u", "sh", "-c", "id -u; cat /proc/self/uid_map; readlink /proc/self/ns/user"});
  BOOST_TEST_REQUIRE(o.code == 0, o.err);
  BOOST_TEST(o.out == "0\n         0     100000      65536\n" + init_ns(s, "u", "user") + "\n", o.out);
}

BOOST_AUTO_TEST_CASE(exec_in_a_stopped_container_fails) {
  Sandbox s;
  s.write_config(test::base_config({"true"}));
  BOOST_TEST_REQUIRE(s.agentrun({"run", "--keep", "--bundle", s.bundle, "st"}).code == 0);
  auto o = s.agentrun({"exec", "st", "true"});
  BOOST_TEST(o.code == 1);
  BOOST_TEST(o.err.find("it is stopped") != std::string::npos, o.err);
  auto missing = s.agentrun({"exec", "nosuch", "true"});
  BOOST_TEST(missing.code == 1);
  BOOST_TEST(missing.err.find("does not exist") != std::string::npos, missing.err);
}

// exec loads what create decided (plan.json): without it (a container
// created before there was one) or with one of another version, exec is
// refused, naming the file, and the container is left as it was.
BOOST_AUTO_TEST_CASE(exec_refuses_a_container_without_a_plan_of_this_version) {
  Sandbox s;
  start_sleeper(s, "old");
  const std::string plan = s.root + "/old/plan.json";
  const std::string stored = test::read_file(plan);
  BOOST_TEST_REQUIRE(stored.rfind(R"({"agentrunPlan":1,)", 0) == 0, stored);
  BOOST_TEST_REQUIRE(::unlink(plan.c_str()) == 0);
  auto missing = s.agentrun({"exec", "old", "true"});
  BOOST_TEST(missing.code == 1);
  BOOST_TEST(missing.err.find(plan + ": missing: container old was created by an agentrun that did not store its "
                              "plan for exec; recreate it") != std::string::npos, missing.err);
  test::put_file(plan, R"({"agentrunPlan":2})");
  auto newer = s.agentrun({"exec", "old", "true"});
  BOOST_TEST(newer.code == 1);
  BOOST_TEST(newer.err.find(plan + ": not a plan this agentrun reads (version 1, not 2)") != std::string::npos, newer.err);
  test::put_file(plan, stored);
  BOOST_TEST(s.agentrun({"exec", "old", "true"}).code == 0);
}

BOOST_AUTO_TEST_CASE(exec_tty_through_a_console_socket) {
  Sandbox s;
  start_sleeper(s, "t");
  const std::string sock = s.dir + "/console.sock";
  int listener = test::listen_at(sock);
  auto exec = std::async(std::launch::async, [&] {
    return s.agentrun({"exec", "-t", "--console-socket", sock, "t", "sh", "-c", "tty; echo done; sleep 1"});
  });
  int master = test::receive_fd(listener);
  BOOST_TEST_REQUIRE(master >= 0);
  const std::string out = test::read_until(master, "done");
  BOOST_TEST(out.find("/dev/pts/") != std::string::npos, out);
  BOOST_TEST(exec.get().code == 0);
  ::close(master);
  ::close(listener);
}

BOOST_AUTO_TEST_CASE(exec_in_the_foreground_forwards_signals) {
  Sandbox s;
  start_sleeper(s, "sig");
  // Once the exec'd shell has set its trap (it creates /dev/shm/trapped, seen
  // from the host through the container's root), SIGTERM goes to `agentrun exec`.
  const std::string trapped = "/proc/" + std::to_string(s.pid_of("sig")) + "/root/dev/shm/trapped";
  std::string killer_error;
  std::thread killer([&] {
    if (!test::poll_until([&] { return test::file_exists(trapped); }, std::chrono::seconds(10))) {
      killer_error = "the exec'd shell did not set its trap within 10 s";
      return;
    }
    const auto pids = test::processes_running("--root " + s.root + " --policy oci exec sig");
    if (pids.size() != 1) killer_error = std::to_string(pids.size()) + " agentrun exec processes";
    else ::kill(pids.front(), SIGTERM);
  });
  auto o = s.agentrun({"exec", "sig", "sh", "-c",
                       "trap 'echo got TERM; exit 3' TERM; echo ready; touch /dev/shm/trapped; while :; do sleep 0.1; done"});
  killer.join();
  BOOST_TEST(killer_error.empty(), killer_error);
  BOOST_TEST(o.code == 3, o.err);
  BOOST_TEST(o.out == "ready\ngot TERM\n");
}
