// The runtime's own attack surface while a container is created: the init
// must not expose the host binary, be inspectable, or hold runtime files.
#include <boost/test/unit_test.hpp>

#include <dirent.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/ptrace.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>

#include "support/files.hpp"
#include "support/harness.hpp"
#include "support/needs.hpp"

using test::Sandbox;

namespace {

int created_init(const Sandbox& s, const rapidjson::Document& cfg, const std::string& id) {
  s.write_config(cfg);
  auto o = s.agentrun({"create", "--bundle", s.bundle, "--pid-file", s.dir + "/" + id + ".pid", id});
  BOOST_TEST_REQUIRE(o.code == 0, o.err);
  return std::stoi(test::read_file(s.dir + "/" + id + ".pid"));
}

std::string link_of(const std::string& path) {
  char buf[4096];
  ssize_t n = ::readlink(path.c_str(), buf, sizeof buf - 1);
  return n > 0 ? std::string(buf, static_cast<size_t>(n)) : "";
}

// Whether the file process `pid` runs is on a read-only mount or a sealed memfd.
bool runs_unwritable_binary(int pid) {
  int fd = ::open(("/proc/" + std::to_string(pid) + "/exe").c_str(), O_RDONLY);
  BOOST_TEST_REQUIRE(fd >= 0);
  struct statvfs vfs;
  BOOST_TEST_REQUIRE(::fstatvfs(fd, &vfs) == 0);
  const bool unwritable = (vfs.f_flag & ST_RDONLY) != 0 || ::fcntl(fd, F_GET_SEALS) > 0;
  ::close(fd);
  return unwritable;
}

rapidjson::Document without_pid_namespace(rapidjson::Document cfg) {
  auto& list = cfg["linux"]["namespaces"];
  for (auto it = list.Begin(); it != list.End();)
    it = std::string((*it)["type"].GetString()) == "pid" ? list.Erase(it) : it + 1;
  return cfg;
}

// The system calls a process makes between its first and its second
// execution (ptrace), as create's runtime starts with these arguments.
std::vector<long> calls_before_the_reexecution(const std::vector<std::string>& args, bool& reexecuted) {
  std::vector<char*> argv;
  std::vector<std::string> copy = args;
  for (auto& a : copy) argv.push_back(a.data());
  argv.push_back(nullptr);
  const pid_t child = ::fork();
  BOOST_TEST_REQUIRE(child >= 0);
  if (child == 0) {
    ::ptrace(PTRACE_TRACEME, 0, nullptr, nullptr);
    const int null = ::open("/dev/null", O_WRONLY);
    ::dup2(null, 1);
    ::dup2(null, 2);
    ::raise(SIGSTOP);
    ::execv(AGENTRUN_BINARY, argv.data());
    ::_exit(127);
  }
  int status = 0;
  BOOST_TEST_REQUIRE(::waitpid(child, &status, 0) == child);
  BOOST_TEST_REQUIRE(::ptrace(PTRACE_SETOPTIONS, child, nullptr,
                              PTRACE_O_TRACESYSGOOD | PTRACE_O_TRACEEXEC | PTRACE_O_EXITKILL) == 0);
  std::vector<long> calls;
  int execs = 0;
  reexecuted = false;
  for (int signal = 0; ::ptrace(PTRACE_SYSCALL, child, nullptr, signal) == 0; signal = 0) {
    BOOST_TEST_REQUIRE(::waitpid(child, &status, 0) == child);
    if (!WIFSTOPPED(status)) break;
    if (status >> 8 == (SIGTRAP | (PTRACE_EVENT_EXEC << 8))) {
      if (++execs == 2) { reexecuted = true; break; }
    } else if (WSTOPSIG(status) == (SIGTRAP | 0x80)) {
      __ptrace_syscall_info info{};
      BOOST_TEST_REQUIRE(::ptrace(PTRACE_GET_SYSCALL_INFO, child, sizeof info, &info) > 0);
      if (execs == 1 && info.op == PTRACE_SYSCALL_INFO_ENTRY) calls.push_back(static_cast<long>(info.entry.nr));
    } else if (WSTOPSIG(status) != SIGTRAP) {
      signal = WSTOPSIG(status);
    }
  }
  ::kill(child, SIGKILL);
  ::waitpid(child, &status, 0);
  return calls;
}

}  // namespace

// Every init runs agentrun from a read-only mount (or a sealed memfd) until
// its execve: nothing of the container's can write the host's agentrun
// through /proc/PID/exe, neither while the init is reachable (a pid
// namespace the container shares, hooks the init runs in the container) nor
// through the program it executes: an entrypoint script "#!/proc/self/exe"
// makes the init's own binary the container's process (runc CVE-2019-5736).
BOOST_AUTO_TEST_CASE(every_init_runs_from_an_unwritable_binary) {
  auto with_hook = test::base_config({"true"});
  test::set_json(with_hook, "/hooks", R"({"startContainer": [{"path": "/bin/true"}]})");
  const std::pair<const char*, rapidjson::Document> cases[] = {
      {"plain", test::base_config({"true"})},
      {"script", test::base_config({"/entry"})},
      {"host-pid", without_pid_namespace(test::base_config({"true"}))},
      {"start-hook", std::move(with_hook)}};
  for (const auto& [id, cfg] : cases) {
    BOOST_TEST_CONTEXT(id) {
      Sandbox s;
      test::put_file(s.rootfs + "/entry", "#!/proc/self/exe\n");
      BOOST_TEST_REQUIRE(::chmod((s.rootfs + "/entry").c_str(), 0755) == 0);
      const int pid = created_init(s, cfg, id);
      BOOST_TEST(runs_unwritable_binary(pid), "neither a read-only mount nor a sealed memfd");
      // Reopened for writing through a descriptor, as an attacker holding it would once it is no longer busy.
      const std::string exe = "/proc/" + std::to_string(pid) + "/exe";
      int fd = ::open(exe.c_str(), O_RDONLY);
      BOOST_TEST_REQUIRE(fd >= 0);
      int w = ::open(("/proc/self/fd/" + std::to_string(fd)).c_str(), O_WRONLY);
      BOOST_TEST(w < 0, "the runtime binary seen by the container is writable");
      BOOST_TEST((errno == EROFS || errno == ETXTBSY || errno == EPERM), errno);
      if (w >= 0) ::close(w);
      ::close(fd);
      struct stat before, after;
      BOOST_TEST_REQUIRE(::stat(AGENTRUN_BINARY, &before) == 0);
      // The script runs agentrun (the read-only copy) as the container's process: it only prints its usage error.
      BOOST_TEST(s.agentrun({"start", id}).code == 0);
      BOOST_TEST(s.agentrun({"delete", "--force", id}).code == 0);
      BOOST_TEST_REQUIRE(::stat(AGENTRUN_BINARY, &after) == 0);
      BOOST_TEST(before.st_mtime == after.st_mtime);
      BOOST_TEST(s.leftovers().empty());
    }
  }
}

// `exec` before `start` enters the created container: its init runs the
// read-only copy too.
BOOST_AUTO_TEST_CASE(exec_before_start_enters_the_created_container) {
  Sandbox s;
  const int pid = created_init(s, test::base_config({"sleep", "30"}), "early");
  BOOST_TEST(runs_unwritable_binary(pid));
  auto early = s.agentrun({"exec", "early", "sh", "-c", "echo in-$(hostname)"});
  BOOST_TEST(early.code == 0, early.err);
  BOOST_TEST(early.out.find("in-") == 0u, early.out);
  BOOST_TEST(s.agentrun({"delete", "--force", "early"}).code == 0);
  BOOST_TEST(s.leftovers().empty());
}

// create, run and exec re-execute from the read-only copy at the binary's
// entry point, before the C library starts (util/early_reexec.hpp): glibc's
// first call, arch_prctl for its thread pointer, never comes before it.
BOOST_AUTO_TEST_CASE(the_copy_is_executed_before_the_c_library_starts, *test::needs(test::host::ptrace_traceme)) {
  for (const char* command : {"create", "run", "exec"}) {
    BOOST_TEST_CONTEXT(command) {
      bool reexecuted = false;
      const auto calls = calls_before_the_reexecution(
          {"agentrun", "--root", "/nonexistent/agentrun-early", command, "early"}, reexecuted);
      BOOST_TEST_REQUIRE(reexecuted, "no second execution");
      BOOST_TEST(std::count(calls.begin(), calls.end(), SYS_execveat) == 1);
      BOOST_TEST(std::count(calls.begin(), calls.end(), SYS_arch_prctl) == 0);
      BOOST_TEST(calls.size() < 12u, calls.size());
    }
  }
  // Other commands execute once.
  bool reexecuted = true;
  calls_before_the_reexecution({"agentrun", "--root", "/nonexistent/agentrun-early", "state", "early"}, reexecuted);
  BOOST_TEST(!reexecuted);
}

BOOST_AUTO_TEST_CASE(init_holds_no_runtime_files) {
  Sandbox s;
  const int pid = created_init(s, test::base_config({"true"}), "fds");
  const std::string dir = "/proc/" + std::to_string(pid) + "/fd";
  DIR* d = ::opendir(dir.c_str());
  BOOST_TEST_REQUIRE(d != nullptr);
  std::vector<std::string> targets;
  while (dirent* e = ::readdir(d))
    if (e->d_name[0] != '.') targets.push_back(std::string(e->d_name) + " -> " + link_of(dir + "/" + e->d_name));
  ::closedir(d);
  for (const auto& t : targets) {
    BOOST_TEST(t.find(s.root) == std::string::npos, t);  // no state directory (its lock) or state file
    BOOST_TEST(t.find(".json") == std::string::npos, t);
  }
  // stdio, the start listener and the sync socket; nothing else of the runtime's.
  BOOST_TEST(targets.size() <= 5u, targets.size());
  BOOST_TEST(s.agentrun({"delete", "fds"}).code == 0);
}

BOOST_AUTO_TEST_CASE(init_in_a_user_namespace_is_not_dumpable, *test::needs(test::host::user_namespaces)) {
  Sandbox s;
  test::run_process({"/bin/chown", "-R", "100000:100000", s.rootfs});
  auto cfg = test::base_config({"true"});
  cfg["linux"]["namespaces"].PushBack(
      rapidjson::Value(rapidjson::kObjectType).AddMember("type", "user", cfg.GetAllocator()), cfg.GetAllocator());
  test::set_json(cfg, "/linux/uidMappings", R"([{"containerID": 0, "hostID": 100000, "size": 65536}])");
  test::set_json(cfg, "/linux/gidMappings", R"([{"containerID": 0, "hostID": 100000, "size": 65536}])");
  const int pid = created_init(s, cfg, "dump");
  // Its credentials are the mapped root's; a dumpable process's /proc files would be owned by it.
  // (Both PR_SET_DUMPABLE in create and the uid change in the init make it non-dumpable.)
  const std::string status = test::read_file("/proc/" + std::to_string(pid) + "/status");
  BOOST_TEST(status.find("Uid:\t100000") != std::string::npos, status);
  struct stat st;
  BOOST_TEST_REQUIRE(::stat(("/proc/" + std::to_string(pid) + "/environ").c_str(), &st) == 0);
  BOOST_TEST(st.st_uid == 0u);
  BOOST_TEST(s.agentrun({"delete", "dump"}).code == 0);
  BOOST_TEST(s.leftovers().empty());
}

// The container's program may not be the runtime's binary (runc
// CVE-2019-5736: an image whose entrypoint is /proc/self/exe, or a link to
// it, would make the container's process the host's agentrun, reopened for
// writing by its other processes once it stops).
BOOST_AUTO_TEST_CASE(the_runtime_binary_is_never_the_containers_program) {
  Sandbox s;
  BOOST_TEST_REQUIRE(::symlink("/proc/self/exe", (s.rootfs + "/bin/innocent").c_str()) == 0);
  struct stat before;
  BOOST_TEST_REQUIRE(::stat(AGENTRUN_BINARY, &before) == 0);
  for (const char* program : {"/proc/self/exe", "/bin/innocent", "/proc/1/exe"}) {
    BOOST_TEST_CONTEXT(program) {
      s.write_config(test::base_config({program, "--version"}));
      auto o = s.agentrun({"run", "--bundle", s.bundle, "self"});
      BOOST_TEST(o.code != 0);
      BOOST_TEST(o.out.find("agentrun version") == std::string::npos, o.out);
      BOOST_TEST(o.err.find("it is the runtime's own binary, which a container may not run") != std::string::npos, o.err);
    }
  }
  // Nor through exec into a running container (which runs from the read-only copy).
  s.write_config(test::base_config({"sleep", "30"}));
  BOOST_TEST_REQUIRE(s.agentrun({"run", "-d", "--bundle", s.bundle, "host"}).code == 0);
  auto e = s.agentrun({"exec", "host", "/bin/innocent", "--version"});
  BOOST_TEST(e.code != 0);
  BOOST_TEST(e.err.find("it is the runtime's own binary") != std::string::npos, e.err);
  BOOST_TEST(s.agentrun({"delete", "--force", "host"}).code == 0);
  struct stat after;
  BOOST_TEST_REQUIRE(::stat(AGENTRUN_BINARY, &after) == 0);
  BOOST_TEST(before.st_mtime == after.st_mtime);
  BOOST_TEST(s.leftovers().empty());
}

// On an SELinux host the process runs with process.selinuxLabel (before,
// the label was dropped silently). The test's own label is one the policy
// lets it take again.
BOOST_AUTO_TEST_CASE(the_process_runs_with_its_selinux_label, *test::needs(test::host::selinux)) {
  Sandbox s;
  std::string label = test::read_file("/proc/self/attr/current");
  while (!label.empty() && (label.back() == '\n' || label.back() == '\0')) label.pop_back();
  BOOST_TEST_REQUIRE(!label.empty());
  auto cfg = test::base_config({"cat", "/proc/self/attr/current"});
  test::set_string(cfg, "/process/selinuxLabel", label);
  auto o = s.run(cfg, "label");
  BOOST_TEST(o.code == 0, o.err);
  BOOST_TEST(o.out.substr(0, label.size()) == label, o.out);
  BOOST_TEST(s.leftovers().empty());
}
