#include "runtime/container/egress_guard.hpp"

#include <arpa/inet.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <algorithm>

#include "runtime/util/child_process.hpp"
#include "runtime/util/fd.hpp"
#include "runtime/util/file_io.hpp"
#include "runtime/util/helper_binary.hpp"
#include "runtime/util/in_root.hpp"
#include "runtime/util/interface_addresses.hpp"
#include "runtime/util/log.hpp"
#include "runtime/util/proc_stat.hpp"
#include "runtime/util/sealed_exec.hpp"
#include "runtime/util/text_lines.hpp"
#include "spec/json_reader.hpp"
#include "spec/json_write.hpp"

#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

namespace agentrun {
namespace {

constexpr const char* kStep = "network.egress";
constexpr const char* kHelperName = "agentrun-egress";
// Loading libnftables and committing the rules takes milliseconds on a
// host, seconds in an emulated guest.
constexpr int64_t kReadyTimeoutMs = 30000;
// What the guard of a `run` that ended may take to log what is left.
constexpr int64_t kDrainTimeoutMs = 5000;
constexpr size_t kMaxLogBytes = size_t{1} << 20;

std::vector<std::string> nameservers(std::string_view text) {
  std::vector<std::string> out;
  for (std::string_view line : text_lines(text)) {
    if (!line.starts_with("nameserver")) continue;
    line.remove_prefix(10);
    const size_t start = line.find_first_not_of(" \t");
    if (start == 0 || start == std::string_view::npos) continue;
    line.remove_prefix(start);
    std::string addr(line.substr(0, line.find_first_of(" \t\r#;")));
    if (const size_t zone = addr.find('%'); zone != std::string::npos) addr.resize(zone);
    unsigned char buf[16];
    if (::inet_pton(AF_INET, addr.c_str(), buf) == 1 || ::inet_pton(AF_INET6, addr.c_str(), buf) == 1)
      out.push_back(addr);
  }
  return out;
}

}  // namespace

std::string egress_guard_config(const policy::EgressSetup& setup, const EgressGuardInput& in,
                                const std::string& log_file) {
  return spec::pretty_json([&](spec::PrettyWriter& w) {
    w.StartObject();
    spec::write_string(w, "id", in.id);
    spec::write_string(w, "netns", "/proc/" + std::to_string(in.init) + "/ns/net");
    if (!setup.table) spec::write_string(w, "ruleset", setup.ruleset);
    spec::write_string(w, "table", policy::kEgressTable);
    spec::write_number(w, "initPid", static_cast<int64_t>(in.init));
    if (setup.dns_proxy)
      spec::write_object(w, "dns", [&] {
        spec::write_number(w, "port", static_cast<int64_t>(policy::kEgressDnsPort));
        spec::write_string_list(w, "upstream", in.resolvers);
        spec::write_number(w, "mark", static_cast<int64_t>(policy::kEgressMark));
        spec::write_number(w, "allowAll", setup.answer_every_name);
        spec::write_array(w, "names", setup.names, [&](const policy::EgressName& n) {
          w.StartObject();
          spec::write_string(w, "pattern", n.pattern);
          spec::write_string_list(w, "elements", n.elements);
          w.EndObject();
        });
        spec::write_number(w, "minTtl", int64_t{5});
        spec::write_number(w, "maxTtl", int64_t{3600});
      });
    if (setup.log)
      spec::write_object(w, "log", [&] {
        spec::write_number(w, "group", static_cast<int64_t>(policy::kEgressLogGroup));
        spec::write_string(w, "file", log_file);
        spec::write_number(w, "maxBytes", static_cast<uint64_t>(kMaxLogBytes));
      });
    w.EndObject();
  });
}

std::string egress_record(const policy::EgressSetup& setup, const EgressGuardInput& in, const std::string& log_file,
                          const std::string& shared_with) {
  rapidjson::StringBuffer buf;
  rapidjson::Writer<rapidjson::StringBuffer> w(buf);
  w.StartObject();
  spec::write_string(w, "scope", shared_with.empty() ? "the container's network namespace"
                                                     : "a network namespace shared with container " + shared_with +
                                                           ", which put the same rules there and whose guard "
                                                           "answers its DNS and logs");
  std::vector<std::string> lines;
  for (std::string_view line : text_lines(setup.ruleset)) lines.emplace_back(line);
  spec::write_string_list(w, "nftables", lines);
  spec::write_number(w, "dnsThroughGuard", setup.dns_proxy);
  if (setup.dns_proxy) {
    spec::write_number(w, "anyNameResolves", setup.answer_every_name);
    std::vector<std::string> names;
    for (const auto& n : setup.names) names.push_back(n.pattern);
    spec::write_string_list(w, "names", names);
    spec::write_string_list(w, "resolvers", in.resolvers);
  }
  if (setup.log && shared_with.empty()) spec::write_string(w, "log", log_file);
  w.EndObject();
  return buf.GetString();
}

std::vector<std::string> host_addresses() {
  auto listed = interface_addresses();
  if (!listed) fail(std::string(kStep) + ": `host`", listed.error().message());
  std::vector<std::string> out;
  for (std::string& a : *listed) {
    // The container's own loopback is its own; link-local has its entry.
    if (a.starts_with("127.") || a == "::1" || a.starts_with("fe80:")) continue;
    if (std::find(out.begin(), out.end(), a) == out.end()) out.push_back(std::move(a));
  }
  return out;
}

std::vector<std::string> container_resolvers(const spec::Config& config, const std::string& rootfs) {
  for (auto m = config.mounts.rbegin(); m != config.mounts.rend(); ++m)
    if (clean_path(m->destination) == "/etc/resolv.conf") {
      auto text = read_regular_file(AT_FDCWD, m->source, kMaxInputBytes);
      if (!text) fail(std::string(kStep) + ": read the container's resolvers", text.error().message());
      return nameservers(*text);
    }
  UniqueFd root(::open(rootfs.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC));
  if (!root) fail_errno(std::string(kStep) + ": open the rootfs " + rootfs, errno);
  auto fd = open_in_root(root.get(), "/etc/resolv.conf", O_RDONLY | O_NONBLOCK | O_CLOEXEC);
  if (!fd) return {};
  auto text = read_regular(fd->get(), "/etc/resolv.conf of the container", kMaxInputBytes);
  if (!text) fail(std::string(kStep) + ": read the container's resolvers", text.error().message());
  return nameservers(*text);
}

namespace {

// Spawned (vfork and exec), not forked: no copy of the runtime's memory to
// make, and no copy-on-write faults after it. Its own session: the caller's
// terminal signals are not its business. Not the runtime's stdout and
// stderr: a shim reads those until they close, which would wait for the
// guard's end. `fd0` and `fd3` become its fds 0 and 3 (fd0 -1: /dev/null);
// `flag` goes before its configuration's path.
pid_t spawn_guard(const Store& store, const ContainerLock& lock, const std::string& id, const char* flag,
                  int fd0, int fd3) {
  const std::string helper = find_helper_binary(kHelperName, "AGENTRUN_EGRESS_HELPER", installed_binary_path(), kStep);
  const std::string config_path = store.file_path(id, "egress-guard.json");
  posix_spawnattr_t attr;
  posix_spawn_file_actions_t actions;
  sigset_t none;
  sigemptyset(&none);
  if (int rc = ::posix_spawnattr_init(&attr); rc != 0) fail_errno(std::string(kStep) + ": start the guard", rc);
  int rc = ::posix_spawn_file_actions_init(&actions);
  if (rc != 0) {
    ::posix_spawnattr_destroy(&attr);
    fail_errno(std::string(kStep) + ": start the guard", rc);
  }
  for (int r : {::posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSID | POSIX_SPAWN_SETSIGMASK),
                ::posix_spawnattr_setsigmask(&attr, &none),
                fd0 >= 0 ? ::posix_spawn_file_actions_adddup2(&actions, fd0, 0)
                         : ::posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0),
                ::posix_spawn_file_actions_adddup2(&actions, fd3, 3),
                ::posix_spawn_file_actions_addopen(&actions, 1, "/dev/null", O_RDWR, 0),
                ::posix_spawn_file_actions_adddup2(&actions, 1, 2),
                ::posix_spawn_file_actions_addclosefrom_np(&actions, 4)})
    if (rc == 0) rc = r;
  char* const argv[] = {const_cast<char*>(helper.c_str()), const_cast<char*>(flag),
                        const_cast<char*>(config_path.c_str()), nullptr};
  char* const envp[] = {const_cast<char*>("PATH=/usr/sbin:/usr/bin:/sbin:/bin"), nullptr};
  pid_t pid = 0;
  if (rc == 0) rc = ::posix_spawn(&pid, helper.c_str(), &actions, &attr, argv, envp);
  ::posix_spawn_file_actions_destroy(&actions);
  ::posix_spawnattr_destroy(&attr);
  if (rc != 0) fail_errno(std::string(kStep) + ": execute " + helper, rc);
  const auto st = read_proc_stat(pid);
  store.record_process(lock, id, "guard.json", pid, st ? st->start_time : 0);
  return pid;
}

}  // namespace

EgressGuard::EgressGuard(const Store& store, const ContainerLock& lock, const std::string& id) {
  int status[2], go[2];
  if (::pipe2(status, O_CLOEXEC) < 0) fail_errno(std::string(kStep) + ": pipe from the guard", errno);
  UniqueFd read_end(status[0]), write_end(status[1]);
  // A socket, not a pipe: sending to a guard that died fails without SIGPIPE.
  if (::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, go) < 0)
    fail_errno(std::string(kStep) + ": socket to the guard", errno);
  UniqueFd go_read(go[0]), go_write(go[1]);
  // It hears go on fd 0, reports on fd 3 and logs to its file.
  pid_ = spawn_guard(store, lock, id, "--nftables", go_read.get(), write_end.get());
  ready_ = read_end.release();
  go_ = go_write.release();
}

EgressGuard::EgressGuard(const Store& store, const ContainerLock& lock, const std::string& id, const UniqueFd& nflog) {
  pid_ = spawn_guard(store, lock, id, "--nflog-fd", -1, nflog.get());
}

EgressGuard::~EgressGuard() {
  for (int fd : {ready_, go_})
    if (fd >= 0) ::close(fd);
  if (pid_ > 0) {
    ::kill(pid_, SIGKILL);
    ::waitpid(pid_, nullptr, 0);
  }
}

void EgressGuard::go(const Store& store, const ContainerLock& lock, const policy::EgressSetup& setup,
                     const EgressGuardInput& in) {
  store.save_file(lock, in.id, "egress-guard.json",
                  egress_guard_config(setup, in, store.file_path(in.id, "egress.log")));
  // A guard that died meanwhile (EPIPE) says why in wait_ready.
  const ssize_t n = ::send(go_, "go\n", 3, MSG_NOSIGNAL);
  const int err = errno;
  ::close(go_);
  go_ = -1;
  if (n < 0 && err != EPIPE) fail_errno(std::string(kStep) + ": tell the guard to go", err);
}

std::string EgressGuard::wait_ready() {
  std::string said;
  const int64_t deadline = monotonic_ms() + kReadyTimeoutMs;
  for (;;) {
    const int64_t left = deadline - monotonic_ms();
    if (left <= 0) fail(std::string(kStep) + ": start the guard", "it did not report within 30 s");
    pollfd p{ready_, POLLIN, 0};
    const int n = ::poll(&p, 1, static_cast<int>(left));
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) fail_errno(std::string(kStep) + ": wait for the guard", errno);
    if (n == 0) continue;
    char buf[512];
    const ssize_t got = ::read(ready_, buf, sizeof buf);
    if (got < 0 && errno == EINTR) continue;
    if (got < 0) fail_errno(std::string(kStep) + ": read the guard's answer", errno);
    if (got > 0 && said.size() < 4096) said.append(buf, static_cast<size_t>(got));
    if (got == 0 || said.find('\n') != std::string::npos) break;
  }
  if (said == "ok\n") return "";
  if (said.starts_with("shared ") && said.ends_with("\n")) {
    int status = 0;
    if (::waitpid(pid_, &status, 0) == pid_) pid_ = 0;
    return said.substr(7, said.size() - 8);
  }
  std::string reason = said.substr(0, said.find('\n'));
  if (reason.starts_with("error: ")) reason.erase(0, 7);
  if (reason.empty()) {
    // It closed the pipe without a word: how it ended says why.
    std::string how = "it closed its pipe";
    for (int i = 0; i < 100; ++i) {
      int status = 0;
      if (::waitpid(pid_, &status, WNOHANG) == pid_) {
        how = "it ended with " + describe_wait_status(status);
        pid_ = 0;
        break;
      }
      ::usleep(10000);
    }
    reason = how + " before its rules were in place";
  }
  fail(std::string(kStep) + ": the egress guard", reason);
}

namespace {

// Whether `path` names the same namespace as `reference` (nsfs: device and
// inode). A reference this process may not see (PID 1's, from inside a
// sandbox that hides it) is not that namespace.
bool same_namespace(const std::string& path, const std::string& reference) {
  struct stat sa, sb;
  if (::stat(path.c_str(), &sa) != 0) fail_errno("network.egress: stat " + path, errno);
  if (::stat(reference.c_str(), &sb) != 0) return false;
  return sa.st_dev == sb.st_dev && sa.st_ino == sb.st_ino;
}

}  // namespace

std::optional<ContainerEgress> container_egress(const policy::Policy& chosen, const spec::Config& config,
                                                const std::string& rootfs, const std::string& id) {
  const auto& rules = chosen.network.egress;
  const auto ns = std::find_if(config.linux.namespaces.begin(), config.linux.namespaces.end(),
                               [](const spec::Namespace& n) { return n.type == spec::NamespaceType::network; });
  if (!rules || ns == config.linux.namespaces.end()) return std::nullopt;
  // docker's host network joins the host's namespace by path: as if shared.
  if (!ns->path.empty() &&
      (same_namespace(ns->path, "/proc/self/ns/net") || same_namespace(ns->path, "/proc/1/ns/net"))) {
    const std::string what = "network.egress needs a network namespace of the container's own; config.json joins " +
                             ns->path + ", which is the host's (the runtime's own, or its PID 1's)";
    const std::string fix = "join another network namespace (docker and podman: leave out --network host), or use a "
                            "policy without network.egress";
    if (chosen.isolation == policy::Isolation::strict)
      fail("policy " + policy::shown_name(chosen), what + "; " + fix);
    log_message(LogLevel::warning, "policy " + policy::shown_name(chosen) + " (best-effort): " + what +
                                       ": no egress rules");
    return std::nullopt;
  }
  ContainerEgress e{policy::egress_setup(*rules, host_addresses(), id), {}};
  if (e.setup.dns_proxy) {
    e.resolvers = container_resolvers(config, rootfs);
    if (e.resolvers.empty())
      fail("policy " + policy::shown_name(chosen) + ": network.egress",
           "allowed names are resolved through the container's resolvers, and its /etc/resolv.conf names none; "
           "give the container a resolv.conf with a nameserver (docker and podman write one), or allow addresses "
           "instead of names");
  }
  return e;
}

pid_t start_logger(const Store& store, const std::string& id, UniqueFd& nflog) {
  if (!nflog) return 0;
  const ContainerLock lock = store.lock(id);
  const pid_t pid = EgressGuard(store, lock, id, nflog).release();
  nflog.reset();
  return pid;
}

void DeferredLogger::readable() {
  // Our child, not reaped before ended(): the pid names it until then.
  const pid_t pid = start_logger(store_, id_, nflog_);
  guard_.reset(static_cast<int>(::syscall(SYS_pidfd_open, pid, 0)));
  if (!guard_) fail_errno(std::string(kStep) + ": watch the guard (pid " + std::to_string(pid) + ")", errno);
}

void DeferredLogger::ended() {
  if (nflog_) {
    pollfd p{nflog_.get(), POLLIN, 0};
    if (::poll(&p, 1, 0) <= 0) return;  // nothing was logged
    readable();
  }
  if (!guard_) return;
  pollfd p{guard_.get(), POLLIN, 0};
  const int64_t deadline = monotonic_ms() + kDrainTimeoutMs;
  for (int64_t left = kDrainTimeoutMs; left > 0; left = deadline - monotonic_ms()) {
    const int n = ::poll(&p, 1, static_cast<int>(left));
    if (n > 0 || (n < 0 && errno != EINTR)) return;
  }
  log_message(LogLevel::warning, "the egress guard of " + id_ + " did not finish its log within 5 s");
}

KilledGuard kill_egress_guard(const Store& store, const std::string& id) {
  const std::string path = store.file_path(id, "guard.json");
  auto text = read_regular_file(AT_FDCWD, path, 4096, O_NOFOLLOW);
  if (!text) {
    if (text.error().errnum == ENOENT) return {};
    throw Failure(text.error());
  }
  const spec::JsonDocument doc(*text, path);
  const pid_t pid = doc.root().at("pid").i32();
  const uint64_t start_time = doc.root().at("startTime").u64();
  UniqueFd fd = open_process(pid, start_time);
  if (!fd) return {};  // gone, or another process now
  if (::syscall(SYS_pidfd_send_signal, fd.get(), SIGKILL, nullptr, 0) < 0 && errno != ESRCH)
    fail_errno("kill the egress guard of " + id + " (pid " + std::to_string(pid) + ")", errno);
  return KilledGuard(std::move(fd), pid);
}

void KilledGuard::await_end() {
  if (!pidfd_) return;
  pollfd p{pidfd_.get(), POLLIN, 0};
  ::poll(&p, 1, 5000);
  ::waitpid(pid_, nullptr, WNOHANG);
  pidfd_.reset();
}

}  // namespace agentrun
