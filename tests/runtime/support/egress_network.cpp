#include "support/egress_network.hpp"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <boost/test/unit_test.hpp>
#include <cstring>
#include <fstream>
#include <map>
#include <sstream>

#include "support/harness.hpp"

namespace test {
namespace {

void ip(const std::vector<std::string>& args) {
  std::vector<std::string> argv = {"/sbin/ip"};
  argv.insert(argv.end(), args.begin(), args.end());
  const Output o = run_process(argv, 20);
  if (o.code != 0) {
    std::string cmd;
    for (const auto& a : argv) cmd += a + " ";
    throw std::runtime_error("egress network: " + cmd + "failed: " + o.err);
  }
}

int bound(int family, int type, const char* addr, int port) {
  const int fd = ::socket(family, type | SOCK_CLOEXEC, 0);
  const int one = 1;
  ::setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  sockaddr_storage ss{};
  socklen_t len;
  if (family == AF_INET) {
    auto* s = reinterpret_cast<sockaddr_in*>(&ss);
    s->sin_family = AF_INET;
    s->sin_port = htons(static_cast<uint16_t>(port));
    ::inet_pton(AF_INET, addr, &s->sin_addr);
    len = sizeof *s;
  } else {
    ::setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof one);
    auto* s = reinterpret_cast<sockaddr_in6*>(&ss);
    s->sin6_family = AF_INET6;
    s->sin6_port = htons(static_cast<uint16_t>(port));
    ::inet_pton(AF_INET6, addr, &s->sin6_addr);
    len = sizeof *s;
  }
  if (fd < 0 || ::bind(fd, reinterpret_cast<sockaddr*>(&ss), len) < 0) ::_exit(3);
  if (type == SOCK_STREAM && ::listen(fd, 64) < 0) ::_exit(3);
  return fd;
}

// The question's name (lower case) and where the question ends; false if malformed.
bool question(const unsigned char* q, size_t n, std::string& name, size_t& end) {
  size_t p = 12;
  while (p < n && q[p] != 0) {
    const size_t len = q[p];
    if (len > 63 || p + 1 + len > n) return false;
    if (!name.empty()) name += '.';
    for (size_t i = 0; i < len; ++i) name += static_cast<char>(std::tolower(q[p + 1 + i]));
    p += 1 + len;
  }
  end = p + 5;
  return end <= n;
}

std::map<std::string, std::pair<std::string, int>> table(const std::string& file) {
  std::map<std::string, std::pair<std::string, int>> out;
  std::ifstream in(file);
  std::string name, addr;
  int ttl;
  while (in >> name >> addr >> ttl) out[name] = {addr, ttl};
  return out;
}

void answer_dns(int fd, const std::string& dir, const std::string& label) {
  unsigned char q[512];
  sockaddr_storage from{};
  socklen_t fl = sizeof from;
  const ssize_t n = ::recvfrom(fd, q, sizeof q, 0, reinterpret_cast<sockaddr*>(&from), &fl);
  std::string name;
  size_t end = 0;
  if (n < 12 || !question(q, static_cast<size_t>(n), name, end)) return;
  std::ofstream(dir + "/queries-" + label, std::ios::app) << name << "\n";
  unsigned char r[600];
  std::memcpy(r, q, end);
  r[2] = 0x81, r[3] = 0x80;  // a response, recursion desired and available
  r[6] = r[7] = r[8] = r[9] = r[10] = r[11] = 0;
  size_t p = end;
  const int qtype = (q[end - 4] << 8) | q[end - 3];
  const auto names = table(dir + "/names");
  const auto it = names.find(name);
  unsigned char addr[16];
  if (it == names.end()) {
    r[3] = 0x83;  // NXDOMAIN
  } else if (qtype == 1 && ::inet_pton(AF_INET, it->second.first.c_str(), addr) == 1) {
    r[7] = 1;
    const unsigned ttl = static_cast<unsigned>(it->second.second);
    const unsigned char rr[] = {0xc0, 0x0c, 0, 1, 0, 1, static_cast<unsigned char>(ttl >> 24),
                                static_cast<unsigned char>(ttl >> 16), static_cast<unsigned char>(ttl >> 8),
                                static_cast<unsigned char>(ttl), 0, 4};
    std::memcpy(r + p, rr, sizeof rr);
    std::memcpy(r + p + sizeof rr, addr, 4);
    p += sizeof rr + 4;
  }
  ::sendto(fd, r, p, 0, reinterpret_cast<sockaddr*>(&from), fl);
}

[[noreturn]] void serve(const std::string& netns, const std::string& dir) {
  const int ns = ::open(netns.c_str(), O_RDONLY | O_CLOEXEC);
  if (ns < 0 || ::setns(ns, CLONE_NEWNET) < 0) ::_exit(2);
  std::vector<pollfd> fds;
  std::vector<std::string> roles;
  for (int port : {80, 443, 8080}) {
    fds.push_back({bound(AF_INET, SOCK_STREAM, "0.0.0.0", port), POLLIN, 0});
    roles.push_back("tcp");
    fds.push_back({bound(AF_INET6, SOCK_STREAM, "::", port), POLLIN, 0});
    roles.push_back("tcp");
  }
  // Bound to each address: a reply must come from where the request went.
  for (const char* a : {"10.203.0.1", "10.203.1.1", "10.203.1.2"}) {
    fds.push_back({bound(AF_INET, SOCK_DGRAM, a, 9999), POLLIN, 0});
    roles.push_back("echo");
  }
  fds.push_back({bound(AF_INET6, SOCK_DGRAM, "fd77::1", 9999), POLLIN, 0});
  roles.push_back("echo");
  for (const char* a : {"10.203.0.1", "10.203.1.1"}) {
    fds.push_back({bound(AF_INET, SOCK_DGRAM, a, 53), POLLIN, 0});
    roles.push_back(a);
  }
  // Ready: the test goes on.
  std::ofstream(dir + "/serving") << "yes\n";
  for (;;) {
    if (::poll(fds.data(), fds.size(), -1) < 0) continue;
    for (size_t i = 0; i < fds.size(); ++i) {
      if (!(fds[i].revents & POLLIN)) continue;
      if (roles[i] == "tcp") {
        const int c = ::accept4(fds[i].fd, nullptr, nullptr, SOCK_CLOEXEC);
        if (c >= 0) ::close(c);
      } else if (roles[i] == "echo") {
        char buf[512];
        sockaddr_storage from{};
        socklen_t fl = sizeof from;
        const ssize_t n = ::recvfrom(fds[i].fd, buf, sizeof buf, 0, reinterpret_cast<sockaddr*>(&from), &fl);
        if (n > 0) ::sendto(fds[i].fd, buf, static_cast<size_t>(n), 0, reinterpret_cast<sockaddr*>(&from), fl);
      } else {
        answer_dns(fds[i].fd, dir, roles[i]);
      }
    }
  }
}

}  // namespace

EgressNetwork::EgressNetwork(const std::string& dir) : dir_(dir) {
  try {
    build();
  } catch (...) {
    clean_up();
    throw;
  }
}

EgressNetwork::~EgressNetwork() { clean_up(); }

void EgressNetwork::clean_up() {
  if (server_ > 0) {
    ::kill(server_, SIGKILL);
    ::waitpid(server_, nullptr, 0);
    server_ = -1;
  }
  for (const auto& ns : {container_, internet_})
    if (file_exists("/run/netns/" + ns)) run_process({"/sbin/ip", "netns", "del", ns}, 20);
}

void EgressNetwork::build() {
  const std::string tag = "areg" + std::to_string(::getpid() % 1000000);
  container_ = tag + "c";
  internet_ = tag + "i";
  ip({"netns", "add", container_});
  ip({"netns", "add", internet_});
  ip({"link", "add", tag + "a", "type", "veth", "peer", "name", tag + "b"});
  ip({"link", "set", tag + "a", "netns", container_, "name", "eth0"});
  ip({"link", "set", tag + "b", "netns", internet_, "name", "eth0"});
  const auto in = [](const std::string& ns, std::vector<std::string> a) {
    a.insert(a.begin(), {"-n", ns});
    ip(a);
  };
  const auto in_c = [&](const std::vector<std::string>& a) { in(container_, a); };
  const auto in_i = [&](const std::vector<std::string>& a) { in(internet_, a); };
  for (const auto& ns : {container_, internet_}) {
    in(ns, {"link", "set", "lo", "up"});
    in(ns, {"link", "set", "eth0", "up"});
  }
  in_c({"addr", "add", "10.203.0.2/24", "dev", "eth0"});
  in_c({"-6", "addr", "add", "fd77::2/64", "dev", "eth0", "nodad"});
  in_c({"route", "add", "default", "via", "10.203.0.1"});
  in_c({"-6", "route", "add", "default", "via", "fd77::1"});
  in_i({"addr", "add", "10.203.0.1/24", "dev", "eth0"});
  in_i({"-6", "addr", "add", "fd77::1/64", "dev", "eth0", "nodad"});
  for (const char* a : {"10.203.1.1/32", "10.203.1.2/32", "169.254.169.254/32"}) in_i({"addr", "add", a, "dev", "lo"});
  in_i({"-6", "addr", "add", "fd00:ec2::254/128", "dev", "lo"});
  std::ofstream(dir_ + "/names").close();
  server_ = ::fork();
  if (server_ == 0) serve("/run/netns/" + internet_, dir_);
  for (int i = 0; i < 500 && !file_exists(dir_ + "/serving"); ++i) ::usleep(10000);
  if (!file_exists(dir_ + "/serving")) throw std::runtime_error("egress network: the servers did not start");
}

void EgressNetwork::set_name(const std::string& name, const std::string& address, int ttl) const {
  auto names = table(dir_ + "/names");
  names[name] = {address, ttl};
  std::ofstream out(dir_ + "/names.new");
  for (const auto& [n, v] : names) out << n << " " << v.first << " " << v.second << "\n";
  out.close();
  std::rename((dir_ + "/names.new").c_str(), (dir_ + "/names").c_str());
}

std::vector<std::string> EgressNetwork::queries(const std::string& address) const {
  std::vector<std::string> out;
  std::ifstream in(dir_ + "/queries-" + address);
  for (std::string line; std::getline(in, line);) out.push_back(line);
  return out;
}

}  // namespace test
