// The container's seccomp filter as conformance suites use it: a profile
// that allows only what the workload needs runs (the runtime's own calls
// all come before it), refusals are named at create, and a notify fd
// reaches the listener for the first process and for exec'd ones.
#include <boost/test/unit_test.hpp>

#include <errno.h>
#include <linux/seccomp.h>
#include <poll.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <mutex>
#include <thread>
#include <vector>

#include "support/harness.hpp"
#include "support/needs.hpp"

using test::Sandbox;

namespace {

// Exactly what a static busybox `echo` needs, and nothing of the runtime's:
// no faccessat2, close_range, accept4, recvmsg, fcntl, capset...
const char* kEchoOnly = R"({"defaultAction": "SCMP_ACT_ERRNO", "defaultErrnoRet": 1,
    "syscalls": [{"names": ["execve", "arch_prctl", "brk", "exit_group", "getrandom", "getuid", "mprotect",
                            "prctl", "prlimit64", "readlink", "rseq", "set_robust_list", "set_tid_address",
                            "write"], "action": "SCMP_ACT_ALLOW"}]})";

// A seccomp agent: receives notify fds at `path` and answers every
// notification with EXDEV, so the container shows that its calls reached it.
class NotifyAgent {
 public:
  explicit NotifyAgent(const std::string& path) : path_(path) {
    sock_ = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    path.copy(addr.sun_path, sizeof addr.sun_path - 1);
    BOOST_TEST_REQUIRE((::bind(sock_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0 && ::listen(sock_, 4) == 0));
    thread_ = std::thread([this] { serve(); });
  }
  ~NotifyAgent() {
    stop_ = true;
    thread_.join();
    for (int fd : fds_) ::close(fd);
    ::close(sock_);
    ::unlink(path_.c_str());
  }
  std::vector<std::string> payloads() {
    std::lock_guard<std::mutex> l(mu_);
    return payloads_;
  }

 private:
  void accept_one() {
    int conn = ::accept4(sock_, nullptr, nullptr, SOCK_CLOEXEC);
    if (conn < 0) return;
    char buf[8192] = {};
    iovec iov{buf, sizeof buf - 1};
    alignas(cmsghdr) char control[CMSG_SPACE(sizeof(int))] = {};
    msghdr msg{};
    msg.msg_iov = &iov;
    msg.msg_iovlen = 1;
    msg.msg_control = control;
    msg.msg_controllen = sizeof control;
    ssize_t n = ::recvmsg(conn, &msg, MSG_CMSG_CLOEXEC);
    cmsghdr* c = CMSG_FIRSTHDR(&msg);
    if (n > 0 && c && c->cmsg_type == SCM_RIGHTS) {
      int fd;
      std::memcpy(&fd, CMSG_DATA(c), sizeof fd);
      std::lock_guard<std::mutex> l(mu_);
      fds_.push_back(fd);
      payloads_.emplace_back(buf, static_cast<size_t>(n));
    }
    ::close(conn);
  }
  void answer(int fd) {
    seccomp_notif req{};
    if (::ioctl(fd, SECCOMP_IOCTL_NOTIF_RECV, &req) < 0) return;
    seccomp_notif_resp resp{};
    resp.id = req.id;
    resp.error = -EXDEV;
    ::ioctl(fd, SECCOMP_IOCTL_NOTIF_SEND, &resp);
  }
  void serve() {
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
    while (!stop_ && std::chrono::steady_clock::now() < deadline) {
      std::vector<pollfd> p = {{sock_, POLLIN, 0}};
      {
        std::lock_guard<std::mutex> l(mu_);
        for (int fd : fds_) p.push_back({fd, POLLIN, 0});
      }
      if (::poll(p.data(), p.size(), 20) <= 0) continue;
      if (p[0].revents & POLLIN) accept_one();
      for (size_t i = 1; i < p.size(); ++i)
        if (p[i].revents & POLLIN) answer(p[i].fd);
    }
  }

  std::string path_;
  int sock_ = -1;
  std::thread thread_;
  std::atomic<bool> stop_{false};
  std::mutex mu_;
  std::vector<int> fds_;
  std::vector<std::string> payloads_;
};

std::string notify_mkdir(const std::string& listener) {
  return R"({"defaultAction": "SCMP_ACT_ALLOW", "listenerPath": )" + test::quote(listener) +
         R"(, "listenerMetadata": "agent-meta",
             "syscalls": [{"names": ["mkdir", "mkdirat"], "action": "SCMP_ACT_NOTIFY"}]})";
}

}  // namespace

// The profile names x86_64 calls (arch_prctl).
BOOST_AUTO_TEST_CASE(a_profile_allowing_only_the_workload_runs, *test::needs(test::host::x86_64)) {
  Sandbox s;
  auto cfg = test::base_config({"echo", "only-what-echo-needs"});
  test::set_json(cfg, "/linux/seccomp", kEchoOnly);
  auto o = s.run(cfg, "narrow");
  BOOST_TEST(o.code == 0, o.err);
  BOOST_TEST(o.out == "only-what-echo-needs\n", o.err);
  // The same through create and start: start's handshake happens before the filter too.
  s.write_config(cfg);
  BOOST_TEST_REQUIRE(s.agentrun({"create", "--bundle", s.bundle, "two"}).code == 0);
  o = s.agentrun({"start", "two"});
  BOOST_TEST(o.code == 0, o.err);
  BOOST_TEST(s.agentrun({"delete", "--force", "two"}).code == 0);
  BOOST_TEST(s.leftovers().empty());
}

BOOST_AUTO_TEST_CASE(a_missing_program_is_not_found_whatever_the_profile, *test::needs(test::host::x86_64)) {
  Sandbox s;
  auto cfg = test::base_config({"no-such-program"});
  test::set_json(cfg, "/linux/seccomp", kEchoOnly);
  auto o = s.run(cfg, "nf");
  BOOST_TEST(o.code != 0);
  BOOST_TEST(o.err.find("exec: \"no-such-program\": executable file not found in $PATH") != std::string::npos, o.err);
  BOOST_TEST(s.leftovers().empty());
}

BOOST_AUTO_TEST_CASE(a_profile_refusing_execve_is_refused_at_create) {
  Sandbox s;
  auto cfg = test::base_config({"echo", "never"});
  test::set_json(cfg, "/linux/seccomp", R"({"defaultAction": "SCMP_ACT_ALLOW",
      "syscalls": [{"names": ["execve"], "action": "SCMP_ACT_ERRNO", "errnoRet": 13}]})");
  s.write_config(cfg);
  auto o = s.agentrun({"create", "--bundle", s.bundle, "noexec"});
  BOOST_TEST(o.code != 0);
  BOOST_TEST(o.err.find("config.json: linux.seccomp: the profile refuses execve (it fails with errno 13)") !=
                 std::string::npos,
             o.err);
  BOOST_TEST(s.leftovers().empty());
}

BOOST_AUTO_TEST_CASE(without_no_new_privileges_the_profile_loads_after_the_runtime_work) {
  // Loading then needs CAP_SYS_ADMIN, held until the filters are in; the
  // capability calls that follow are what the profile must allow.
  Sandbox s;
  auto cfg = test::base_config({"sh", "-c", "grep -E '^(CapEff|NoNewPrivs|Seccomp):' /proc/self/status"});
  test::set_json(cfg, "/process/noNewPrivileges", "false");
  test::set_json(cfg, "/linux/seccomp", R"({"defaultAction": "SCMP_ACT_ALLOW",
      "syscalls": [{"names": ["faccessat", "faccessat2", "close_range", "accept4", "recvmsg"],
                    "action": "SCMP_ACT_ERRNO", "errnoRet": 1}]})");
  auto o = s.run(cfg, "nonnp");
  BOOST_TEST(o.code == 0, o.err);
  // CAP_SYS_ADMIN is gone again: the default set of `agentrun spec` is what the process has.
  BOOST_TEST(o.out == "CapEff:\t0000000020000420\nNoNewPrivs:\t0\nSeccomp:\t2\n", o.out);
  BOOST_TEST(s.leftovers().empty());
}

BOOST_AUTO_TEST_CASE(the_notify_fd_reaches_the_listener_for_run_and_exec) {
  Sandbox s;
  NotifyAgent agent(s.dir + "/agent.sock");
  auto cfg = test::base_config({"sh", "-c", "mkdir /tmp/first 2>&1; sleep 60"});
  test::set_json(cfg, "/linux/seccomp", notify_mkdir(s.dir + "/agent.sock"));
  s.write_config(cfg);
  BOOST_TEST_REQUIRE(s.agentrun({"create", "--bundle", s.bundle, "n"}).code == 0);
  auto o = s.agentrun({"start", "n"});
  BOOST_TEST_REQUIRE(o.code == 0, o.err);
  o = s.agentrun({"exec", "n", "sh", "-c", "mkdir /tmp/second 2>&1; test -d /tmp/second || echo absent"});
  BOOST_TEST(o.out.find("Invalid cross-device link") != std::string::npos, o.out + o.err);
  BOOST_TEST(o.out.find("absent") != std::string::npos, o.out);
  auto payloads = agent.payloads();
  BOOST_TEST_REQUIRE(payloads.size() == 2u);
  for (const auto& p : payloads) {
    BOOST_TEST(p.find(R"("fds":["seccompFd"])") != std::string::npos, p);
    BOOST_TEST(p.find(R"("metadata":"agent-meta")") != std::string::npos, p);
    BOOST_TEST(p.find(R"("id":"n")") != std::string::npos, p);
  }
  BOOST_TEST(s.agentrun({"delete", "--force", "n"}).code == 0);
  BOOST_TEST(s.leftovers().empty());
}

BOOST_AUTO_TEST_CASE(start_fails_and_stops_the_container_when_the_listener_is_gone) {
  Sandbox s;
  auto cfg = test::base_config({"sh", "-c", "mkdir /tmp/x; sleep 60"});
  test::set_json(cfg, "/linux/seccomp", notify_mkdir(s.dir + "/nobody-listens.sock"));
  s.write_config(cfg);
  BOOST_TEST_REQUIRE(s.agentrun({"create", "--bundle", s.bundle, "gone"}).code == 0);
  auto o = s.agentrun({"start", "gone"});
  BOOST_TEST(o.code != 0);
  BOOST_TEST(o.err.find("send the seccomp notify fd to " + s.dir + "/nobody-listens.sock") != std::string::npos, o.err);
  o = s.agentrun({"state", "gone"});
  BOOST_TEST(o.out.find(R"("status": "stopped")") != std::string::npos, o.out);
  BOOST_TEST(s.agentrun({"delete", "--force", "gone"}).code == 0);
  BOOST_TEST(s.leftovers().empty());
}

BOOST_AUTO_TEST_CASE(a_listener_path_without_a_notify_rule_starts) {
  Sandbox s;
  auto cfg = test::base_config({"echo", "started"});
  test::set_json(cfg, "/linux/seccomp", R"({"defaultAction": "SCMP_ACT_ALLOW", "listenerPath": "/run/none.sock",
      "syscalls": [{"names": ["mkdirat"], "action": "SCMP_ACT_ERRNO", "errnoRet": 1}]})");
  auto o = s.run(cfg, "nolistener");
  BOOST_TEST(o.code == 0, o.err);
  BOOST_TEST(o.out == "started\n");
  BOOST_TEST(s.leftovers().empty());
}
