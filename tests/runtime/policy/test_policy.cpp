// The agent policy, as the contained process sees it: a static probe tries
// every escape of threats.md section 2 from inside, and the runtime's
// refusals and warnings are checked from outside.
#include <boost/test/unit_test.hpp>

#include <sys/stat.h>
#include <unistd.h>

#include <rapidjson/document.h>

#include <map>
#include <set>
#include <sstream>

#include "support/cgroup_files.hpp"
#include "support/harness.hpp"
#include "support/needs.hpp"

using test::Sandbox;

namespace {

void write(const std::string& path, const std::string& text) {
  std::FILE* f = std::fopen(path.c_str(), "w");
  BOOST_TEST_REQUIRE(f != nullptr, path);
  std::fputs(text.c_str(), f);
  std::fclose(f);
}

void mkdirs(const std::string& path) {
  std::string partial;
  std::istringstream parts(path);
  for (std::string part; std::getline(parts, part, '/');) {
    if (part.empty()) continue;
    partial += "/" + part;
    ::mkdir(partial.c_str(), 0755);
  }
}

// An agent's container: the probe in /usr/bin, secrets where agents find
// them, a workspace bound from the host, wget as a busybox applet.
rapidjson::Document agent_bundle(const Sandbox& s, const std::vector<std::string>& args = {"/usr/bin/agent-probe"}) {
  mkdirs(s.rootfs + "/usr/bin");
  test::run_process({"/bin/cp", AGENT_PROBE_BINARY, s.rootfs + "/usr/bin/agent-probe"});
  mkdirs(s.rootfs + "/root/.ssh");
  write(s.rootfs + "/root/.ssh/id_rsa", "PRIVATE KEY\n");
  mkdirs(s.rootfs + "/var/run/secrets/kubernetes.io/serviceaccount");
  write(s.rootfs + "/var/run/secrets/kubernetes.io/serviceaccount/token", "TOKEN\n");
  ::symlink("busybox", (s.rootfs + "/bin/wget").c_str());
  mkdirs(s.dir + "/workspace");
  write(s.dir + "/workspace/notes.txt", "notes\n");
  write(s.dir + "/workspace/.env", "SECRET=1\n");
  mkdirs(s.rootfs + "/workspace");
  mkdirs(s.dir + "/data");
  write(s.dir + "/data/file", "data\n");
  mkdirs(s.rootfs + "/data");
  auto cfg = test::base_config(args);
  test::set_json(cfg, "/mounts/-", R"({"destination": "/workspace", "type": "bind", "source": ")" + s.dir +
                                       R"(/workspace", "options": ["rbind", "rw"]})");
  test::set_json(cfg, "/mounts/-", R"({"destination": "/data", "type": "bind", "source": ")" + s.dir +
                                       R"(/data", "options": ["rbind", "rw"]})");
  test::set_string(cfg, "/process/cwd", "/workspace");
  return cfg;
}


void expect(const std::map<std::string, std::string>& seen, const std::string& check, std::set<std::string> allowed) {
  auto it = seen.find(check);
  BOOST_TEST_REQUIRE((it != seen.end()), check << " was not reported");
  BOOST_TEST(allowed.count(it->second) == 1u, check << "=" << it->second);
}

// What agent-default must give: each escape refused with the expected errno,
// the agent's own work still possible.
void expect_agent_default(const std::map<std::string, std::string>& r) {
  expect(r, "read_ssh_key", {"ENOENT"});
  expect(r, "read_workspace_env", {"ENODATA"});
  expect(r, "read_workspace_file", {"ok"});
  expect(r, "read_kube_token", {"ENOENT"});
  expect(r, "see_runtime_state", {"ENOENT"});
  expect(r, "write_root", {"EROFS"});
  expect(r, "write_tmp", {"ok"});
  expect(r, "write_workspace", {"ok"});
  expect(r, "write_proc_sys", {"EROFS", "EACCES"});
  expect(r, "write_sysrq", {"EROFS", "EACCES", "ENOENT"});  // ENOENT: a kernel without magic SysRq
  // Landlock (ABI 3 on) or, below it, the landlock-truncate filter.
  const char* refused = test::host::landlock_abi() >= 3 ? "EACCES" : "EPERM";
  expect(r, "truncate_volume_file", {refused});
  expect(r, "open_trunc_volume_file", {refused});
  expect(r, "mknod", {"EPERM", "EACCES"});
  expect(r, "exec_sh", {"ok"});
  for (const char* where : {"exec_copy_in_tmp", "exec_copy_in_workspace", "exec_copy_in_shm"}) expect(r, where, {"EACCES"});
  expect(r, "exec_blocked_wget", {"EACCES"});
  expect(r, "exec_tmpfile_through_proc", {"EACCES"});
  expect(r, "personality_read_implies_exec", {"EPERM"});
  expect(r, "write_sys", {"EROFS", "EACCES"});
  expect(r, "write_cgroup_release_agent", {"ENOENT", "EROFS", "EACCES"});
  for (const char* call : {"memfd_create", "execveat_empty_path", "ptrace_traceme", "process_vm_readv", "pidfd_getfd",
                           "unshare_user", "unshare_mount", "setns", "seccomp_filter", "prctl_seccomp", "mount",
                           "open_tree", "bpf", "io_uring_setup", "userfaultfd", "perf_event_open", "keyctl",
                           "open_by_handle_at", "ioctl_tiocsti", "socket_packet", "socket_alg", "socket_vsock"})
    expect(r, call, {"EPERM"});
  expect(r, "clone3", {"ENOSYS"});
}

// The probe's report under a policy: run as the container's process, or by exec into a running one.
std::map<std::string, std::string> probe_under(const std::string& policy, bool by_exec) {
  Sandbox s;
  s.policy = policy;
  auto cfg = agent_bundle(s, by_exec ? std::vector<std::string>{"sleep", "60"}
                                     : std::vector<std::string>{"/usr/bin/agent-probe"});
  if (policy == "oci") test::set_json(cfg, "/root/readonly", "false");
  if (!by_exec) return test::probe_results(s.run(cfg, "abi").out);
  s.write_config(cfg);
  BOOST_TEST_REQUIRE(s.agentrun({"run", "-d", "--bundle", s.bundle, "abi"}).code == 0);
  return test::probe_results(s.agentrun({"exec", "abi", "/usr/bin/agent-probe"}).out);
}

// What agent-default requires of the host (policies/agent-default.json) beyond
// the namespaces, seccomp and no_new_privs that every supported kernel has.
// A sandbox under agent-default whose process is `sh -c script`.
struct AgentShell {
  explicit AgentShell(const std::string& script) {
    s.policy = "agent-default";
    cfg = agent_bundle(s, {"/bin/sh", "-c", script});
  }
  Sandbox s;
  rapidjson::Document cfg;
};

std::string inspect_field(const rapidjson::Value& v) {
  return v.IsString() ? v.GetString() : "";
}

}  // namespace

BOOST_AUTO_TEST_CASE(agent_default_refuses_every_escape_and_keeps_the_work_possible, *test::needs_agent_default()) {
  Sandbox s;
  s.policy = "agent-default";
  auto o = s.run(agent_bundle(s), "agent");
  BOOST_TEST_REQUIRE(o.code == 0, o.err);
  expect_agent_default(test::probe_results(o.out));
  BOOST_TEST(s.leftovers().empty());
}

// denyExec covers the entries themselves: wget (a symlink to busybox beside
// it) and nc (an absolute symlink in another PATH directory) neither run nor
// open, while busybox and the other applets of the same directory run as
// before and the symlinks stay symlinks. Kernels before 6.15 cannot clone
// from a detached mount, so the covers are clones of the host's /dev/null;
// this is what Debian 12 (6.1) and 13 (6.12) refused before.
BOOST_AUTO_TEST_CASE(blocked_names_no_longer_run_and_their_neighbours_do, *test::needs_agent_default()) {
  Sandbox s;
  s.policy = "agent-default";
  auto cfg = agent_bundle(s, {"/bin/sh", "-c",
                              "/bin/wget -q http://127.0.0.1/; echo wget=$?; /usr/bin/nc -h 2>/dev/null; echo nc=$?; "
                              "cat /bin/wget 2>/dev/null; echo read=$?; /bin/busybox true; echo busybox=$?; "
                              "/bin/echo applet=ok; echo wget-type=$(stat -c %F /bin/wget); "
                              "echo sh=$(readlink /bin/sh)"});
  ::symlink("/bin/busybox", (s.rootfs + "/usr/bin/nc").c_str());
  auto o = s.run(cfg, "blocked");
  BOOST_TEST_REQUIRE(o.code == 0, o.err);
  const std::map<std::string, std::string> seen = test::probe_results(o.out);
  for (const auto& [check, value] : std::map<std::string, std::string>{{"wget", "126"},
                                                                       {"nc", "126"},
                                                                       {"read", "1"},
                                                                       {"busybox", "0"},
                                                                       {"applet", "ok"},
                                                                       {"wget-type", "character special file"},
                                                                       {"sh", "busybox"}})
    expect(seen, check, {value});
  BOOST_TEST(s.leftovers().empty());
}

// A PATH directory reached twice: through a symlink to it (a merged /usr)
// its entries are the same mount points, covered once and reported under
// both paths; through a bind mount of it they are other mount points,
// covered again. Neither way runs wget, and busybox still runs both ways.
BOOST_AUTO_TEST_CASE(a_path_directory_reached_twice_is_covered_both_ways, *test::needs_agent_default()) {
  Sandbox s;
  s.policy = "agent-default";
  auto cfg = agent_bundle(s, {"sleep", "60"});
  mkdirs(s.rootfs + "/lib");
  BOOST_TEST_REQUIRE(::symlink("../bin", (s.rootfs + "/lib/bin").c_str()) == 0);
  mkdirs(s.rootfs + "/opt/bin");
  test::set_json(cfg, "/mounts/-", R"({"destination": "/opt/bin", "type": "bind", "source": ")" + s.rootfs +
                                       R"(/bin", "options": ["rbind", "ro"]})");
  test::set_string(cfg, "/process/env/0", "PATH=/bin:/lib/bin:/opt/bin:/usr/bin");
  s.write_config(cfg);
  BOOST_TEST_REQUIRE(s.agentrun({"run", "-d", "--bundle", s.bundle, "twice"}).code == 0);
  auto o = s.agentrun({"exec", "twice", "/bin/sh", "-c",
                       "for d in /bin /lib/bin /opt/bin; do $d/wget -q http://127.0.0.1/; echo \"$d=$?\"; "
                       "$d/busybox true; echo \"$d/busybox=$?\"; done"});
  BOOST_TEST_REQUIRE(o.code == 0, o.err);
  const std::map<std::string, std::string> seen = test::probe_results(o.out);
  for (const std::string d : {"/bin", "/lib/bin", "/opt/bin"}) {
    expect(seen, d, {"126"});
    expect(seen, d + "/busybox", {"0"});
  }
  auto i = s.agentrun({"inspect", "twice"});
  BOOST_TEST_REQUIRE(i.code == 0, i.err);
  rapidjson::Document doc;
  doc.Parse(i.out.c_str());
  BOOST_TEST_REQUIRE(!doc.HasParseError(), i.out);
  std::vector<std::string> blocked;
  for (const auto& b : doc["blockedExecutables"].GetArray()) blocked.push_back(inspect_field(b["path"]));
  BOOST_TEST(blocked == (std::vector<std::string>{"/bin/wget", "/lib/bin/wget", "/opt/bin/wget"}),
             boost::test_tools::per_element());
}

BOOST_AUTO_TEST_CASE(the_probe_sees_the_difference_under_oci) {
  // The same bundle under `oci`: what agent-default refused is now possible,
  // so the probe really observes the policy.
  Sandbox s;
  s.policy = "oci";
  auto cfg = agent_bundle(s);
  test::set_json(cfg, "/root/readonly", "false");
  auto r = test::probe_results(s.run(cfg, "plain").out);
  expect(r, "read_ssh_key", {"ok"});
  expect(r, "read_workspace_env", {"ok"});
  expect(r, "write_root", {"ok"});
  expect(r, "truncate_volume_file", {"ok"});
  expect(r, "memfd_create", {"ok"});
  expect(r, "exec_copy_in_tmp", {"ok"});
  expect(r, "clone3", {"EFAULT", "EINVAL"});
  BOOST_TEST(s.leftovers().empty());
}

// The other system call entries of an x86_64 kernel: agent-default's
// hardening knows x86_64 only and kills anything else, for the first process
// and for exec alike; under oci the probe shows they are really reachable.
BOOST_AUTO_TEST_CASE(x32_calls_are_killed_under_agent_default,
                     *test::needs(test::host::x86_64) * test::needs_agent_default()) {
  expect(probe_under("agent-default", false), "x32_syscall", {"killed-SYS"});
  expect(probe_under("agent-default", true), "x32_syscall", {"killed-SYS"});
  expect(probe_under("oci", false), "x32_syscall", {"ok", "ENOSYS"});  // ENOSYS: a kernel without the x32 ABI
}

// Live int $0x80 needs the kernel's IA32 emulation (without it the call
// raises SIGSEGV before any filter sees it).
BOOST_AUTO_TEST_CASE(i386_calls_are_killed_under_agent_default,
                     *test::needs(test::host::i386_syscalls) * test::needs_agent_default()) {
  expect(probe_under("agent-default", false), "i386_syscall", {"killed-SYS"});
  expect(probe_under("agent-default", true), "i386_syscall", {"killed-SYS"});
  expect(probe_under("oci", false), "i386_syscall", {"ok"});
}

BOOST_AUTO_TEST_CASE(exec_is_confined_like_the_first_process, *test::needs_agent_default()) {
  Sandbox s;
  s.policy = "agent-default";
  s.write_config(agent_bundle(s, {"sleep", "60"}));
  BOOST_TEST_REQUIRE(s.agentrun({"run", "-d", "--bundle", s.bundle, "ex"}).code == 0);
  auto o = s.agentrun({"exec", "ex", "/usr/bin/agent-probe"});
  BOOST_TEST_REQUIRE(o.code == 0, o.err);
  expect_agent_default(test::probe_results(o.out));
  // A process started by exec may still signal the container's own (docker exec ... kill).
  BOOST_TEST(s.agentrun({"exec", "ex", "kill", "-0", "1"}).code == 0);
}

BOOST_AUTO_TEST_CASE(inspect_reports_what_was_applied, *test::needs_agent_default()) {
  Sandbox s;
  s.policy = "agent-default";
  s.write_config(agent_bundle(s, {"sleep", "60"}));
  BOOST_TEST_REQUIRE(s.agentrun({"run", "-d", "--bundle", s.bundle, "in"}).code == 0);
  auto o = s.agentrun({"inspect", "in"});
  BOOST_TEST_REQUIRE(o.code == 0, o.err);
  rapidjson::Document d;
  d.Parse(o.out.c_str());
  BOOST_TEST_REQUIRE(!d.HasParseError(), o.out);
  BOOST_TEST(inspect_field(d["policy"]["name"]) == "agent-default");
  BOOST_TEST(inspect_field(d["policy"]["sha256"]).size() == 64u);
  BOOST_TEST(inspect_field(d["isolation"]) == "strict");
  // Below Landlock ABI 3 a third filter refuses what Landlock cannot (truncation).
  const bool truncate_filter = test::host::landlock_abi() < 3;
  BOOST_TEST_REQUIRE(d["seccomp"].Size() == (truncate_filter ? 3u : 2u));
  BOOST_TEST(inspect_field(d["seccomp"][0]["name"]) == "docker-baseline");
  if (truncate_filter) BOOST_TEST(inspect_field(d["seccomp"][1]["name"]) == "landlock-truncate");
  BOOST_TEST(inspect_field(d["seccomp"][truncate_filter ? 2 : 1]["name"]) == "agent-hardening");
  BOOST_TEST(d["landlock"]["abi"].GetInt() >= 1);
  BOOST_TEST_REQUIRE(d["notDefended"].Size() == 1u);
  BOOST_TEST(inspect_field(d["notDefended"][0]).rfind("/proc/PID/mem", 0) == 0u);
  BOOST_TEST(d["process"]["noNewPrivileges"].GetBool());
  BOOST_TEST(d["process"]["capabilities"]["bounding"].Size() == 2u);  // KILL, NET_BIND_SERVICE: AUDIT_WRITE is not in the policy
  bool wget = false;
  for (const auto& b : d["blockedExecutables"].GetArray())
    if (inspect_field(b["path"]) == "/bin/wget") {
      wget = true;
      BOOST_TEST(inspect_field(b["caveat"]).find("busybox wget") != std::string::npos);
    }
  BOOST_TEST(wget, o.out);
  bool ssh = false;
  for (const auto& m : d["deniedRead"].GetArray()) ssh = ssh || inspect_field(m) == "/root/.ssh";
  BOOST_TEST(ssh);
  for (const auto& f : d["features"].GetArray()) BOOST_TEST(f["effective"].GetBool(), inspect_field(f["feature"]));
}

// exec's refusals name the flag the request came from, not config.json.
BOOST_AUTO_TEST_CASE(an_exec_refusal_names_the_flag, *test::needs_agent_default()) {
  Sandbox s;
  s.policy = "agent-default";
  s.write_config(agent_bundle(s, {"sleep", "60"}));
  BOOST_TEST_REQUIRE(s.agentrun({"run", "-d", "--bundle", s.bundle, "ex"}).code == 0);
  auto o = s.agentrun({"exec", "--cap", "CAP_SYS_ADMIN", "ex", "true"});
  BOOST_TEST(o.code == 1);
  BOOST_TEST(o.err.find("policy agent-default: exec --cap asks for CAP_SYS_ADMIN, which the policy does not allow "
                        "(allowPrivileged: false); leave out exec --cap CAP_SYS_ADMIN") != std::string::npos, o.err);
  BOOST_TEST(s.agentrun({"delete", "--force", "ex"}).code == 0);
  BOOST_TEST(s.leftovers().empty());
}

BOOST_AUTO_TEST_CASE(privileged_requests_are_refused_not_reduced, *test::needs_agent_default()) {
  Sandbox s;
  s.policy = "agent-default";
  auto cfg = agent_bundle(s);
  test::set_json(cfg, "/process/capabilities/bounding", R"(["CAP_KILL", "CAP_SYS_ADMIN"])");
  s.write_config(cfg);
  auto o = s.agentrun({"run", "--bundle", s.bundle, "priv"});
  BOOST_TEST(o.code == 1);
  BOOST_TEST(o.err.find("policy agent-default: config.json: process.capabilities (bounding) asks for CAP_SYS_ADMIN, "
                        "which the policy does not allow (allowPrivileged: false); remove CAP_SYS_ADMIN from every set "
                        "of process.capabilities in config.json") != std::string::npos, o.err);
  BOOST_TEST(o.out.empty());  // the probe never ran
  BOOST_TEST(s.leftovers().empty());

  auto host_pid = agent_bundle(s);
  test::set_json(host_pid, "/linux/namespaces", R"([{"type": "mount"}, {"type": "ipc"}, {"type": "uts"}])");
  s.write_config(host_pid);
  auto p = s.agentrun({"run", "--bundle", s.bundle, "hostpid"});
  BOOST_TEST(p.code == 1);
  BOOST_TEST(p.err.find("requires pid-ns: config.json shares the host's pid namespace") != std::string::npos, p.err);
  BOOST_TEST(s.leftovers().empty());
}

BOOST_AUTO_TEST_CASE(the_runtime_state_is_never_mounted_in, *test::needs_agent_default()) {
  Sandbox s;
  s.policy = "agent-default";
  auto cfg = agent_bundle(s);
  ::mkdir(s.root.c_str(), 0700);
  test::set_json(cfg, "/mounts/-", R"({"destination": "/state", "type": "bind", "source": ")" + s.dir + R"(", "options": ["rbind"]})");
  s.write_config(cfg);
  auto o = s.agentrun({"run", "--bundle", s.bundle, "st"});
  BOOST_TEST(o.code == 1);
  BOOST_TEST(o.err.find("would make the runtime's own " + s.root + " visible") != std::string::npos, o.err);
  BOOST_TEST(s.leftovers().empty());
}

// The host's /proc would show the host's processes (and /proc/1/root the
// host's root); an engine's socket would run containers on the host.
BOOST_AUTO_TEST_CASE(host_proc_and_engine_sockets_are_never_mounted_in, *test::needs_agent_default()) {
  for (const std::string source : {"/proc", "/run/containerd"}) {
    Sandbox s;
    s.policy = "agent-default";
    auto cfg = agent_bundle(s);
    test::set_json(cfg, "/mounts/-", R"({"destination": "/host", "type": "bind", "source": ")" + source +
                                         R"(", "options": ["rbind"]})");
    s.write_config(cfg);
    auto o = s.agentrun({"run", "--bundle", s.bundle, "hp"});
    BOOST_TEST(o.code == 1);
    BOOST_TEST(o.err.find("mounts[" ) != std::string::npos, o.err);
    BOOST_TEST(o.err.find(".source " + source + " would hand the container ") != std::string::npos, o.err);
    BOOST_TEST(s.leftovers().empty());
  }
}

// The host's dynamic loader and C library, to run a dynamic program in the busybox rootfs.
test::host::Probe host_loader() {
  for (const char* f : {"/lib/x86_64-linux-gnu/ld-linux-x86-64.so.2", "/lib/x86_64-linux-gnu/libc.so.6", "/bin/true"})
    if (::access(f, R_OK) != 0) return {false, std::string("no ") + f + " on this host"};
  return {true, "x86_64 glibc"};
}

// Landlock's execute right covers execve only: the dynamic loader would map
// a program copied into a writable mount outside execFrom (/data here) and
// run it. That mount is noexec, which stops the mapping too; the same loader
// still runs a program from /usr.
BOOST_AUTO_TEST_CASE(the_loader_runs_nothing_from_a_writable_mount, *test::needs_agent_default() * test::needs(host_loader)) {
  AgentShell a("/lib64/ld-linux-x86-64.so.2 /data/copy; echo data=$?; "
               "/lib64/ld-linux-x86-64.so.2 /usr/bin/dyn-true; echo usr=$?; "
               "/data/copy; echo direct=$?; grep -c ' /data .*noexec' /proc/self/mounts");
  mkdirs(a.s.rootfs + "/lib64");
  mkdirs(a.s.rootfs + "/lib/x86_64-linux-gnu");
  test::run_process({"/bin/cp", "/lib/x86_64-linux-gnu/ld-linux-x86-64.so.2", a.s.rootfs + "/lib64/"});
  test::run_process({"/bin/cp", "/lib/x86_64-linux-gnu/libc.so.6", a.s.rootfs + "/lib/x86_64-linux-gnu/"});
  test::run_process({"/bin/cp", "/bin/true", a.s.rootfs + "/usr/bin/dyn-true"});
  test::run_process({"/bin/cp", "/bin/true", a.s.dir + "/data/copy"});
  auto o = a.s.run(a.cfg, "ld");
  BOOST_TEST(o.code == 0, o.err);
  const auto seen = test::probe_results(o.out);
  BOOST_TEST(seen.at("usr") == "0", o.out);
  BOOST_TEST(seen.at("data") != "0", o.out);
  BOOST_TEST(seen.at("direct") != "0", o.out);
  BOOST_TEST(o.out.find("\n1\n") != std::string::npos, o.out);
  BOOST_TEST(a.s.leftovers().empty());
}

// Credential files found by pattern at create: nested .env files in the
// workspace (a bind mount) and shell histories in the home (the rootfs) are
// hidden, the work itself stays readable, and inspect lists what was hidden.
BOOST_AUTO_TEST_CASE(credentials_found_by_pattern_are_hidden, *test::needs_agent_default()) {
  // A hidden file reads as empty (the null device is bound over it).
  AgentShell a("echo env=$(cat /workspace/app/.env.local); echo hist=$(cat /root/.bash_history); "
               "echo work=$(cat /workspace/app/main.c)");
  mkdirs(a.s.dir + "/workspace/app");
  write(a.s.dir + "/workspace/app/.env.local", "TOKEN=1\n");
  write(a.s.dir + "/workspace/app/main.c", "int main;\n");
  mkdirs(a.s.rootfs + "/root");
  write(a.s.rootfs + "/root/.bash_history", "export TOKEN=1\n");
  auto o = a.s.run(a.cfg, "pat");
  BOOST_TEST(o.code == 0, o.err);
  const auto seen = test::probe_results(o.out);
  BOOST_TEST(seen.at("env") == "", o.out);
  BOOST_TEST(seen.at("hist") == "", o.out);
  BOOST_TEST(seen.at("work") == "int main;", o.out);

  test::set_json(a.cfg, "/process/args", R"(["sleep", "30"])");
  a.s.write_config(a.cfg);
  BOOST_TEST_REQUIRE(a.s.agentrun({"run", "-d", "--bundle", a.s.bundle, "pat"}).code == 0);
  auto i = a.s.agentrun({"inspect", "pat"});
  BOOST_TEST(i.code == 0, i.err);
  BOOST_TEST(i.out.find("\"/workspace/app/.env.local\"") != std::string::npos, i.out);
  BOOST_TEST(i.out.find("\"/root/.bash_history\"") != std::string::npos, i.out);
  BOOST_TEST(i.out.find("denyReadUnmatched") != std::string::npos, i.out);
  BOOST_TEST(a.s.agentrun({"delete", "--force", "pat"}).code == 0);
  BOOST_TEST(a.s.leftovers().empty());
}

// Git hooks and config and direnv's .envrc in the host workspace would run
// on the host later: under agent-default they stay read-only; the rest of
// the workspace, the repository's objects included, stays writable.
BOOST_AUTO_TEST_CASE(repo_hooks_in_the_workspace_stay_read_only, *test::needs_agent_default()) {
  AgentShell a("echo x > /workspace/.git/hooks/pre-commit; echo hook=$?; "
               "echo x >> /workspace/.git/config; echo config=$?; echo x >> /workspace/.envrc; "
               "echo envrc=$?; echo x > /workspace/.git/objects/o; echo objects=$?; "
               "echo x > /workspace/new; echo work=$?");
  mkdirs(a.s.dir + "/workspace/.git/hooks");
  mkdirs(a.s.dir + "/workspace/.git/objects");
  write(a.s.dir + "/workspace/.git/config", "[core]\n");
  write(a.s.dir + "/workspace/.envrc", "");
  auto o = a.s.run(a.cfg, "hooks");
  BOOST_TEST(o.code == 0, o.err);
  const auto seen = test::probe_results(o.out);
  BOOST_TEST(seen.at("hook") != "0", o.out);
  BOOST_TEST(seen.at("config") != "0", o.out);
  BOOST_TEST(seen.at("envrc") != "0", o.out);
  BOOST_TEST(seen.at("objects") == "0", o.out);
  BOOST_TEST(seen.at("work") == "0", o.out);
  BOOST_TEST(test::read_file(a.s.dir + "/workspace/.git/config") == "[core]\n");
  BOOST_TEST(a.s.leftovers().empty());
}

// A token in a remote's URL (as CI systems leave it) is a credential the
// agent could send away: the container reads a copy of .git/config without
// it, read-only, and git still knows the remote; the host's file is untouched.
BOOST_AUTO_TEST_CASE(tokens_in_git_config_are_hidden, *test::needs_agent_default()) {
  Sandbox s;
  s.policy = "agent-default";
  s.write_config(agent_bundle(s, {"sleep", "60"}));
  const std::string config =
      "[remote \"origin\"]\n\turl = https://x-access-token:ghp_TOKEN@github.com/org/repo.git\n"
      "[http]\n\textraHeader = AUTHORIZATION: bearer HEADER_TOKEN\n";
  mkdirs(s.dir + "/workspace/.git");
  write(s.dir + "/workspace/.git/config", config);
  BOOST_TEST_REQUIRE(s.agentrun({"run", "-d", "--bundle", s.bundle, "tok"}).code == 0);
  auto o = s.agentrun({"exec", "tok", "sh", "-c", "cat /workspace/.git/config; echo x >> /workspace/.git/config; "
                                                  "echo written=$?"});
  BOOST_TEST(o.code == 0, o.err);
  BOOST_TEST(o.out.find("TOKEN") == std::string::npos, o.out);
  BOOST_TEST(o.out.find("url = https://github.com/org/repo.git") != std::string::npos, o.out);
  BOOST_TEST(o.out.find("written=0") == std::string::npos, o.out);
  auto inspected = s.agentrun({"inspect", "tok"});
  BOOST_TEST(inspected.out.find("\"gitCredentialsHidden\": [\n    \"/workspace/.git/config\"") != std::string::npos,
             inspected.out);
  BOOST_TEST(s.agentrun({"delete", "--force", "tok"}).code == 0);
  BOOST_TEST(test::read_file(s.dir + "/workspace/.git/config") == config);
  BOOST_TEST(s.leftovers().empty());
}

// Monitoring agents and CI runners bind /, /run or /etc; runc runs them.
BOOST_AUTO_TEST_CASE(oci_binds_a_directory_holding_the_state_root_as_runc_does) {
  Sandbox s;
  BOOST_TEST_REQUIRE(s.policy == "oci");
  auto cfg = test::base_config({"sh", "-c", "test -d /host" + s.root.substr(s.dir.size()) + " && echo state root visible"});
  test::set_json(cfg, "/mounts/-", R"({"destination": "/host", "type": "bind", "source": ")" + s.dir +
                                       R"(", "options": ["rbind", "ro"]})");
  auto o = s.run(cfg);
  BOOST_TEST(o.code == 0, o.err);
  BOOST_TEST(o.out == "state root visible\n", o.out);
  BOOST_TEST(s.leftovers().empty());
}

BOOST_AUTO_TEST_CASE(agent_strict_needs_a_non_root_user_namespace_and_no_network,
                     *test::needs_agent_default() * test::needs(test::host::user_namespaces)) {
  Sandbox s;
  s.policy = "agent-strict";
  auto cfg = agent_bundle(s);
  s.write_config(cfg);
  auto root = s.agentrun({"run", "--bundle", s.bundle, "st"});
  BOOST_TEST(root.code == 1);
  BOOST_TEST(root.err.find("process.user.uid is 0") != std::string::npos, root.err);

  test::run_process({"/bin/chown", "-R", "100000:100000", s.rootfs});
  test::run_process({"/bin/chown", "-R", "101000:101000", s.dir + "/workspace"});  // the agent user's, mapped
  mkdirs(s.rootfs + "/home/agent/.ssh");
  write(s.rootfs + "/home/agent/.ssh/id_rsa", "PRIVATE KEY\n");
  test::set_json(cfg, "/process/user", R"({"uid": 1000, "gid": 1000})");
  auto& a = cfg.GetAllocator();
  cfg["linux"]["namespaces"].PushBack(rapidjson::Value(rapidjson::kObjectType).AddMember("type", "user", a), a);
  test::set_json(cfg, "/linux/uidMappings", R"([{"containerID": 0, "hostID": 100000, "size": 65536}])");
  test::set_json(cfg, "/linux/gidMappings", R"([{"containerID": 0, "hostID": 100000, "size": 65536}])");
  test::set_json(cfg, "/process/args", R"(["sh", "-c", "/usr/bin/agent-probe; ls /sys/class/net; grep -E '^Cap(Eff|Prm|Bnd)' /proc/self/status"])");
  s.write_config(cfg);
  auto o = s.agentrun({"run", "--bundle", s.bundle, "st"});
  BOOST_TEST_REQUIRE(o.code == 0, o.err);
  auto r = test::probe_results(o.out);
  expect(r, "memfd_create", {"EPERM"});
  expect(r, "read_home_ssh_key", {"ENOENT"});  // ~ is the home of uid 1000 here
  expect(r, "write_workspace", {"ok"});
  BOOST_TEST(o.out.find("lo\n") != std::string::npos, o.out);
  BOOST_TEST(o.out.find("eth0") == std::string::npos, o.out);
  BOOST_TEST(o.out.find("CapPrm:\t0000000000000000\nCapEff:\t0000000000000000\nCapBnd:\t0000000000000000\n") !=
                 std::string::npos, o.out);
  BOOST_TEST(s.leftovers().empty());
}

BOOST_AUTO_TEST_CASE(selection_refusals, *test::needs_agent_default()) {
  Sandbox s;
  auto cfg = agent_bundle(s);
  s.policy = "nosuch";
  s.write_config(cfg);
  auto unknown = s.agentrun({"run", "--bundle", s.bundle, "x"});
  BOOST_TEST(unknown.code == 1);
  BOOST_TEST(unknown.err.find("policy \"nosuch\": unknown (built-in: agent-default, agent-strict, oci") !=
                 std::string::npos, unknown.err);

  s.policy = "agent-default";
  test::set_json(cfg, "/annotations", R"({"io.agentrun.isolation": "best-effort"})");
  s.write_config(cfg);
  auto loosen = s.agentrun({"run", "--bundle", s.bundle, "x"});
  BOOST_TEST(loosen.code == 1);
  BOOST_TEST(loosen.err.find("annotation io.agentrun.isolation=best-effort: an annotation can only tighten") !=
                 std::string::npos, loosen.err);

  test::set_json(cfg, "/annotations", R"({"io.agentrun.policy": "/etc/passwd"})");
  s.write_config(cfg);
  auto path = s.agentrun({"run", "--bundle", s.bundle, "x"});
  BOOST_TEST(path.code == 1);
  BOOST_TEST(path.err.find("must be a policy name, not a path") != std::string::npos, path.err);

  // Selecting `oci` by annotation cannot loosen agent-default: the probe still sees it.
  test::set_json(cfg, "/annotations", R"({"io.agentrun.policy": "oci"})");
  s.write_config(cfg);
  auto merged = s.agentrun({"run", "--bundle", s.bundle, "x"});
  BOOST_TEST_REQUIRE(merged.code == 0, merged.err);
  expect_agent_default(test::probe_results(merged.out));
  BOOST_TEST(s.leftovers().empty());
}

// A feature this host lacks: AppArmor.
BOOST_AUTO_TEST_CASE(unattainable_features_strict_and_best_effort,
                     *test::needs_absent(test::host::apparmor, "AppArmor") * test::needs_agent_default()) {
  Sandbox s;
  const std::string strict = s.dir + "/needs-apparmor.json";
  write(strict, R"({"agentrunPolicy": 1, "name": "needs-apparmor", "require": ["apparmor", "pid-ns"]})");
  s.policy = strict;
  s.write_config(agent_bundle(s, {"true"}));
  auto refused = s.agentrun({"run", "--bundle", s.bundle, "x"});
  BOOST_TEST(refused.code == 1);
  BOOST_TEST(refused.err.find("policy needs-apparmor (" + strict + "): requires apparmor: AppArmor is not enabled") !=
                 std::string::npos,
             refused.err);
  BOOST_TEST(s.leftovers().empty());

  const std::string lax = s.dir + "/lax.json";
  write(lax, R"({"agentrunPolicy": 1, "name": "lax", "isolation": "best-effort", "require": ["apparmor", "pid-ns"]})");
  s.policy = lax;
  s.write_config(agent_bundle(s, {"sleep", "60"}));
  auto ran = s.agentrun({"run", "-d", "--bundle", s.bundle, "lax"});
  BOOST_TEST_REQUIRE(ran.code == 0, ran.err);
  BOOST_TEST(ran.err.find("warning: policy lax (" + lax + ") (best-effort): requires apparmor: AppArmor is not enabled") !=
                 std::string::npos, ran.err);
  rapidjson::Document d;
  d.Parse(s.agentrun({"inspect", "lax"}).out.c_str());
  BOOST_TEST_REQUIRE(d.IsObject());
  BOOST_TEST(d["warnings"].Size() == 1u);
  for (const auto& f : d["features"].GetArray())
    BOOST_TEST(f["effective"].GetBool() == (inspect_field(f["feature"]) == "pid-ns"), inspect_field(f["feature"]));
}

BOOST_AUTO_TEST_CASE(preflight_says_whether_a_policy_would_start,
                     *test::needs_agent_default() * test::needs_absent(test::host::selinux, "SELinux")) {
  Sandbox s;
  s.policy = "";
  auto ok = s.agentrun({"preflight", "--policy", "agent-default"});
  BOOST_TEST(ok.code == 0, ok.err);
  BOOST_TEST(ok.out.find("landlock") != std::string::npos);
  BOOST_TEST(ok.out.find("it would start") != std::string::npos, ok.out);
  // Below Landlock ABI 6 (3) the landlock line says what create refuses (makes up for).
  std::string landlock;
  std::istringstream lines(ok.out);
  for (std::string line; std::getline(lines, line);)
    if (line.rfind("landlock ", 0) == 0) landlock = line;
  const int abi = test::host::landlock_abi();
  BOOST_TEST((landlock.find("pid or network namespace is refused under strict") != std::string::npos) == (abi < 6), landlock);
  BOOST_TEST((landlock.find("a stacked seccomp filter refuses truncate(2)") != std::string::npos) == (abi < 3), landlock);
  const std::string needs = s.dir + "/needs.json";
  write(needs, R"({"agentrunPolicy": 1, "name": "needs", "require": ["selinux"]})");
  auto no = s.agentrun({"preflight", "--policy", needs, "--format", "json"});
  BOOST_TEST(no.code == 1);
  rapidjson::Document d;
  d.Parse(no.out.c_str());
  BOOST_TEST_REQUIRE(d.IsObject(), no.out);
  BOOST_TEST(!d["wouldStart"].GetBool());
  BOOST_TEST(d["features"].Size() == 16u);
}

// What preflight's landlock line predicts, at create: without Landlock ABI 6
// a container in the host's network namespace could reach the host's
// abstract unix sockets, and agent-default refuses it. With it, the
// container is refused all the same: agent-default's egress rules need a
// network namespace of its own.
BOOST_AUTO_TEST_CASE(the_hosts_network_namespace_needs_landlock_scopes, *test::needs_agent_default()) {
  Sandbox s;
  s.policy = "agent-default";
  auto cfg = agent_bundle(s, {"true"});
  test::set_json(cfg, "/linux/namespaces", R"([{"type": "pid"}, {"type": "mount"}, {"type": "ipc"}, {"type": "uts"}])");
  auto o = s.run(cfg, "hostnet");
  if (test::host::landlock_abi() >= 6) {
    BOOST_TEST(o.code == 1);
    BOOST_TEST(o.err.find("policy agent-default: network.egress needs a network namespace of the container's own") !=
                   std::string::npos, o.err);
  } else {
    BOOST_TEST(o.code == 1);
    BOOST_TEST(o.err.find("policy agent-default: config.json shares the host's network namespace, whose abstract unix "
                          "sockets only Landlock ABI 6 (Linux 6.12) keeps out of the container's reach; this host has "
                          "Landlock ABI " + std::to_string(test::host::landlock_abi())) != std::string::npos, o.err);
  }
  BOOST_TEST(s.leftovers().empty());
}

BOOST_AUTO_TEST_CASE(the_containers_own_program_runs_outside_exec_from, *test::needs_agent_default()) {
  // A pod's /pause, podman's /catatonit: the image's entrypoint may sit at the
  // root; it runs, while execFrom still holds for anything else there.
  Sandbox s;
  s.policy = "agent-default";
  auto cfg = agent_bundle(s, {"/true"});
  test::run_process({"/bin/cp", "/bin/busybox", s.rootfs + "/true"});
  test::run_process({"/bin/cp", "/bin/busybox", s.rootfs + "/echo"});
  s.write_config(cfg);
  auto o = s.agentrun({"run", "--bundle", s.bundle, "entry"});
  BOOST_TEST(o.code == 0, o.err);
  s.write_config(agent_bundle(s, {"sh", "-c", "/echo other 2>&1 || echo refused"}));
  auto other = s.agentrun({"run", "--bundle", s.bundle, "other"});
  BOOST_TEST(other.out.find("refused") != std::string::npos, other.out);
  BOOST_TEST(s.leftovers().empty());
}

// The policy's limits are ceilings for `update` too: strict refuses raising
// or removing them, and changes nothing, not even the rest of the request.
BOOST_AUTO_TEST_CASE(update_stays_under_the_policys_limits,
                     *test::needs_agent_default() * test::needs_cgroup("memory")) {
  namespace cg = test::cgroup;
  Sandbox s;
  s.policy = "agent-default";
  s.write_config(test::base_config({"sleep", "60"}));
  BOOST_TEST_REQUIRE(s.agentrun({"run", "-d", "--bundle", s.bundle, "upd"}).code == 0);
  const auto dirs = cg::dirs_of(s, "upd");
  BOOST_TEST_REQUIRE(cg::read(dirs, cg::pids_max(1024)) == "1024");
  const std::string memory_before = cg::read(dirs, cg::memory_limit(0));

  auto above = s.agentrun({"update", "--memory", "64m", "--pids-limit", "5000", "upd"});
  BOOST_TEST(above.code == 1);
  BOOST_TEST(above.err.find("policy agent-default: update --pids-limit 5000: above the policy's pidsMax 1024") !=
                 std::string::npos, above.err);
  auto removed = s.agentrun({"update", "--pids-limit", "-1", "upd"});
  BOOST_TEST(removed.code == 1);
  BOOST_TEST(removed.err.find("update --pids-limit -1: would remove the limit") != std::string::npos, removed.err);
  const std::string resources = s.dir + "/r.json";
  write(resources, R"({"unified": {"pids.max": "max"}})");
  auto unified = s.agentrun({"update", "-r", resources, "upd"});
  BOOST_TEST(unified.code == 1);
  BOOST_TEST(unified.err.find("update --resources unified.pids.max \"max\": would remove the limit") !=
                 std::string::npos, unified.err);
  BOOST_TEST(cg::read(dirs, cg::pids_max(1024)) == "1024");
  BOOST_TEST(cg::read(dirs, cg::memory_limit(0)) == memory_before);

  auto lower = s.agentrun({"update", "--pids-limit", "512", "upd"});
  BOOST_TEST_REQUIRE(lower.code == 0, lower.err);
  BOOST_TEST(cg::read(dirs, cg::pids_max(512)) == "512");
  // agent-default sets no memoryMax: memory is the config's business.
  BOOST_TEST(s.agentrun({"update", "--memory", "64m", "upd"}).code == 0);
  BOOST_TEST(cg::read(dirs, cg::memory_limit(67108864)) == "67108864");
}

BOOST_AUTO_TEST_CASE(best_effort_update_is_lowered_to_the_policys_limit, *test::needs_cgroup("pids")) {
  namespace cg = test::cgroup;
  Sandbox s;
  s.policy = s.dir + "/lax.json";
  write(s.policy, R"({"agentrunPolicy": 1, "name": "lax", "isolation": "best-effort", "resources": {"pidsMax": 100}})");
  s.write_config(test::base_config({"sleep", "60"}));
  BOOST_TEST_REQUIRE(s.agentrun({"run", "-d", "--bundle", s.bundle, "lax"}).code == 0);
  auto o = s.agentrun({"update", "--pids-limit", "5000", "lax"});
  BOOST_TEST(o.code == 0, o.err);
  BOOST_TEST(o.err.find("warning: policy lax (best-effort): update --pids-limit 5000: above the policy's pidsMax 100; "
                        "set to 100") != std::string::npos, o.err);
  BOOST_TEST(cg::read(cg::dirs_of(s, "lax"), cg::pids_max(100)) == "100");
}

BOOST_AUTO_TEST_CASE(oci_updates_any_limit_as_runc_does, *test::needs_cgroup("pids")) {
  namespace cg = test::cgroup;
  Sandbox s;
  auto cfg = test::base_config({"sleep", "60"});
  test::set_json(cfg, "/linux/resources", R"({"pids": {"limit": 100}})");
  s.write_config(cfg);
  BOOST_TEST_REQUIRE(s.agentrun({"run", "-d", "--bundle", s.bundle, "oci"}).code == 0);
  const auto dirs = cg::dirs_of(s, "oci");
  auto raised = s.agentrun({"update", "--pids-limit", "5000", "oci"});
  BOOST_TEST(raised.code == 0, raised.err);
  BOOST_TEST(raised.err.empty(), raised.err);
  BOOST_TEST(cg::read(dirs, cg::pids_max(5000)) == "5000");
  BOOST_TEST(s.agentrun({"update", "--pids-limit", "-1", "oci"}).code == 0);
  BOOST_TEST(cg::read(dirs, "pids", "pids.max") == "max");
}
