#include "egress-guard/dns_proxy.hpp"

#include <netinet/in.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <system_error>
#include <thread>

#include "egress-guard/failure.hpp"
#include "egress-guard/log_lines.hpp"
#include "egress-guard/name_match.hpp"
#include "egress-guard/upstream.hpp"

namespace agentrun::egress {
namespace {

constexpr auto kUpstreamTimeout = std::chrono::seconds(2);
constexpr int kTcpIdleSeconds = 10;
constexpr size_t kMaxLoggedAddresses = 16;

uint64_t now_ms() {
  timespec t{};
  clock_gettime(CLOCK_MONOTONIC, &t);
  return static_cast<uint64_t>(t.tv_sec) * 1000 + static_cast<uint64_t>(t.tv_nsec) / 1000000;
}

std::string now_text() {
  timespec t{};
  clock_gettime(CLOCK_REALTIME, &t);
  return iso_time(t);
}

// One listening socket on loopback. IPv6 binds with IPV6_FREEBIND, so that a
// namespace whose lo has no ::1 yet still gets its listener.
int listen_on(int family, int type, uint16_t port) {
  const char* what = family == AF_INET ? "127.0.0.1" : "[::1]";
  const std::string name = std::string(type == SOCK_STREAM ? "tcp " : "udp ") + what + ":" + std::to_string(port);
  const int fd = socket(family, type | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
  if (fd < 0) fail_errno("dns listen", "socket for " + name, errno);
  const int one = 1;
  if (setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one) != 0)
    fail_errno("dns listen", "SO_REUSEADDR on " + name, errno);
  sockaddr_storage addr{};
  socklen_t len = 0;
  if (family == AF_INET) {
    auto* a = reinterpret_cast<sockaddr_in*>(&addr);
    a->sin_family = AF_INET;
    a->sin_port = htons(port);
    a->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    len = sizeof *a;
  } else {
    if (setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof one) != 0 ||
        setsockopt(fd, IPPROTO_IPV6, IPV6_FREEBIND, &one, sizeof one) != 0)
      fail_errno("dns listen", "IPV6_V6ONLY and IPV6_FREEBIND on " + name, errno);
    auto* a = reinterpret_cast<sockaddr_in6*>(&addr);
    a->sin6_family = AF_INET6;
    a->sin6_port = htons(port);
    a->sin6_addr = in6addr_loopback;
    len = sizeof *a;
  }
  if (bind(fd, reinterpret_cast<sockaddr*>(&addr), len) != 0) fail_errno("dns listen", "bind " + name, errno);
  if (type == SOCK_STREAM && listen(fd, DnsProxy::kMaxClients) != 0) fail_errno("dns listen", "listen " + name, errno);
  return fd;
}

// SO_MARK needs CAP_NET_ADMIN in the namespace: found out now, not at the first query.
void check_mark(uint32_t mark) {
  const int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (fd < 0) fail_errno("dns upstream", "socket", errno);
  const int r = setsockopt(fd, SOL_SOCKET, SO_MARK, &mark, sizeof mark);
  const int err = errno;
  close(fd);
  if (r != 0) fail_errno("dns upstream", "SO_MARK " + std::to_string(mark), err);
}

bool read_full(int fd, uint8_t* data, size_t size) {
  while (size > 0) {
    const ssize_t n = recv(fd, data, size, 0);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    data += n;
    size -= static_cast<size_t>(n);
  }
  return true;
}

}  // namespace

DnsProxy::DnsProxy(const DnsConfig& dns, const std::string& table, Nft& nft, LogFile* log)
    : dns_(dns), nft_(nft), log_(log), sets_(table, dns.min_ttl, dns.max_ttl) {
  check_mark(dns.mark);
  for (int type : {SOCK_DGRAM, SOCK_STREAM})
    for (int family : {AF_INET, AF_INET6}) {
      // Without IPv6 in the kernel there is no IPv6 DNS to redirect either.
      if (family == AF_INET6) {
        const int probe = socket(AF_INET6, SOCK_DGRAM | SOCK_CLOEXEC, 0);
        if (probe < 0 && errno == EAFNOSUPPORT) continue;
        if (probe >= 0) close(probe);
      }
      const int fd = listen_on(family, type, dns.port);
      fds_.push_back(fd);
      if (type == SOCK_DGRAM) udp_.push_back(fd);
    }
}

DnsProxy::~DnsProxy() {
  for (int fd : fds_) close(fd);
}

void DnsProxy::ready(int fd) {
  if (std::find(udp_.begin(), udp_.end(), fd) != udp_.end())
    udp_query(fd);
  else
    tcp_client(fd);
}

void DnsProxy::log_line(const std::string& line) {
  if (log_ == nullptr) return;
  try {
    log_->append(line);
  } catch (const GuardError& e) {
    std::fprintf(stderr, "agentrun-egress: %s\n", e.what());  // DNS goes on without the log
  }
}

void DnsProxy::udp_query(int fd) {
  std::vector<uint8_t> query(65535);
  sockaddr_storage from{};
  socklen_t from_len = sizeof from;
  const ssize_t n = recvfrom(fd, query.data(), query.size(), 0, reinterpret_cast<sockaddr*>(&from), &from_len);
  if (n < 0) {
    if (errno == EAGAIN || errno == EINTR || errno == ECONNREFUSED) return;
    fail_errno("dns", "recvfrom on a listening UDP socket", errno);
  }
  query.resize(static_cast<size_t>(n));
  if (udp_busy_ >= kMaxClients) return;
  ++udp_busy_;
  try {
    std::thread([this, fd, query = std::move(query), from, from_len] {
      const auto reply = answer(query, false);
      if (!reply.empty()) sendto(fd, reply.data(), reply.size(), 0, reinterpret_cast<const sockaddr*>(&from), from_len);
      --udp_busy_;
    }).detach();
  } catch (const std::system_error&) {
    --udp_busy_;  // no thread to be had: dropped, as when busy
  }
}

void DnsProxy::tcp_client(int fd) {
  const int client = accept4(fd, nullptr, nullptr, SOCK_CLOEXEC);
  if (client < 0) {
    if (errno == EAGAIN || errno == EINTR || errno == ECONNABORTED || errno == EMFILE || errno == ENFILE ||
        errno == ENOBUFS || errno == ENOMEM)
      return;
    fail_errno("dns", "accept on a listening TCP socket", errno);
  }
  if (tcp_busy_ >= kMaxClients) {
    close(client);
    return;
  }
  ++tcp_busy_;
  try {
    std::thread([this, client] {
      serve_tcp(client);
      close(client);
      --tcp_busy_;
    }).detach();
  } catch (const std::system_error&) {
    close(client);
    --tcp_busy_;
  }
}

void DnsProxy::serve_tcp(int client) {
  const timeval idle{kTcpIdleSeconds, 0};
  if (setsockopt(client, SOL_SOCKET, SO_RCVTIMEO, &idle, sizeof idle) != 0 ||
      setsockopt(client, SOL_SOCKET, SO_SNDTIMEO, &idle, sizeof idle) != 0)
    return;
  for (;;) {
    uint8_t size[2];
    if (!read_full(client, size, 2)) return;
    std::vector<uint8_t> query(static_cast<size_t>(size[0] << 8 | size[1]));
    if (!read_full(client, query.data(), query.size())) return;
    auto reply = answer(query, true);
    if (reply.empty()) return;
    reply.insert(reply.begin(), {static_cast<uint8_t>(reply.size() >> 8), static_cast<uint8_t>(reply.size())});
    if (send(client, reply.data(), reply.size(), MSG_NOSIGNAL) != static_cast<ssize_t>(reply.size())) return;
  }
}

std::vector<uint8_t> DnsProxy::answer(std::span<const uint8_t> query, bool tcp) {
  const auto q = dns::parse_query(query);
  if (!q) return {};
  bool allowed = dns_.allow_all;
  for (const auto& rule : dns_.names) allowed = allowed || (q->plain && name_matches(q->name, rule.pattern));
  if (!allowed) {
    log_line(dns_refused_line(now_text(), q->name));
    return dns::rcode_reply(query, *q, dns::kRefused);
  }
  return resolve(query, *q, tcp);
}

std::vector<uint8_t> DnsProxy::resolve(std::span<const uint8_t> query, const dns::Question& q, bool tcp) {
  auto reply = ask_upstream(dns_, query, tcp, kUpstreamTimeout);
  if (!reply) return dns::rcode_reply(query, q, dns::kServfail);
  const auto addresses = dns::read_answer(*reply, q.id, dns_.max_ttl);
  if (!addresses) return dns::rcode_reply(query, q, dns::kServfail);
  std::vector<const NameRule*> rules;
  for (const auto& rule : dns_.names)
    if (q.plain && name_matches(q.name, rule.pattern)) rules.push_back(&rule);
  if (rules.empty() || addresses->empty()) return std::move(*reply);
  {
    const std::lock_guard lock(nft_mutex_);
    const uint64_t now = now_ms();
    const SetBatch batch = sets_.plan(rules, *addresses, now);
    if (const std::string error = nft_.run(batch.commands); !error.empty()) {
      log_line(guard_error_line(now_text(), "add the addresses of " + q.name + " to the sets: " + error));
      return dns::rcode_reply(query, q, dns::kServfail);
    }
    sets_.remember(batch, now);
  }
  std::vector<std::string> texts;
  uint32_t ttl = dns_.max_ttl;
  for (const auto& a : *addresses) {
    if (texts.size() < kMaxLoggedAddresses) texts.push_back(address_text(a));
    ttl = std::min(ttl, std::clamp(a.ttl, dns_.min_ttl, dns_.max_ttl));
  }
  log_line(resolve_line(now_text(), q.name, texts, ttl));
  return std::move(*reply);
}

}  // namespace agentrun::egress
