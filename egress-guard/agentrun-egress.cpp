// agentrun-egress [--nftables | --nflog-fd] CONFIG: the egress guard of
// one container (issue 15, egress-guard/README.md). With --nflog-fd it only
// logs, from a socket the runtime bound (set_up_logger). Otherwise, once
// the runtime says "go" on fd 0,
// reads CONFIG, enters the container's network namespace, installs the
// ruleset (unless the runtime has), opens the DNS proxy and the NFLOG reader, says
// "ok\n" on fd 3 (or "error: STEP: MESSAGE\n" and exits 1), then serves
// until killed or until the container's init exits. Started by `create`,
// killed by `delete`. Everything fails closed: if the guard dies, the
// ruleset stays and names stop resolving.

#include <fcntl.h>
#include <malloc.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "egress-guard/config.hpp"
#include "egress-guard/dns_proxy.hpp"
#include "egress-guard/failure.hpp"
#include "egress-guard/log_file.hpp"
#include "egress-guard/log_lines.hpp"
#include "egress-guard/nflog_socket.hpp"
#include "egress-guard/nft.hpp"
#include "egress-guard/table_owner.hpp"
#include "runtime/confine/nft_owner.hpp"

namespace agentrun::egress {
namespace {

constexpr int kGoFd = 0;
constexpr int kStatusFd = 3;
constexpr int kNflogFd = 3;  // --nflog-fd: no status pipe then
constexpr off_t kMaxConfig = 16 << 20;

void harden() {
  // Only what the runtime meant to give: stdio and fd 3 (the status pipe, or the bound log socket).
  if (syscall(SYS_close_range, 4u, ~0u, 0u) != 0) fail_errno("start", "close_range 4..", errno);
  if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0) fail_errno("start", "PR_SET_NO_NEW_PRIVS", errno);
  // Replies to clients that went away must not kill the guard.
  if (signal(SIGPIPE, SIG_IGN) == SIG_ERR) fail_errno("start", "ignore SIGPIPE", errno);
  // Out of the create command's process group: a signal to its terminal's
  // group is not meant for the guard, which outlives it.
  if (setsid() < 0 && errno != EPERM) fail_errno("start", "setsid", errno);
}

std::string read_config(const char* path) {
  const int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
  if (fd < 0) fail_errno("config", std::string("open ") + path, errno);
  struct stat st {};
  if (fstat(fd, &st) != 0) fail_errno("config", std::string("fstat ") + path, errno);
  if (!S_ISREG(st.st_mode) || st.st_size > kMaxConfig) fail("config", std::string(path) + " is not a regular file of at most 16 MiB");
  std::string text(static_cast<size_t>(st.st_size), '\0');
  size_t done = 0;
  while (done < text.size()) {
    const ssize_t n = read(fd, text.data() + done, text.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) fail_errno("config", std::string("read ") + path, errno);
    if (n == 0) break;
    done += static_cast<size_t>(n);
  }
  close(fd);
  text.resize(done);
  return text;
}

void enter_netns(const std::string& path) {
  const int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) fail_errno("netns", "open " + path, errno);
  // The runtime's own namespace is the host's (docker's host network joins
  // it by path): rules there would confine the host, never the container.
  struct stat target {}, own {};
  if (fstat(fd, &target) != 0) fail_errno("netns", "fstat " + path, errno);
  if (stat("/proc/self/ns/net", &own) != 0) fail_errno("netns", "stat /proc/self/ns/net", errno);
  if (target.st_dev == own.st_dev && target.st_ino == own.st_ino)
    fail("netns", path + " is the runtime's own network namespace (the host's): egress rules there would confine "
                         "the host");
  // The guard stays in it: every socket it makes from here on, the
  // upstream ones included, belongs to the container's network.
  if (setns(fd, CLONE_NEWNET) != 0) fail_errno("netns", "setns " + path, errno);
  close(fd);
}

// One line on the status pipe, whatever the message holds.
void report(std::string line) {
  for (size_t i = 0; i + 1 < line.size(); ++i)
    if (line[i] == '\n') line[i] = ' ';
  size_t done = 0;
  while (done < line.size()) {
    const ssize_t n = write(kStatusFd, line.data() + done, line.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return;  // the runtime is gone; nobody to tell
    done += static_cast<size_t>(n);
  }
}

struct Guard {
  Config config;
  std::unique_ptr<Nft> nft;
  std::unique_ptr<LogFile> log;
  std::unique_ptr<NflogSocket> nflog;
  std::unique_ptr<DnsProxy> dns;
  int init_fd = -1;
  std::string shared_with;  // the owner of the rules found in place
};

// Containers of a pod share a network namespace: the first one's guard
// owns the table, the others' find it there with the same rules. A
// container of the same id (restarted in its pod) takes its table back.
void install_over(Guard& g, const std::optional<std::string>& listed) {
  if (listed) {
    const nft::FoundTable found =
        nft::judge_found_table(table_comment(*listed), table_comment(g.config.ruleset).value_or(""));
    if (found.action == nft::FoundTable::Action::share) {
      g.shared_with = found.owner;
      return;
    }
    if (found.action == nft::FoundTable::Action::refuse) fail("ruleset", found.reason);
  }
  // Its own table, from before a restart, is replaced in the same transaction.
  const std::string script = listed ? "delete table inet " + g.config.table + "\n" + g.config.ruleset : g.config.ruleset;
  if (const std::string error = g.nft->run(script); !error.empty()) fail("ruleset", error);
}

void install(Guard& g) {
  // Usually the namespace is new: one transaction makes the table, and
  // fails if the table is there already. Only then is it listed (a ruleset
  // nft refuses is then tried alone, for nft's message about its lines).
  if (const auto exclusive = create_table_first(g.config.table, g.config.ruleset))
    if (g.nft->run(*exclusive).empty()) return;
  install_over(g, g.nft->list("list table inet " + g.config.table));
}

// The runtime starts the guard before the container's init exists, so that
// loading libnftables overlaps its own work. Once the init (and with it the
// network namespace) exists, it completes CONFIG and says "go" on fd 0; an
// end of file instead means create failed before that.
void await_go() {
  char said[3];
  size_t got = 0;
  while (got < sizeof said) {
    const ssize_t n = read(kGoFd, said + got, sizeof said - got);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) fail("start", "the runtime went away before the container's init existed");
    got += static_cast<size_t>(n);
  }
  if (std::string_view(said, got) != "go\n") fail("start", "the runtime did not say go on fd 0");
}

void set_up(Guard& g, const char* config_path) {
  await_go();
  g.config = parse_config(read_config(config_path));
  if (g.config.init_pid) {
    // Before anything else: a pid reused after the init's exit must not keep the guard.
    g.init_fd = static_cast<int>(syscall(SYS_pidfd_open, *g.config.init_pid, 0));
    if (g.init_fd < 0) fail_errno("init", "pidfd_open " + std::to_string(*g.config.init_pid), errno);
  }
  enter_netns(g.config.netns);
  if (!g.config.ruleset.empty()) {
    g.nft = std::make_unique<Nft>();
    install(g);
    if (!g.shared_with.empty()) return;  // its owner's guard serves the namespace
  }
  if (g.config.log) {
    g.log = std::make_unique<LogFile>(g.config.log->file, g.config.log->max_bytes);
    g.nflog = std::make_unique<NflogSocket>(g.config.log->group, *g.log);
  }
  if (g.config.dns) {
    g.dns = std::make_unique<DnsProxy>(*g.config.dns, g.config.table, *g.nft, g.log.get());
  } else if (g.nft) {
    // Only the DNS proxy changes rules later. The guard lives as long as the
    // container: libnftables' context and cache, and the heap they leave,
    // go back (two thirds of its private memory).
    g.nft.reset();
    malloc_trim(0);
  }
}

// Returns when the init has exited, once the log holds what was queued;
// throws GuardError when a socket fails.
void serve(Guard& g) {
  std::vector<pollfd> fds;
  if (g.init_fd >= 0) fds.push_back({g.init_fd, POLLIN, 0});
  if (g.nflog) fds.push_back({g.nflog->fd(), POLLIN, 0});
  if (g.dns)
    for (int fd : g.dns->fds()) fds.push_back({fd, POLLIN, 0});
  for (;;) {
    if (poll(fds.data(), fds.size(), -1) < 0) {
      if (errno == EINTR) continue;
      fail_errno("serve", "poll", errno);
    }
    for (const auto& p : fds) {
      if (p.revents == 0) continue;
      if (p.fd == g.init_fd) {
        // The init has exited: what was logged before is queued now.
        if (g.nflog) g.nflog->ready();
        return;
      }
      if ((p.revents & POLLNVAL) != 0) fail("serve", "a socket was closed under the guard");
      if (g.nflog && p.fd == g.nflog->fd())
        g.nflog->ready();
      else
        g.dns->ready(p.fd);
    }
  }
}

// --nflog-fd: the runtime put the rules in and bound the log group (fd 3)
// in the container's network namespace before its process ran, and started
// the guard after create's work, without waiting for it: the guard only
// turns what the socket holds, from the first packet on, into log lines.
// Nobody reads its fd 3 then: what stops it goes to the log and stderr.
void set_up_logger(Guard& g, const char* config_path) {
  g.config = parse_config(read_config(config_path));
  if (!g.config.log || g.config.dns || !g.config.ruleset.empty())
    fail("start", "--nflog-fd is for a guard that only logs the runtime's rules");
  if (g.config.init_pid) {
    g.init_fd = static_cast<int>(syscall(SYS_pidfd_open, *g.config.init_pid, 0));
    if (g.init_fd < 0) fail_errno("init", "pidfd_open " + std::to_string(*g.config.init_pid), errno);
  }
  g.log = std::make_unique<LogFile>(g.config.log->file, g.config.log->max_bytes);
  g.nflog = std::make_unique<NflogSocket>(NflogSocket::Bound{kNflogFd}, *g.log);
}

// Says why the guard stops, in its log when it has one.
int stopped(const Guard& g, const std::string& why) {
  std::fprintf(stderr, "agentrun-egress: %s\n", why.c_str());
  if (g.log) {
    timespec t{};
    clock_gettime(CLOCK_REALTIME, &t);
    try {
      g.log->append(guard_error_line(iso_time(t), "the guard stops: " + why));
    } catch (const std::exception&) {
    }
  }
  return 1;
}

int serve_until_end(Guard& g) {
  try {
    serve(g);
    return 0;
  } catch (const std::exception& e) {
    return stopped(g, e.what());
  }
}

int run_logger(const char* config_path) {
  Guard g;
  try {
    harden();
    set_up_logger(g, config_path);
  } catch (const std::exception& e) {
    return stopped(g, e.what());
  }
  return serve_until_end(g);
}

int run(const char* config_path, bool makes_rules) {
  Guard g;
  try {
    harden();
    if (makes_rules) load_nftables();
    set_up(g, config_path);
  } catch (const GuardError& e) {
    report(std::string("error: ") + e.what() + "\n");
    return 1;
  } catch (const std::exception& e) {
    report(std::string("error: start: ") + e.what() + "\n");
    return 1;
  }
  if (!g.shared_with.empty()) {
    report("shared " + g.shared_with + "\n");
    return 0;
  }
  report("ok\n");
  close(kStatusFd);
  return serve_until_end(g);
}

}  // namespace
}  // namespace agentrun::egress

int main(int argc, char** argv) {
  if (fcntl(3, F_GETFD) < 0) {
    std::fprintf(stderr, "agentrun-egress: fd 3 (the status pipe, or the bound log socket) is not open\n");
    return 1;
  }
  const std::string_view flag = argc == 3 ? argv[1] : "";
  if (argc != 2 && flag != "--nftables" && flag != "--nflog-fd") {
    agentrun::egress::report("error: usage: agentrun-egress [--nftables | --nflog-fd] CONFIG\n");
    return 1;
  }
  // _exit: worker threads may still hold the objects a normal exit would destroy.
  if (flag == "--nflog-fd") _exit(agentrun::egress::run_logger(argv[2]));
  _exit(agentrun::egress::run(argv[argc - 1], flag == "--nftables"));
}
