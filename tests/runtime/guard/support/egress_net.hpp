#pragma once
// The egress guard's test network: a "container" namespace and an
// "internet" namespace joined by a veth pair, with a DNS server and TCP
// listeners in the internet; the guard run as the runtime runs it (fd 3 the
// status pipe); DNS and TCP probes made from inside the container. Every
// wait is bounded; the destructors remove the namespaces and the processes.

#include <boost/test/unit_test.hpp>

#include <arpa/inet.h>
#include <fcntl.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <functional>
#include <string>
#include <vector>

#include "egress-guard/dns_message.hpp"
#include "egress-guard/set_update.hpp"
#include "guard/support/dns_wire.hpp"
#include "support/wait.hpp"

namespace egress_test {

constexpr const char* kResolver = "10.231.0.1";
constexpr const char* kAllowedAddress = "10.231.0.5";  // allowed.test
constexpr const char* kOtherAddress = "10.231.0.6";    // other.test, any.test
constexpr const char* kAnyAddress = "10.231.0.7";      // *.any.test
constexpr uint16_t kOpenPort = 8443;
constexpr uint16_t kOtherPort = 9000;
constexpr uint32_t kTtl = 30;

inline sockaddr_in address(const char* ip, uint16_t port) {
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(port);
  inet_pton(AF_INET, ip, &a.sin_addr);
  return a;
}

// A TCP connection to ip:port is established within 1.5 s.
inline bool connects(const char* ip, uint16_t port) {
  const int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  const sockaddr_in a = address(ip, port);
  bool ok = false;
  if (connect(fd, reinterpret_cast<const sockaddr*>(&a), sizeof a) == 0) {
    ok = true;
  } else if (errno == EINPROGRESS) {
    pollfd p{fd, POLLOUT, 0};
    int err = -1;
    socklen_t len = sizeof err;
    ok = poll(&p, 1, 1500) == 1 && getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) == 0 && err == 0;
  }
  close(fd);
  return ok;
}

struct Resolved {
  int rcode = -1;  // -1: no answer within 3 s
  std::vector<std::string> addresses;
};

inline bool read_n(int fd, uint8_t* data, size_t n) {
  while (n > 0) {
    pollfd p{fd, POLLIN, 0};
    if (poll(&p, 1, 3000) != 1) return false;
    const ssize_t r = recv(fd, data, n, 0);
    if (r <= 0) return false;
    data += r;
    n -= static_cast<size_t>(r);
  }
  return true;
}

// Asks the container's resolver (the address the ruleset redirects to the guard).
inline Resolved resolve(const std::string& name, bool tcp) {
  Resolved out;
  const test::dns::Bytes q = test::dns::query(0x4242, name);
  const int fd = socket(AF_INET, (tcp ? SOCK_STREAM : SOCK_DGRAM) | SOCK_CLOEXEC, 0);
  const sockaddr_in a = address(kResolver, 53);
  const timeval limit{3, 0};
  setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &limit, sizeof limit);
  std::vector<uint8_t> reply(4096);
  size_t size = 0;
  if (connect(fd, reinterpret_cast<const sockaddr*>(&a), sizeof a) == 0) {
    if (tcp) {
      test::dns::Bytes framed = {0, static_cast<uint8_t>(q.size())};
      framed.insert(framed.end(), q.begin(), q.end());
      uint8_t len[2];
      if (send(fd, framed.data(), framed.size(), MSG_NOSIGNAL) == static_cast<ssize_t>(framed.size()) &&
          read_n(fd, len, 2) && read_n(fd, reply.data(), size = static_cast<size_t>(len[0] << 8 | len[1])))
        reply.resize(size);
      else
        size = 0;
    } else if (send(fd, q.data(), q.size(), 0) == static_cast<ssize_t>(q.size())) {
      pollfd p{fd, POLLIN, 0};
      if (poll(&p, 1, 3000) == 1) {
        const ssize_t n = recv(fd, reply.data(), reply.size(), 0);
        size = n > 0 ? static_cast<size_t>(n) : 0;
      }
    }
  }
  close(fd);
  if (size < 12) return out;
  reply.resize(size);
  out.rcode = reply[3] & 0xF;
  if (const auto addresses = agentrun::egress::dns::read_answer(reply, 0x4242, 3600))
    for (const auto& ad : *addresses) out.addresses.push_back(agentrun::egress::address_text(ad));
  return out;
}

// The internet's DNS: one A record for the test's names, NXDOMAIN for the rest.
inline test::dns::Bytes dns_answer(const test::dns::Bytes& query) {
  const auto q = agentrun::egress::dns::parse_query(query);
  if (!q) return {};
  const char* ip = q->name == "allowed.test"                                    ? kAllowedAddress
                   : q->name == "other.test" || q->name == "any.test"           ? kOtherAddress
                   : q->name.ends_with(".any.test")                             ? kAnyAddress
                                                                                : nullptr;
  std::vector<test::dns::Record> records;
  if (ip != nullptr) {
    const sockaddr_in a = address(ip, 0);
    const auto* b = reinterpret_cast<const uint8_t*>(&a.sin_addr);
    records.push_back({1, kTtl, {b[0], b[1], b[2], b[3]}});
  }
  auto reply = test::dns::answer(q->id, q->name, records);
  if (ip == nullptr) reply[3] |= 3;
  return reply;
}

inline int listener(int type, const char* ip, uint16_t port) {
  const int fd = socket(AF_INET, type | SOCK_CLOEXEC, 0);
  const int one = 1;
  setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  const sockaddr_in a = address(ip, port);
  if (bind(fd, reinterpret_cast<const sockaddr*>(&a), sizeof a) != 0) _exit(3);
  if (type == SOCK_STREAM && listen(fd, 16) != 0) _exit(3);
  return fd;
}

// The internet's servers, until killed: DNS over UDP and TCP, and two TCP ports.
[[noreturn]] inline void serve_internet() {
  std::vector<pollfd> fds = {{listener(SOCK_DGRAM, kResolver, 53), POLLIN, 0},
                             {listener(SOCK_STREAM, kResolver, 53), POLLIN, 0},
                             {listener(SOCK_STREAM, "0.0.0.0", kOpenPort), POLLIN, 0},
                             {listener(SOCK_STREAM, "0.0.0.0", kOtherPort), POLLIN, 0}};
  for (;;) {
    if (poll(fds.data(), fds.size(), -1) < 0) continue;
    if (fds[0].revents) {
      test::dns::Bytes q(4096);
      sockaddr_storage from{};
      socklen_t len = sizeof from;
      const ssize_t n = recvfrom(fds[0].fd, q.data(), q.size(), 0, reinterpret_cast<sockaddr*>(&from), &len);
      if (n > 0) {
        q.resize(static_cast<size_t>(n));
        const auto r = dns_answer(q);
        sendto(fds[0].fd, r.data(), r.size(), 0, reinterpret_cast<sockaddr*>(&from), len);
      }
    }
    if (fds[1].revents) {
      const int c = accept4(fds[1].fd, nullptr, nullptr, SOCK_CLOEXEC);
      uint8_t len[2];
      if (c >= 0 && read_n(c, len, 2)) {
        test::dns::Bytes q(static_cast<size_t>(len[0] << 8 | len[1]));
        if (read_n(c, q.data(), q.size())) {
          auto r = dns_answer(q);
          r.insert(r.begin(), {static_cast<uint8_t>(r.size() >> 8), static_cast<uint8_t>(r.size())});
          send(c, r.data(), r.size(), MSG_NOSIGNAL);
        }
      }
      if (c >= 0) close(c);
    }
    for (size_t i = 2; i < fds.size(); ++i)
      if (fds[i].revents) {
        const int c = accept4(fds[i].fd, nullptr, nullptr, SOCK_CLOEXEC);
        if (c >= 0) close(c);
      }
  }
}

inline int run(const std::string& command) {
  return std::system(("timeout 10 " + command + " >/dev/null 2>&1").c_str());
}

class Net {
 public:
  Net() : suffix_(std::to_string(getpid())), container_("agentrun-egc-" + suffix_), internet_("agentrun-egi-" + suffix_) {
    const std::string vc = "agc" + suffix_, vi = "agi" + suffix_;
    const std::string c = " -n " + container_, i = " -n " + internet_;
    for (const std::string& cmd :
         {"ip netns add " + container_, "ip netns add " + internet_,
          "ip link add " + vc + " netns " + container_ + " type veth peer name " + vi + " netns " + internet_,
          "ip" + c + " link set lo up", "ip" + i + " link set lo up",
          "ip" + c + " addr add 10.231.0.2/24 dev " + vc, "ip" + c + " link set " + vc + " up",
          "ip" + c + " route add default via " + kResolver,
          "ip" + i + " addr add " + kResolver + "/24 dev " + vi, "ip" + i + " link set " + vi + " up"})
      BOOST_TEST_REQUIRE(run(cmd) == 0, cmd);
    for (const char* ip : {kAllowedAddress, kOtherAddress, kAnyAddress})
      BOOST_TEST_REQUIRE(run("ip" + i + " addr add " + ip + "/32 dev " + vi) == 0);
  }
  ~Net() {
    for (pid_t p : servers_) {
      ::kill(p, SIGKILL);
      waitpid(p, nullptr, 0);
    }
    run("ip netns del " + container_);  // the veth pair goes with it
    run("ip netns del " + internet_);
  }
  Net(const Net&) = delete;
  Net& operator=(const Net&) = delete;

  std::string container_path() const { return "/run/netns/" + container_; }

  void start_internet() {
    const pid_t child = fork();
    BOOST_TEST_REQUIRE(child >= 0);
    if (child == 0) {
      prctl(PR_SET_PDEATHSIG, SIGKILL);
      const int ns = open(("/run/netns/" + internet_).c_str(), O_RDONLY | O_CLOEXEC);
      if (ns < 0 || setns(ns, CLONE_NEWNET) != 0) _exit(2);
      serve_internet();
    }
    servers_.push_back(child);
  }

  // Runs `body` on this thread inside the container's namespace.
  void in_container(const std::function<void()>& body) {
    const int home = open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC);
    const int ns = open(container_path().c_str(), O_RDONLY | O_CLOEXEC);
    BOOST_TEST_REQUIRE((home >= 0 && ns >= 0 && setns(ns, CLONE_NEWNET) == 0));
    close(ns);
    try {
      body();
    } catch (...) {
      setns(home, CLONE_NEWNET);
      close(home);
      throw;
    }
    BOOST_TEST_REQUIRE(setns(home, CLONE_NEWNET) == 0);
    close(home);
  }

 private:
  std::string suffix_, container_, internet_;
  std::vector<pid_t> servers_;
};

// agentrun-egress CONFIG with fd 3 the write end of a pipe, as `create`
// starts it; `go` is what it reads on fd 0 ("go\n" once create's init exists).
class Guard {
 public:
  explicit Guard(const std::string& config, const std::string& go = "go\n") {
    int p[2], g[2];
    BOOST_TEST_REQUIRE(pipe2(p, O_CLOEXEC) == 0);
    BOOST_TEST_REQUIRE(pipe2(g, O_CLOEXEC) == 0);
    BOOST_TEST_REQUIRE(write(g[1], go.data(), go.size()) == static_cast<ssize_t>(go.size()));
    close(g[1]);
    pid_ = fork();
    BOOST_TEST_REQUIRE(pid_ >= 0);
    if (pid_ == 0) {
      if (dup2(g[0], 0) != 0 || dup2(p[1], 3) != 3) _exit(126);
      execl(AGENTRUN_EGRESS_BINARY, "agentrun-egress", config.c_str(), static_cast<char*>(nullptr));
      _exit(127);
    }
    close(p[1]);
    close(g[0]);
    status_fd_ = p[0];
  }
  ~Guard() {
    kill();
    if (status_fd_ >= 0) close(status_fd_);
  }
  Guard(const Guard&) = delete;
  Guard& operator=(const Guard&) = delete;

  // What the guard wrote on fd 3 until it closed it (or `timeout`).
  std::string status(std::chrono::milliseconds timeout) {
    std::string text;
    const auto end = std::chrono::steady_clock::now() + timeout;
    for (;;) {
      const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(end - std::chrono::steady_clock::now());
      pollfd p{status_fd_, POLLIN, 0};
      if (left.count() <= 0 || poll(&p, 1, static_cast<int>(left.count())) != 1) return text + "(timed out)";
      char buf[512];
      const ssize_t n = read(status_fd_, buf, sizeof buf);
      if (n <= 0) return text;
      text.append(buf, static_cast<size_t>(n));
    }
  }
  // The exit status once it exits, or -1 if it has not within `timeout`.
  int wait_exit(std::chrono::milliseconds timeout) {
    int status = 0;
    if (!test::poll_until([&] { return waitpid(pid_, &status, WNOHANG) == pid_; }, timeout)) return -1;
    pid_ = -1;
    return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  }
  void kill() {
    if (pid_ <= 0) return;
    ::kill(pid_, SIGKILL);
    waitpid(pid_, nullptr, 0);
    pid_ = -1;
  }

 private:
  pid_t pid_ = -1;
  int status_fd_ = -1;
};

}  // namespace egress_test
