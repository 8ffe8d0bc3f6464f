#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <rapidjson/document.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <boost/test/unit_test.hpp>
#include <cerrno>
#include <csignal>
#include <cstdlib>
#include <filesystem>
#include <map>
#include <string>

#include "runtime/confine/landlock.hpp"
#include "runtime/util/fd.hpp"
#include "support/checks.hpp"
#include "support/needs.hpp"

using namespace agentrun;
namespace fs = std::filesystem;

namespace {

// The uapi values, spelled out so that a wrong constant in the code shows.
constexpr uint64_t kExecute = 1 << 0, kWriteFile = 1 << 1, kReadFile = 1 << 2, kReadDir = 1 << 3,
                   kRemoveDir = 1 << 4, kRemoveFile = 1 << 5, kMakeChar = 1 << 6, kMakeDir = 1 << 7,
                   kMakeReg = 1 << 8, kMakeSock = 1 << 9, kMakeFifo = 1 << 10, kMakeBlock = 1 << 11,
                   kMakeSym = 1 << 12, kRefer = 1 << 13, kTruncate = 1 << 14, kIoctlDev = 1 << 15;
constexpr uint64_t kBindTcp = 1 << 0, kConnectTcp = 1 << 1;
constexpr uint64_t kScopeAbstractUnix = 1 << 0, kScopeSignal = 1 << 1;

std::map<std::string, uint64_t> rules_of(const LandlockRuleset& rs) {
  std::map<std::string, uint64_t> out;
  for (const auto& [path, rights] : rs.path_rules) {
    BOOST_TEST(!out.count(path), "one rule per path: " << path);
    out[path] = rights;
  }
  return out;
}

// Runs body() in a child confined by `rs` (with no_new_privs, so no
// privilege is needed) and returns its outcome: body's result, or
// kSetupFailed when the ruleset could not be applied.
template <class Body>
int sandboxed(const LandlockRuleset& rs, Body body) {
  return run_confined_child([&] { return static_cast<bool>(apply_landlock(linux_sys(), rs)); }, body);
}

// The error apply_landlock reports in a child (so that an unexpected
// success confines only the child), "" if it succeeded.
std::string apply_error(const LandlockRuleset& rs) {
  int p[2];
  BOOST_REQUIRE(::pipe(p) == 0);
  pid_t pid = ::fork();
  BOOST_REQUIRE(pid >= 0);
  if (pid == 0) {
    ::close(p[0]);
    std::string msg;
    if (::prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
      msg = "prctl failed";
    else if (auto st = apply_landlock(linux_sys(), rs); !st)
      msg = st.error().message();
    ssize_t n = ::write(p[1], msg.data(), msg.size());
    ::_exit(n == static_cast<ssize_t>(msg.size()) ? 0 : 1);
  }
  ::close(p[1]);
  std::string out;
  char buf[512];
  for (ssize_t n; (n = ::read(p[0], buf, sizeof buf)) > 0;) out.append(buf, static_cast<size_t>(n));
  ::close(p[0]);
  int status = 0;
  BOOST_REQUIRE(::waitpid(pid, &status, 0) == pid);
  BOOST_TEST(outcome(status) == 0);
  return out;
}

int errno_of(int rc) { return rc < 0 ? errno : 0; }

int open_errno(const std::string& path, int flags) {
  int fd = ::open(path.c_str(), flags | O_CLOEXEC, 0644);
  if (fd < 0) return errno;
  ::close(fd);
  return 0;
}

// execv returns only when it failed: then its errno; else the program's exit code.
int exec_errno(const std::string& path) {
  char* const argv[] = {const_cast<char*>(path.c_str()), nullptr};
  ::execv(path.c_str(), argv);
  return errno;
}

int connect_errno(int domain, const sockaddr* addr, socklen_t len) {
  UniqueFd s(::socket(domain, SOCK_STREAM | SOCK_CLOEXEC, 0));
  if (!s) return kSetupFailed;
  return errno_of(::connect(s.get(), addr, len));
}

sockaddr_in loopback(uint16_t port) {
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(port);
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  return a;
}

// A TCP listener on 127.0.0.1 at a port the kernel picks.
UniqueFd tcp_listener(uint16_t& port) {
  UniqueFd s(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
  BOOST_REQUIRE(s.valid());
  sockaddr_in a = loopback(0);
  socklen_t len = sizeof a;
  BOOST_REQUIRE(::bind(s.get(), reinterpret_cast<sockaddr*>(&a), len) == 0);
  BOOST_REQUIRE(::listen(s.get(), 8) == 0);
  BOOST_REQUIRE(::getsockname(s.get(), reinterpret_cast<sockaddr*>(&a), &len) == 0);
  port = ntohs(a.sin_port);
  return s;
}

// tmp/bin and tmp/w each hold a copy of /bin/true; tmp/ro holds a file.
struct Tree : TempDir {
  Tree() : TempDir("landlock") {
    for (const char* d : {"bin", "w", "ro"}) fs::create_directory(path + "/" + d);
    for (const char* d : {"bin", "w"}) fs::copy_file("/bin/true", path + "/" + d + "/true");
    int fd = ::open((path + "/ro/file").c_str(), O_CREAT | O_WRONLY | O_CLOEXEC, 0644);
    BOOST_REQUIRE(fd >= 0);
    BOOST_REQUIRE(::write(fd, "x", 1) == 1);
    ::close(fd);
  }
  LandlockRuleset ruleset() const {
    LandlockPolicy p;
    // /bin/true is dynamically linked: the kernel opens its ELF interpreter
    // for execution too, and Landlock checks that against EXECUTE.
    p.exec_from = {path + "/bin", "/usr", "/lib", "/lib64"};
    p.writable = {path + "/w", path + "/missing"};  // a missing path is skipped
    p.device_paths = {"/dev/null"};                 // a file: only file rights apply
    return landlock_ruleset(p, landlock_abi());
  }
};

}  // namespace

BOOST_AUTO_TEST_CASE(handled_rights_follow_the_abi) {
  LandlockPolicy p;
  p.tcp_bind = std::vector<uint16_t>{};
  p.tcp_connect = std::vector<uint16_t>{};
  const uint64_t abi1 = (1 << 13) - 1;
  const std::map<int, uint64_t> fs_by_abi = {{1, abi1},
                                             {2, abi1 | kRefer},
                                             {3, abi1 | kRefer | kTruncate},
                                             {4, abi1 | kRefer | kTruncate},
                                             {5, abi1 | kRefer | kTruncate | kIoctlDev},
                                             {6, abi1 | kRefer | kTruncate | kIoctlDev},
                                             {7, abi1 | kRefer | kTruncate | kIoctlDev}};
  for (const auto& [abi, handled] : fs_by_abi) {
    BOOST_TEST_CONTEXT("ABI " << abi) {
      auto rs = landlock_ruleset(p, abi);
      BOOST_TEST(rs.abi == abi);
      BOOST_TEST(rs.handled_fs == handled);
      BOOST_TEST(rs.handled_net == (abi >= 4 ? kBindTcp | kConnectTcp : 0));
      BOOST_TEST(rs.scoped == (abi >= 6 ? kScopeAbstractUnix | kScopeSignal : 0));
    }
  }
  auto none = landlock_ruleset(p, 0);
  BOOST_TEST(none.handled_fs == 0u);
  BOOST_TEST(none.path_rules.empty());
}

BOOST_AUTO_TEST_CASE(rules_per_abi) {
  LandlockPolicy p;
  p.exec_from = {"/usr", "/workspace/bin"};
  p.writable = {"/workspace", "/tmp", "/workspace/bin"};
  p.device_paths = {"/dev/null", "/dev/pts"};
  const uint64_t write1 =
      kWriteFile | kRemoveDir | kRemoveFile | kMakeDir | kMakeReg | kMakeSock | kMakeFifo | kMakeSym;
  for (int abi = 1; abi <= 7; ++abi) {
    BOOST_TEST_CONTEXT("ABI " << abi) {
      auto rs = landlock_ruleset(p, abi);
      const uint64_t write = write1 | (abi >= 2 ? kRefer : 0) | (abi >= 3 ? kTruncate : 0);
      const uint64_t device = write | (abi >= 5 ? kIoctlDev : 0);
      auto rules = rules_of(rs);
      const std::map<std::string, uint64_t> expected = {
          {"/", kReadFile | kReadDir},    {"/usr", kExecute},        {"/workspace/bin", kExecute | write},
          {"/workspace", write},          {"/tmp", write},           {"/dev/null", device},
          {"/dev/pts", device}};
      BOOST_TEST((rules == expected));
      BOOST_TEST(rs.path_rules.front().first == "/");
      for (const auto& [path, rights] : rs.path_rules) {
        BOOST_TEST((rights & (kMakeChar | kMakeBlock)) == 0u, path << " may create device nodes");
        BOOST_TEST((rights & ~rs.handled_fs) == 0u, path << " has a right the ruleset does not handle");
      }
      BOOST_TEST(rs.port_rules.empty());
      BOOST_TEST(rs.handled_net == 0u);
    }
  }
}

BOOST_AUTO_TEST_CASE(tcp_ports_and_scopes) {
  LandlockPolicy p;
  p.tcp_bind = std::vector<uint16_t>{8080};
  p.tcp_connect = std::vector<uint16_t>{443, 8080};
  for (int abi = 1; abi <= 7; ++abi) {
    auto rs = landlock_ruleset(p, abi);
    std::vector<std::pair<uint16_t, uint64_t>> expected;
    if (abi >= 4) expected = {{8080, kBindTcp | kConnectTcp}, {443, kConnectTcp}};
    BOOST_TEST((rs.port_rules == expected), "ABI " << abi);
  }
  // Only the limited direction is handled.
  p.tcp_bind.reset();
  BOOST_TEST(landlock_ruleset(p, 7).handled_net == kConnectTcp);
  p.tcp_connect.reset();
  p.scope_signals = false;
  auto rs = landlock_ruleset(p, 7);
  BOOST_TEST(rs.handled_net == 0u);
  BOOST_TEST(rs.port_rules.empty());
  BOOST_TEST(rs.scoped == kScopeAbstractUnix);
  p.scope_abstract_unix = false;
  BOOST_TEST(landlock_ruleset(p, 7).scoped == 0u);
}

BOOST_AUTO_TEST_CASE(json_names_rights) {
  LandlockPolicy p;
  p.exec_from = {"/usr"};
  p.writable = {"/workspace"};
  p.tcp_connect = std::vector<uint16_t>{443};
  rapidjson::Document d;
  d.Parse(landlock_ruleset_json(landlock_ruleset(p, 7)).c_str());
  BOOST_REQUIRE(!d.HasParseError());
  BOOST_TEST(d["abi"].GetInt() == 7);
  BOOST_TEST(d["handledAccessFs"].Size() == 16u);
  BOOST_TEST(d["handledAccessFs"][15].GetString() == std::string("ioctl_dev"));
  BOOST_TEST(d["handledAccessNet"].Size() == 1u);  // only connect is limited
  BOOST_TEST(d["handledAccessNet"][0].GetString() == std::string("connect_tcp"));
  BOOST_TEST(d["scoped"][0].GetString() == std::string("abstract_unix_socket"));
  BOOST_TEST(d["scoped"][1].GetString() == std::string("signal"));
  const auto& rules = d["pathRules"];
  BOOST_REQUIRE(rules.Size() == 3u);
  BOOST_TEST(rules[0]["path"].GetString() == std::string("/"));
  BOOST_TEST(rules[0]["access"].Size() == 2u);
  BOOST_TEST(rules[1]["access"][0].GetString() == std::string("execute"));
  BOOST_TEST(rules[2]["path"].GetString() == std::string("/workspace"));
  BOOST_TEST(rules[2]["access"].Size() == 10u);
  BOOST_TEST(d["portRules"][0]["port"].GetUint() == 443u);
  BOOST_TEST(d["portRules"][0]["access"][0].GetString() == std::string("connect_tcp"));
}

BOOST_AUTO_TEST_CASE(unavailable_is_an_error) {
  auto st = apply_landlock(linux_sys(), landlock_ruleset({}, 0));
  BOOST_REQUIRE(!st);
  BOOST_TEST(st.error().message() == "landlock: not available on this kernel");
}

BOOST_FIXTURE_TEST_CASE(execute_only_beneath_exec_from, Tree, *test::needs_landlock(1)) {
  auto rs = ruleset();
  BOOST_TEST(sandboxed(rs, [&] { return exec_errno(path + "/bin/true"); }) == 0);
  BOOST_TEST(sandboxed(rs, [&] { return exec_errno(path + "/w/true"); }) == EACCES);
}

BOOST_FIXTURE_TEST_CASE(write_only_beneath_writable, Tree, *test::needs_landlock(3)) {
  auto rs = ruleset();
  BOOST_TEST(sandboxed(rs, [&] { return open_errno(path + "/w/new", O_CREAT | O_WRONLY | O_TRUNC); }) == 0);
  BOOST_TEST(sandboxed(rs, [&] { return open_errno(path + "/ro/new", O_CREAT | O_WRONLY); }) == EACCES);
  BOOST_TEST(sandboxed(rs, [&] { return open_errno(path + "/ro/file", O_WRONLY); }) == EACCES);
  BOOST_TEST(sandboxed(rs, [&] { return errno_of(::truncate((path + "/ro/file").c_str(), 0)); }) == EACCES);
  BOOST_TEST(sandboxed(rs, [&] { return errno_of(::unlink((path + "/ro/file").c_str())); }) == EACCES);
  BOOST_TEST(sandboxed(rs, [&] {
               if (::mkdir((path + "/w/a").c_str(), 0755) != 0 || ::mkdir((path + "/w/b").c_str(), 0755) != 0 ||
                   open_errno(path + "/w/a/f", O_CREAT | O_WRONLY) != 0)
                 return kSetupFailed;
               return errno_of(::rename((path + "/w/a/f").c_str(), (path + "/w/b/f").c_str()));
             }) == 0);
}

BOOST_FIXTURE_TEST_CASE(read_everywhere, Tree, *test::needs_landlock(1)) {
  auto rs = ruleset();
  BOOST_TEST(sandboxed(rs, [&] { return open_errno(path + "/ro/file", O_RDONLY); }) == 0);
  BOOST_TEST(sandboxed(rs, [&] { return open_errno(path + "/ro", O_RDONLY | O_DIRECTORY); }) == 0);
  BOOST_TEST(sandboxed(rs, [&] { return open_errno("/etc/passwd", O_RDONLY); }) == 0);
}

BOOST_FIXTURE_TEST_CASE(fifos_but_never_device_nodes, Tree, *test::needs_landlock(1)) {
  auto rs = ruleset();
  BOOST_TEST(sandboxed(rs, [&] { return errno_of(::mkfifo((path + "/w/fifo").c_str(), 0600)); }) == 0);
  BOOST_TEST(sandboxed(rs, [&] { return errno_of(::mkfifo((path + "/ro/fifo").c_str(), 0600)); }) == EACCES);
  // Landlock answers before the CAP_MKNOD check, so this holds for root too.
  BOOST_TEST(sandboxed(rs, [&] {
               return errno_of(::mknod((path + "/w/null").c_str(), S_IFCHR | 0666, makedev(1, 3)));
             }) == EACCES);
}

BOOST_FIXTURE_TEST_CASE(device_paths_are_writable_files, Tree, *test::needs_landlock(1)) {
  auto rs = ruleset();
  BOOST_TEST(sandboxed(rs, [] { return open_errno("/dev/null", O_WRONLY); }) == 0);
  BOOST_TEST(sandboxed(rs, [] { return open_errno("/dev/zero", O_WRONLY); }) == EACCES);
}

BOOST_FIXTURE_TEST_CASE(errors_name_the_path, Tree, *test::needs_landlock(1)) {
  LandlockPolicy p;
  p.writable = {path + "/ro/file/below"};
  BOOST_TEST(apply_error(landlock_ruleset(p, landlock_abi())) ==
             "landlock: open " + path + "/ro/file/below: not a directory");
}

BOOST_AUTO_TEST_CASE(signals_scoped_to_the_domain, *test::needs_landlock(6)) {
  LandlockPolicy p;
  auto rs = landlock_ruleset(p, landlock_abi());
  BOOST_TEST(sandboxed(rs, [] { return errno_of(::kill(::getppid(), 0)); }) == EPERM);
  BOOST_TEST(sandboxed(rs, [] { return errno_of(::kill(::getpid(), 0)); }) == 0);
  p.scope_signals = false;
  BOOST_TEST(sandboxed(landlock_ruleset(p, landlock_abi()), [] { return errno_of(::kill(::getppid(), 0)); }) == 0);
}

BOOST_AUTO_TEST_CASE(abstract_unix_sockets_scoped, *test::needs_landlock(6)) {
  UniqueFd listener(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
  BOOST_REQUIRE(listener.valid());
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  const std::string name = "agentrun-landlock-test-" + std::to_string(::getpid());
  name.copy(addr.sun_path + 1, sizeof addr.sun_path - 2);  // sun_path[0] = 0: abstract
  const auto len = static_cast<socklen_t>(offsetof(sockaddr_un, sun_path) + 1 + name.size());
  BOOST_REQUIRE(::bind(listener.get(), reinterpret_cast<sockaddr*>(&addr), len) == 0);
  BOOST_REQUIRE(::listen(listener.get(), 8) == 0);
  auto connect = [&] { return connect_errno(AF_UNIX, reinterpret_cast<sockaddr*>(&addr), len); };

  LandlockPolicy p;
  BOOST_TEST(sandboxed(landlock_ruleset(p, landlock_abi()), connect) == EPERM);
  p.scope_abstract_unix = false;
  BOOST_TEST(sandboxed(landlock_ruleset(p, landlock_abi()), connect) == 0);
}

BOOST_AUTO_TEST_CASE(tcp_connect_only_to_allowed_ports, *test::needs_landlock(4)) {
  uint16_t allowed = 0, other = 0;
  UniqueFd a = tcp_listener(allowed), b = tcp_listener(other);
  LandlockPolicy p;
  p.tcp_connect = std::vector<uint16_t>{allowed};
  p.tcp_bind = std::vector<uint16_t>{};
  auto rs = landlock_ruleset(p, landlock_abi());
  auto connect_to = [](uint16_t port) {
    sockaddr_in addr = loopback(port);
    return connect_errno(AF_INET, reinterpret_cast<sockaddr*>(&addr), sizeof addr);
  };
  BOOST_TEST(sandboxed(rs, [&] { return connect_to(allowed); }) == 0);
  BOOST_TEST(sandboxed(rs, [&] { return connect_to(other); }) == EACCES);
  // No bind rule: not even an ephemeral port (port 0).
  BOOST_TEST(sandboxed(rs, [] {
               UniqueFd s(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
               sockaddr_in any = loopback(0);
               return errno_of(::bind(s.get(), reinterpret_cast<sockaddr*>(&any), sizeof any));
             }) == EACCES);
}

// What preflight says of each ABI agentrun meets on current LTS kernels.
BOOST_AUTO_TEST_CASE(the_shortfall_of_each_abi) {
  BOOST_TEST(landlock_shortfall(7) == "");
  BOOST_TEST(landlock_shortfall(6) == "");
  const std::string scopes = "signal and abstract unix socket scopes (ABI 6, Linux 6.12): a container sharing the "
                             "host's pid or network namespace is refused under strict";
  const std::string ioctl = "device ioctl (ABI 5, Linux 6.10): not restricted, beyond the device list and seccomp";
  const std::string truncate = "truncate (ABI 3, Linux 6.2): a stacked seccomp filter refuses truncate(2) and read-only O_TRUNC opens";
  BOOST_TEST(landlock_shortfall(5) == "lacks " + scopes);
  BOOST_TEST(landlock_shortfall(4) == "lacks " + ioctl + "; " + scopes);
  BOOST_TEST(landlock_shortfall(2) == "lacks " + truncate + "; " + ioctl + "; " + scopes);  // Linux 6.1
  BOOST_TEST(landlock_shortfall(1) == landlock_shortfall(2));                                  // Linux 5.15
}
