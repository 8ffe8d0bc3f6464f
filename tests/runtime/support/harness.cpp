#include "support/harness.hpp"

#include <dirent.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <boost/test/unit_test.hpp>
#include <rapidjson/pointer.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <stdexcept>

#include "runtime/cli/default_spec.hpp"
#include "support/host.hpp"
#include "support/needs.hpp"

namespace test {
namespace {

// Every runtime test starts real containers: the whole module needs root,
// and is skipped with the reason without it.
const bool kNeedsRoot = [] {
  boost::unit_test::framework::master_test_suite().add_precondition([](boost::unit_test::test_unit_id) {
    boost::test_tools::assertion_result r(host::root().available);
    r.message() << host::root().reason;
    return r;
  });
  return true;
}();

void must(bool ok, const std::string& what) {
  if (!ok) throw std::runtime_error(what + ": " + std::to_string(errno));
}

void write_text(const std::string& path, const std::string& text) {
  std::ofstream f(path, std::ios::trunc);
  f << text;
  must(static_cast<bool>(f), "write " + path);
}

// The applets the tests use; each a symlink to the one static busybox.
const char* kApplets[] = {"sh", "cat", "echo", "ls", "id", "hostname", "mount", "grep", "touch", "mkdir", "sleep",
                          "true", "false", "stat", "readlink", "ulimit", "uname", "tty", "env", "pwd", "head",
                          "wc", "test", "kill", "ps", "chmod", "umask", "dd", "rm", "sed", "printf", "domainname",
                          "nproc", "cut", "tr", "od", "stty", "ionice", "taskset", "awk"};

void make_rootfs(const std::string& rootfs) {
  for (const char* d : {"", "/bin", "/etc", "/tmp", "/root", "/proc", "/sys", "/dev", "/home", "/home/agent"})
    must(::mkdir((rootfs + d).c_str(), 0755) == 0, std::string("mkdir ") + rootfs + d);
  ::chmod((rootfs + "/tmp").c_str(), 01777);
  std::ifstream src("/bin/busybox", std::ios::binary);
  std::ofstream dst(rootfs + "/bin/busybox", std::ios::binary);
  dst << src.rdbuf();
  dst.close();
  must(::chmod((rootfs + "/bin/busybox").c_str(), 0755) == 0, "chmod busybox");
  for (const char* a : kApplets) must(::symlink("busybox", (rootfs + "/bin/" + a).c_str()) == 0, "symlink applet");
  write_text(rootfs + "/etc/passwd", "root:x:0:0:root:/root:/bin/sh\nagent:x:1000:1000:agent:/home/agent:/bin/sh\n");
  write_text(rootfs + "/etc/group", "root:x:0:\nagent:x:1000:\n");
}

void remove_tree(const std::string& path) {
  DIR* d = ::opendir(path.c_str());
  if (d) {
    while (dirent* e = ::readdir(d)) {
      std::string n = e->d_name;
      if (n == "." || n == "..") continue;
      std::string p = path + "/" + n;
      struct stat st;
      if (::lstat(p.c_str(), &st) == 0 && S_ISDIR(st.st_mode))
        remove_tree(p);
      else
        ::unlink(p.c_str());
    }
    ::closedir(d);
  }
  ::rmdir(path.c_str());
}

// Every process but this one.
std::vector<int> other_processes() {
  std::vector<int> out;
  DIR* proc = ::opendir("/proc");
  must(proc != nullptr, "opendir /proc");
  while (dirent* e = ::readdir(proc))
    if (const int pid = std::atoi(e->d_name); pid > 0 && pid != ::getpid()) out.push_back(pid);
  ::closedir(proc);
  return out;
}

// The cgroup directories below `dir`, deepest first.
std::vector<std::string> cgroups_below(const std::string& dir) {
  std::vector<std::string> out;
  if (DIR* d = ::opendir(dir.c_str())) {
    while (dirent* e = ::readdir(d))
      if (e->d_type == DT_DIR && std::string(e->d_name) != "." && std::string(e->d_name) != "..") {
        for (auto& below : cgroups_below(dir + "/" + e->d_name)) out.push_back(std::move(below));
        out.push_back(dir + "/" + e->d_name);
      }
    ::closedir(d);
  }
  return out;
}

}  // namespace

Output run_process(const std::vector<std::string>& argv, int timeout_seconds, const std::string& input,
                   const std::vector<std::string>& cgroups) {
  int in[2], out[2], err[2];
  must(::pipe2(in, O_CLOEXEC) == 0 && ::pipe2(out, O_CLOEXEC) == 0 && ::pipe2(err, O_CLOEXEC) == 0, "pipe");
  std::vector<char*> args;
  for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  std::vector<std::string> procs;
  for (const auto& c : cgroups) procs.push_back(c + "/cgroup.procs");
  pid_t pid = ::fork();
  must(pid >= 0, "fork");
  if (pid == 0) {
    ::dup2(in[0], 0);
    ::dup2(out[1], 1);
    ::dup2(err[1], 2);
    for (const auto& p : procs) {
      const int fd = ::open(p.c_str(), O_WRONLY | O_CLOEXEC);
      if (fd < 0 || ::write(fd, "0", 1) != 1) {
        static const char msg[] = "test harness: cannot join the sandbox's cgroup\n";
        (void)!::write(2, msg, sizeof msg - 1);
        ::_exit(126);
      }
      ::close(fd);
    }
    ::execv(args[0], args.data());
    ::_exit(127);
  }
  ::close(in[0]);
  ::close(out[1]);
  ::close(err[1]);
  if (!input.empty()) (void)!::write(in[1], input.data(), input.size());
  ::close(in[1]);
  Output o;
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(timeout_seconds);
  pollfd fds[2] = {{out[0], POLLIN, 0}, {err[0], POLLIN, 0}};
  int status = 0;
  bool exited = false;
  // Until the process exits and its output is drained. A detached container
  // may keep the pipes open for longer: that is not the process's output.
  for (;;) {
    if (!exited && ::waitpid(pid, &status, WNOHANG) == pid) exited = true;
    if (!exited && std::chrono::steady_clock::now() > deadline) {
      ::kill(pid, SIGKILL);
      ::waitpid(pid, &status, 0);
      exited = true;
      o.err += "\n[test harness: killed after " + std::to_string(timeout_seconds) + "s]";
    }
    int ready = ::poll(fds, 2, exited ? 0 : 20);
    if (ready <= 0 && exited) break;
    for (auto& f : fds) {
      if (f.fd < 0 || !f.revents) continue;
      char buf[4096];
      ssize_t n = ::read(f.fd, buf, sizeof buf);
      if (n <= 0) {
        ::close(f.fd);
        f.fd = -1;
      } else {
        (&f == &fds[0] ? o.out : o.err).append(buf, static_cast<size_t>(n));
      }
    }
    if (fds[0].fd < 0 && fds[1].fd < 0 && exited) break;
  }
  for (auto& f : fds)
    if (f.fd >= 0) ::close(f.fd);
  o.code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  return o;
}

rapidjson::Document base_config(const std::vector<std::string>& args) {
  rapidjson::Document d;
  d.Parse(agentrun::default_spec_json(false, 0, 0).c_str());
  auto& a = d.GetAllocator();
  rapidjson::Pointer("/process/terminal").Set(d, false);
  rapidjson::Value list(rapidjson::kArrayType);
  for (const auto& s : args) list.PushBack(rapidjson::Value(s.c_str(), a), a);
  rapidjson::Pointer("/process/args").Set(d, list);
  return d;
}

void set_json(rapidjson::Document& d, const char* pointer, const std::string& json) {
  rapidjson::Document v(&d.GetAllocator());
  v.Parse(json.c_str());
  if (v.HasParseError()) throw std::runtime_error("bad JSON in test: " + json);
  rapidjson::Pointer(pointer).Set(d, v);
}

void set_string(rapidjson::Document& d, const char* pointer, const std::string& value) {
  rapidjson::Pointer(pointer).Set(d, value.c_str());
}

void remove_at(rapidjson::Document& d, const char* pointer) { rapidjson::Pointer(pointer).Erase(d); }

std::string to_json(const rapidjson::Value& v) {
  rapidjson::StringBuffer buf;
  rapidjson::Writer<rapidjson::StringBuffer> w(buf);
  v.Accept(w);
  return buf.GetString();
}

std::string quote(const std::string& s) {
  rapidjson::Value v(rapidjson::StringRef(s.c_str(), s.size()));
  return to_json(v);
}

Sandbox::Sandbox() {
  char tmpl[] = "/tmp/agentrun-test-XXXXXX";
  must(::mkdtemp(tmpl) != nullptr, "mkdtemp");
  dir = tmpl;
  ::chmod(dir.c_str(), 0755);
  root = dir + "/state";
  bundle = dir + "/bundle";
  rootfs = bundle + "/rootfs";
  must(::mkdir(bundle.c_str(), 0755) == 0, "mkdir bundle");
  make_rootfs(rootfs);
  const std::string name = dir.substr(dir.rfind('/') + 1);
  for (const auto& mount : host::cgroup_mounts()) {
    const std::string parent = host::sandbox_parent(mount);
    const std::string cg = parent + "/" + name;
    must(::mkdir(cg.c_str(), 0755) == 0, "mkdir " + cg);
    cgroups_.push_back(cg);
    joined_.push_back(cg);
    // On pure v2 the runtime's containers go beside its own cgroup (as
    // runc's): it runs in a leaf, so that they land in the sandbox.
    if (host::cgroup_layout() == host::CgroupLayout::v2) {
      joined_.back() = cg + "/runtime";
      must(::mkdir(joined_.back().c_str(), 0755) == 0, "mkdir " + joined_.back());
    }
    // A new v1 cpuset has no cpus or memory nodes: nothing could join it.
    for (const char* file : {"cpuset.cpus", "cpuset.mems"})
      if (file_exists(cg + "/" + file)) write_text(cg + "/" + file, read_file(parent + "/" + file));
  }
}

Sandbox::~Sandbox() {
  Output list = agentrun({"list", "-q"});
  std::istringstream ids(list.out);
  std::string id;
  while (std::getline(ids, id))
    if (!id.empty())
      if (Output d = agentrun({"delete", "--force", id}); d.code != 0) BOOST_ERROR("delete --force " << id << ": " << d.err);
  // Every runtime test ends here: whatever its containers left fails it.
  for (const auto& l : leftovers()) BOOST_ERROR("left behind: " << l);
  // Then the sandbox's cgroups go, with whatever empty ones were left below.
  for (const auto& cg : cgroups_) {
    for (const auto& below : cgroups_below(cg)) ::rmdir(below.c_str());
    if (::rmdir(cg.c_str()) != 0) BOOST_ERROR("cannot remove the sandbox's cgroup " << cg << ": errno " << errno);
  }
  remove_tree(dir);
}

void Sandbox::write_config(const rapidjson::Document& d) const {
  // Tagged so that leftovers() finds the container's processes by their environment.
  rapidjson::Document copy;
  copy.CopyFrom(d, copy.GetAllocator());
  if (auto* env = rapidjson::Pointer("/process/env").Get(copy); env && env->IsArray())
    env->PushBack(rapidjson::Value(tag().c_str(), copy.GetAllocator()),
                  copy.GetAllocator());
  write_config_text(to_json(copy));
}

void Sandbox::write_config_text(const std::string& text) const { write_text(bundle + "/config.json", text); }

bool systemd_driver() {
  const char* driver = std::getenv("AGENTRUN_TEST_CGROUP_DRIVER");
  return driver && std::string(driver) == "systemd";
}

boost::unit_test::precondition needs_cgroupfs_driver() {
  return needs([] {
    return host::Probe{!systemd_driver(),
                       "names cgroupfs paths; AGENTRUN_TEST_CGROUP_DRIVER=systemd runs the systemd driver"};
  });
}

Output Sandbox::agentrun(const std::vector<std::string>& args, int timeout_seconds, const std::string& input) const {
  // The driver flag first: tests find their agentrun by "--root ROOT --policy P COMMAND".
  std::vector<std::string> argv = {AGENTRUN_BINARY};
  if (systemd_driver()) argv.push_back("--systemd-cgroup");
  argv.insert(argv.end(), {"--root", root});
  if (!policy.empty()) argv.insert(argv.end(), {"--policy", policy});
  argv.insert(argv.end(), args.begin(), args.end());
  return run_process(argv, timeout_seconds, input, joined_);
}

Output Sandbox::command(const std::vector<std::string>& argv, int timeout_seconds) const {
  return run_process(argv, timeout_seconds, "", joined_);
}

Output Sandbox::run(const rapidjson::Document& config, const std::string& id) const {
  write_config(config);
  return agentrun({"run", "--bundle", bundle, id});
}

int Sandbox::pid_of(const std::string& id) const {
  rapidjson::Document d;
  d.Parse(agentrun({"state", id}).out.c_str());
  return !d.HasParseError() && d.IsObject() && d.HasMember("pid") && d["pid"].IsInt() ? d["pid"].GetInt() : 0;
}

std::vector<int> processes_running(const std::string& fragment) {
  std::vector<int> out;
  for (const int pid : other_processes()) {
    std::string cmdline = read_file("/proc/" + std::to_string(pid) + "/cmdline");
    std::replace(cmdline.begin(), cmdline.end(), '\0', ' ');
    if (cmdline.find(fragment) != std::string::npos) out.push_back(pid);
  }
  return out;
}

std::vector<std::string> Sandbox::leftovers() const {
  std::vector<std::string> out;
  DIR* d = ::opendir(root.c_str());
  if (d) {
    while (dirent* e = ::readdir(d))
      if (e->d_name[0] != '.') out.push_back("state dir " + root + "/" + e->d_name);
    ::closedir(d);
  }
  // By the sandbox's unique name: mounts below `dir`, and those named after
  // it elsewhere (a network namespace pinned in /run/netns).
  const std::string name = dir.substr(dir.rfind('/') + 1);
  std::istringstream mounts(read_file("/proc/self/mountinfo"));
  std::string line;
  while (std::getline(mounts, line))
    if (line.find(name) != std::string::npos) out.push_back("mount " + line);
  if (DIR* netns = ::opendir("/run/netns")) {
    while (dirent* e = ::readdir(netns))
      if (std::string(e->d_name).find(name) != std::string::npos)
        out.push_back("network namespace /run/netns/" + std::string(e->d_name));
    ::closedir(netns);
  }
  for (const int pid : other_processes()) {
    const std::string p = "/proc/" + std::to_string(pid);
    std::string cmdline = read_file(p + "/cmdline"), environ = read_file(p + "/environ");
    if (cmdline.find(dir) != std::string::npos || environ.find(tag()) != std::string::npos)
      out.push_back("process " + std::to_string(pid) + ": " + cmdline);
  }
  // Whatever the runtime made below the sandbox's cgroups, and any process
  // still in them; but for the shared agentrun/ that default paths go in,
  // which stays by design, once empty (the destructor removes it).
  for (const auto& cg : cgroups_) {
    for (const auto& below : cgroups_below(cg))
      if (std::find(joined_.begin(), joined_.end(), below) == joined_.end() &&
          !(below == cg + "/agentrun" && cgroups_below(below).empty()))
        out.push_back("cgroup " + below);
  }
  for (const auto& cg : joined_) {
    std::istringstream procs(read_file(cg + "/cgroup.procs"));
    for (std::string pid; std::getline(procs, pid);) out.push_back("process " + pid + " in cgroup " + cg);
  }
  // The systemd driver's scopes (tests run one at a time: any is this one's).
  if (systemd_driver())
    for (const auto& mount : host::cgroup_mounts())
      if (DIR* d = ::opendir((mount + "/system.slice").c_str())) {
        while (dirent* e = ::readdir(d))
          if (std::string n = e->d_name; n.rfind("agentrun-", 0) == 0 && n.size() > 6 && n.substr(n.size() - 6) == ".scope")
            out.push_back("cgroup " + mount + "/system.slice/" + n);
        ::closedir(d);
      }
  return out;
}

bool file_exists(const std::string& path) {
  struct stat st;
  return ::lstat(path.c_str(), &st) == 0;
}

std::map<std::string, std::string> probe_results(const std::string& out) {
  std::map<std::string, std::string> r;
  std::istringstream lines(out);
  for (std::string line; std::getline(lines, line);)
    if (auto eq = line.find('='); eq != std::string::npos) r[line.substr(0, eq)] = line.substr(eq + 1);
  return r;
}

}  // namespace test
