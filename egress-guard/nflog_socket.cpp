#include "egress-guard/nflog_socket.hpp"

#include <linux/netlink.h>
#include <poll.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <vector>

#include "egress-guard/failure.hpp"
#include "egress-guard/log_lines.hpp"
#include "egress-guard/nflog.hpp"

namespace agentrun::egress {
namespace {

constexpr int kReceiveBuffer = 1 << 20;
constexpr int kAckTimeoutMs = 2000;

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
  sockaddr_nl local{};
  local.nl_family = AF_NETLINK;
  if (bind(fd_, reinterpret_cast<sockaddr*>(&local), sizeof local) != 0) fail_errno(step, "bind", errno);
  // A burst of denied packets should not overrun the socket while the guard writes lines.
  if (setsockopt(fd_, SOL_SOCKET, SO_RCVBUF, &kReceiveBuffer, sizeof kReceiveBuffer) != 0)
    fail_errno(step, "SO_RCVBUF", errno);
  for (const auto& request : nflog::bind_requests(group, kCopyRange)) {
    sockaddr_nl kernel{};
    kernel.nl_family = AF_NETLINK;
    if (sendto(fd_, request.data(), request.size(), 0, reinterpret_cast<sockaddr*>(&kernel), sizeof kernel) < 0)
      fail_errno(step, "send the bind request", errno);
    pollfd p{fd_, POLLIN, 0};
    const int r = poll(&p, 1, kAckTimeoutMs);
    if (r < 0) fail_errno(step, "poll for the acknowledgement", errno);
    if (r == 0) fail(step, "no acknowledgement from the kernel");
    std::vector<uint8_t> buf(8192);
    const ssize_t n = recv(fd_, buf.data(), buf.size(), 0);
    if (n < 0) fail_errno(step, "receive the acknowledgement", errno);
    const auto err = nflog::ack_error(std::span(buf.data(), static_cast<size_t>(n)));
    if (!err) fail(step, "the kernel's reply is not an acknowledgement");
    if (*err != 0) fail_errno(step, "bind", *err);
  }
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
