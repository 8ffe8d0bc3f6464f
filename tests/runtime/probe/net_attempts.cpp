// agent-probe ATTEMPT...: the network attempts of the egress tests, each
// printed as "ATTEMPT=ok", "ATTEMPT=<ERRNO>", or for dns "ATTEMPT=<rcode>"
// and "ATTEMPT=ok ADDRESS". An attempt is one of
//   tcp:ADDRESS:PORT   udp:ADDRESS:PORT   icmp:ADDRESS
//   dns:SERVER:NAME    a query for NAME's A record to SERVER, port 53
//   name:NAME:PORT     NAME resolved through the first nameserver of
//                      /etc/resolv.conf, then a TCP connect to it
// An IPv6 address is written in brackets: tcp:[fd77::1]:80.
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/ip_icmp.h>
#include <poll.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstdio>
#include <cstring>
#include <fstream>
#include <string>

#include "net_attempts.hpp"

namespace {

struct Address {
  sockaddr_storage ss{};
  socklen_t len = 0;
};

// "10.0.0.1" or "[fd77::1]", with a port.
bool address(std::string text, int port, Address& a) {
  if (text.size() > 2 && text.front() == '[') {
    text = text.substr(1, text.size() - 2);
    auto* s6 = reinterpret_cast<sockaddr_in6*>(&a.ss);
    s6->sin6_family = AF_INET6;
    s6->sin6_port = htons(static_cast<uint16_t>(port));
    a.len = sizeof *s6;
    return inet_pton(AF_INET6, text.c_str(), &s6->sin6_addr) == 1;
  }
  auto* s4 = reinterpret_cast<sockaddr_in*>(&a.ss);
  s4->sin_family = AF_INET;
  s4->sin_port = htons(static_cast<uint16_t>(port));
  a.len = sizeof *s4;
  return inet_pton(AF_INET, text.c_str(), &s4->sin_addr) == 1;
}

// Splits "HOST:PORT", HOST possibly "[v6]".
bool host_port(const std::string& s, std::string& host, int& port) {
  const size_t colon = s.rfind(':');
  if (colon == std::string::npos) return false;
  host = s.substr(0, colon);
  port = std::atoi(s.c_str() + colon + 1);
  return true;
}

std::string err() { return strerrorname_np(errno); }

// Waits for a connect or a reply; a dropped packet answers nothing.
bool ready(int fd, short events) {
  pollfd p{fd, events, 0};
  return poll(&p, 1, 2000) == 1;
}

// A datagram sent on a connected socket, and the reply: a refusal comes
// back as an ICMP error, which recv reports.
std::string exchange(int fd, const void* data, size_t size) {
  if (send(fd, data, size, 0) < 0) return err();
  if (!ready(fd, POLLIN)) return "ETIMEDOUT";
  char buf[1500];
  return recv(fd, buf, sizeof buf, MSG_DONTWAIT) < 0 ? err() : "ok";
}

std::string tcp(const Address& a) {
  int fd = socket(a.ss.ss_family, SOCK_STREAM | SOCK_NONBLOCK, 0);
  if (fd < 0) return err();
  std::string out = "ok";
  if (connect(fd, reinterpret_cast<const sockaddr*>(&a.ss), a.len) < 0) {
    if (errno != EINPROGRESS) out = err();
    else if (!ready(fd, POLLOUT)) out = "ETIMEDOUT";
    else {
      int e = 0;
      socklen_t l = sizeof e;
      getsockopt(fd, SOL_SOCKET, SO_ERROR, &e, &l);
      if (e != 0) out = strerrorname_np(e);
    }
  }
  close(fd);
  return out;
}

// A datagram to an echo server, and its echo.
std::string udp(const Address& a) {
  int fd = socket(a.ss.ss_family, SOCK_DGRAM, 0);
  if (fd < 0) return err();
  const std::string out =
      connect(fd, reinterpret_cast<const sockaddr*>(&a.ss), a.len) < 0 ? err() : exchange(fd, "ping", 4);
  close(fd);
  return out;
}

// An echo request through a ping socket (net.ipv4.ping_group_range).
std::string icmp(const Address& a) {
  int fd = socket(AF_INET, SOCK_DGRAM, IPPROTO_ICMP);
  if (fd < 0) return err();
  icmphdr h{};
  h.type = ICMP_ECHO;
  const std::string out =
      connect(fd, reinterpret_cast<const sockaddr*>(&a.ss), a.len) < 0 ? err() : exchange(fd, &h, sizeof h);
  close(fd);
  return out;
}

// A query for NAME's A record; the rcode, or "ok" and the first address.
std::string dns(const Address& server, const std::string& name, std::string& first) {
  unsigned char q[512] = {0x12, 0x34, 0x01, 0x00, 0, 1, 0, 0, 0, 0, 0, 0};
  size_t n = 12;
  size_t start = 0;
  while (start <= name.size()) {
    size_t dot = name.find('.', start);
    if (dot == std::string::npos) dot = name.size();
    q[n++] = static_cast<unsigned char>(dot - start);
    std::memcpy(q + n, name.data() + start, dot - start);
    n += dot - start;
    start = dot + 1;
  }
  q[n++] = 0;
  q[n++] = 0, q[n++] = 1, q[n++] = 0, q[n++] = 1;  // A, IN
  int fd = socket(server.ss.ss_family, SOCK_DGRAM, 0);
  if (fd < 0) return err();
  std::string out;
  unsigned char r[1500];
  ssize_t got = -1;
  if (sendto(fd, q, n, 0, reinterpret_cast<const sockaddr*>(&server.ss), server.len) < 0) out = err();
  else if (!ready(fd, POLLIN)) out = "ETIMEDOUT";
  else if ((got = recv(fd, r, sizeof r, 0)) < 12) out = "short";
  close(fd);
  if (!out.empty()) return out;
  const int rcode = r[3] & 0x0f;
  if (rcode != 0) return "rcode" + std::to_string(rcode);
  // The answer section after the echoed question: the first A record.
  size_t p = n;
  const int answers = (r[6] << 8) | r[7];
  for (int i = 0; i < answers && p + 12 <= static_cast<size_t>(got); ++i) {
    if ((r[p] & 0xc0) == 0xc0) p += 2;
    else {
      while (p < static_cast<size_t>(got) && r[p] != 0) p += r[p] + 1;
      ++p;
    }
    const int type = (r[p] << 8) | r[p + 1];
    const int len = (r[p + 8] << 8) | r[p + 9];
    p += 10;
    if (type == 1 && len == 4 && p + 4 <= static_cast<size_t>(got)) {
      char text[INET_ADDRSTRLEN];
      inet_ntop(AF_INET, r + p, text, sizeof text);
      first = text;
      return "ok";
    }
    p += static_cast<size_t>(len);
  }
  return "noanswer";
}

std::string first_nameserver() {
  std::ifstream in("/etc/resolv.conf");
  std::string word, value;
  while (in >> word)
    if (word == "nameserver" && in >> value) return value.find(':') != std::string::npos ? "[" + value + "]" : value;
  return "";
}

std::string attempt(const std::string& a) {
  const size_t colon = a.find(':');
  const std::string kind = a.substr(0, colon), rest = colon == std::string::npos ? "" : a.substr(colon + 1);
  Address addr;
  std::string host, first;
  int port = 0;
  if (kind == "tcp" || kind == "udp") {
    if (!host_port(rest, host, port) || !address(host, port, addr)) return "bad-attempt";
    return kind == "tcp" ? tcp(addr) : udp(addr);
  }
  if (kind == "icmp") return address(rest, 0, addr) ? icmp(addr) : "bad-attempt";
  if (kind == "dns") {
    if (!host_port(rest, host, port)) return "bad-attempt";  // SERVER:NAME
    const std::string name = rest.substr(rest.rfind(':') + 1);
    if (!address(host, 53, addr)) return "bad-attempt";
    const std::string r = dns(addr, name, first);
    return r == "ok" ? "ok " + first : r;
  }
  if (kind == "name") {
    if (!host_port(rest, host, port)) return "bad-attempt";
    if (!address(first_nameserver(), 53, addr)) return "no-nameserver";
    const std::string r = dns(addr, host, first);
    if (r != "ok") return "dns-" + r;
    if (!address(first, port, addr)) return "bad-answer";
    return tcp(addr);
  }
  return "bad-attempt";
}

}  // namespace

int network_attempts(int argc, char** argv) {
  for (int i = 1; i < argc; ++i) {
    std::printf("%s=%s\n", argv[i], attempt(argv[i]).c_str());
    std::fflush(stdout);
  }
  return 0;
}
