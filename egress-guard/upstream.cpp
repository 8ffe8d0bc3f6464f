#include "egress-guard/upstream.hpp"

#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>

namespace agentrun::egress {
namespace {

using Clock = std::chrono::steady_clock;

struct Socket {
  int fd = -1;
  ~Socket() {
    if (fd >= 0) close(fd);
  }
};

// Waits until `fd` is ready for `events` before `deadline`.
bool wait(int fd, short events, Clock::time_point deadline) {
  for (;;) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now()).count();
    if (left <= 0) return false;
    pollfd p{fd, events, 0};
    const int r = poll(&p, 1, static_cast<int>(left));
    if (r > 0) return (p.revents & (events | POLLHUP | POLLERR)) != 0;
    if (r < 0 && errno != EINTR) return false;
  }
}

bool send_all(int fd, const uint8_t* data, size_t size, Clock::time_point deadline) {
  while (size > 0) {
    if (!wait(fd, POLLOUT, deadline)) return false;
    const ssize_t n = send(fd, data, size, MSG_NOSIGNAL);
    if (n < 0 && (errno == EINTR || errno == EAGAIN)) continue;
    if (n <= 0) return false;
    data += n;
    size -= static_cast<size_t>(n);
  }
  return true;
}

bool recv_all(int fd, uint8_t* data, size_t size, Clock::time_point deadline) {
  while (size > 0) {
    if (!wait(fd, POLLIN, deadline)) return false;
    const ssize_t n = recv(fd, data, size, 0);
    if (n < 0 && (errno == EINTR || errno == EAGAIN)) continue;
    if (n <= 0) return false;
    data += n;
    size -= static_cast<size_t>(n);
  }
  return true;
}

uint16_t id_of(std::span<const uint8_t> m) { return static_cast<uint16_t>(m[0] << 8 | m[1]); }

std::optional<std::vector<uint8_t>> exchange(const DnsConfig& dns, const Upstream& up, std::span<const uint8_t> query,
                                             bool tcp, Clock::time_point deadline) {
  Socket s;
  s.fd = socket(up.addr.ss_family, (tcp ? SOCK_STREAM : SOCK_DGRAM) | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
  if (s.fd < 0) return std::nullopt;
  // The ruleset accepts this mark: the guard's own queries, not the container's.
  if (setsockopt(s.fd, SOL_SOCKET, SO_MARK, &dns.mark, sizeof dns.mark) != 0) return std::nullopt;
  if (connect(s.fd, reinterpret_cast<const sockaddr*>(&up.addr), up.len) != 0 && errno != EINPROGRESS)
    return std::nullopt;
  if (tcp) {
    if (!wait(s.fd, POLLOUT, deadline)) return std::nullopt;
    int err = 0;
    socklen_t len = sizeof err;
    if (getsockopt(s.fd, SOL_SOCKET, SO_ERROR, &err, &len) != 0 || err != 0) return std::nullopt;
    std::vector<uint8_t> framed{static_cast<uint8_t>(query.size() >> 8), static_cast<uint8_t>(query.size())};
    framed.insert(framed.end(), query.begin(), query.end());
    uint8_t size[2];
    if (!send_all(s.fd, framed.data(), framed.size(), deadline) || !recv_all(s.fd, size, 2, deadline))
      return std::nullopt;
    std::vector<uint8_t> reply(static_cast<size_t>(size[0] << 8 | size[1]));
    if (reply.size() < 12 || !recv_all(s.fd, reply.data(), reply.size(), deadline) || id_of(reply) != id_of(query))
      return std::nullopt;
    return reply;
  }
  if (!send_all(s.fd, query.data(), query.size(), deadline)) return std::nullopt;
  std::vector<uint8_t> reply(65535);
  // A connected socket hears only this resolver; a reply with another id is stale or forged.
  while (wait(s.fd, POLLIN, deadline)) {
    const ssize_t n = recv(s.fd, reply.data(), reply.size(), 0);
    if (n < 0 && (errno == EINTR || errno == EAGAIN)) continue;
    if (n < 0) return std::nullopt;  // ICMP unreachable and the like: the next resolver
    if (n >= 12 && id_of(reply) == id_of(query)) {
      reply.resize(static_cast<size_t>(n));
      return reply;
    }
  }
  return std::nullopt;
}

}  // namespace

std::optional<std::vector<uint8_t>> ask_upstream(const DnsConfig& dns, std::span<const uint8_t> query, bool tcp,
                                                 std::chrono::milliseconds timeout) {
  for (const auto& up : dns.upstream)
    if (auto reply = exchange(dns, up, query, tcp, Clock::now() + timeout)) return reply;
  return std::nullopt;
}

}  // namespace agentrun::egress
