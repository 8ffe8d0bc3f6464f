#include "egress-guard/nflog_socket.hpp"

#include <fcntl.h>
#include <linux/netlink.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <vector>

#include "egress-guard/failure.hpp"
#include "egress-guard/log_lines.hpp"
#include "egress-guard/nflog.hpp"
#include "runtime/confine/nflog_bind.hpp"

namespace agentrun::egress {
namespace {

std::string now_text() {
  timespec t{};
  clock_gettime(CLOCK_REALTIME, &t);
  return iso_time(t);
}

}  // namespace

NflogSocket::NflogSocket(uint16_t group, LogFile& log) : log_(log) {
  const std::string step = "nflog group " + std::to_string(group);
  fd_ = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC | SOCK_NONBLOCK, NETLINK_NETFILTER);
  if (fd_ < 0) fail_errno(step, "socket NETLINK_NETFILTER", errno);
  if (const auto e = agentrun::nflog::bind_group(fd_, group)) {
    if (e->errnum == 0) fail(step, e->what);
    fail_errno(step, e->what, e->errnum);
  }
}

NflogSocket::NflogSocket(Bound bound, LogFile& log) : fd_(bound.fd), log_(log) {
  const int flags = fcntl(fd_, F_GETFL);
  if (flags < 0 || fcntl(fd_, F_SETFL, flags | O_NONBLOCK) != 0)
    fail_errno("nflog", "make the socket the runtime bound non-blocking", errno);
}

NflogSocket::~NflogSocket() {
  if (fd_ >= 0) close(fd_);
}

void NflogSocket::ready() {
  std::vector<uint8_t> buf(1 << 16);
  for (;;) {
    const ssize_t n = recv(fd_, buf.data(), buf.size(), 0);
    if (n < 0 && (errno == EAGAIN || errno == EINTR)) return;
    std::vector<std::string> lines;
    if (n < 0 && errno == ENOBUFS) {
      // The kernel dropped messages: say so, and read on.
      lines.push_back(guard_error_line(now_text(), "log messages were lost (socket overrun)"));
    } else if (n < 0) {
      fail_errno("nflog", "recv", errno);
    } else {
      const std::string time = now_text();
      for (const auto& packet : nflog::parse(std::span(buf.data(), static_cast<size_t>(n))))
        lines.push_back(packet_line(time, packet));
    }
    for (const auto& line : lines) {
      try {
        log_.append(line);
      } catch (const GuardError& e) {
        std::fprintf(stderr, "agentrun-egress: %s\n", e.what());
      }
    }
  }
}

}  // namespace agentrun::egress
