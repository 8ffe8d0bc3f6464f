#include "runtime/confine/nflog_bind.hpp"

#include <arpa/inet.h>
#include <linux/netfilter/nfnetlink.h>
#include <linux/netfilter/nfnetlink_log.h>
#include <linux/netlink.h>
#include <poll.h>
#include <sys/socket.h>

#include <cerrno>
#include <cstring>

namespace agentrun::nflog {
namespace {

constexpr uint16_t kConfig = NFNL_SUBSYS_ULOG << 8 | NFULNL_MSG_CONFIG;
// A burst of denied packets should not overrun the socket while the guard writes lines.
constexpr int kReceiveBuffer = 1 << 20;
constexpr int kAckTimeoutMs = 2000;

void put_attr(std::vector<uint8_t>& msg, uint16_t type, const void* data, uint16_t len) {
  nlattr a{static_cast<uint16_t>(NLA_HDRLEN + len), type};
  const size_t at = msg.size();
  msg.resize(at + NLA_ALIGN(NLA_HDRLEN + len), 0);
  std::memcpy(msg.data() + at, &a, sizeof a);
  std::memcpy(msg.data() + at + NLA_HDRLEN, data, len);
}

std::vector<uint8_t> config_message(uint16_t group, uint32_t seq) {
  std::vector<uint8_t> msg(NLMSG_HDRLEN + NLMSG_ALIGN(sizeof(nfgenmsg)), 0);
  nlmsghdr h{};
  h.nlmsg_type = kConfig;
  h.nlmsg_flags = NLM_F_REQUEST | NLM_F_ACK;
  h.nlmsg_seq = seq;
  std::memcpy(msg.data(), &h, sizeof h);
  const nfgenmsg g{AF_UNSPEC, NFNETLINK_V0, htons(group)};
  std::memcpy(msg.data() + NLMSG_HDRLEN, &g, sizeof g);
  return msg;
}

void finish(std::vector<uint8_t>& msg) {
  const auto len = static_cast<uint32_t>(msg.size());
  std::memcpy(msg.data(), &len, sizeof len);  // nlmsg_len comes first
}

}  // namespace

std::vector<std::vector<uint8_t>> bind_requests(uint16_t group, uint32_t copy_range) {
  auto bind = config_message(group, 1);
  const nfulnl_msg_config_cmd cmd{NFULNL_CFG_CMD_BIND};
  put_attr(bind, NFULA_CFG_CMD, &cmd, sizeof cmd);
  finish(bind);
  auto mode = config_message(group, 2);
  nfulnl_msg_config_mode m{};
  m.copy_range = htonl(copy_range);
  m.copy_mode = NFULNL_COPY_PACKET;
  put_attr(mode, NFULA_CFG_MODE, &m, sizeof m);
  // Each packet reaches the socket as it is logged: the kernel's default
  // holds up to 100 for up to a second, which a container's end, or the
  // guard's, would lose.
  const uint32_t one = htonl(1);
  put_attr(mode, NFULA_CFG_QTHRESH, &one, sizeof one);
  finish(mode);
  return {bind, mode};
}

std::optional<int> ack_error(std::span<const uint8_t> d) {
  for (size_t at = 0; at + NLMSG_HDRLEN <= d.size();) {
    nlmsghdr h;
    std::memcpy(&h, d.data() + at, sizeof h);
    if (h.nlmsg_len < NLMSG_HDRLEN || at + h.nlmsg_len > d.size()) return std::nullopt;
    if (h.nlmsg_type == NLMSG_ERROR && h.nlmsg_len >= NLMSG_HDRLEN + sizeof(int)) {
      int err;
      std::memcpy(&err, d.data() + at + NLMSG_HDRLEN, sizeof err);
      return -err;
    }
    at += NLMSG_ALIGN(h.nlmsg_len);
  }
  return std::nullopt;
}

std::optional<BindError> bind_group(int fd, uint16_t group) {
  sockaddr_nl local{};
  local.nl_family = AF_NETLINK;
  if (bind(fd, reinterpret_cast<sockaddr*>(&local), sizeof local) != 0) return BindError{"bind", errno};
  if (setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &kReceiveBuffer, sizeof kReceiveBuffer) != 0)
    return BindError{"SO_RCVBUF", errno};
  for (const auto& request : bind_requests(group, kCopyRange)) {
    sockaddr_nl kernel{};
    kernel.nl_family = AF_NETLINK;
    if (sendto(fd, request.data(), request.size(), 0, reinterpret_cast<sockaddr*>(&kernel), sizeof kernel) < 0)
      return BindError{"send the bind request", errno};
    pollfd p{fd, POLLIN, 0};
    const int r = poll(&p, 1, kAckTimeoutMs);
    if (r < 0) return BindError{"poll for the acknowledgement", errno};
    if (r == 0) return BindError{"no acknowledgement from the kernel", ETIMEDOUT};
    std::vector<uint8_t> buf(8192);
    const ssize_t n = recv(fd, buf.data(), buf.size(), 0);
    if (n < 0) return BindError{"receive the acknowledgement", errno};
    const auto err = ack_error(std::span(buf.data(), static_cast<size_t>(n)));
    if (!err) return BindError{"the kernel's reply is not an acknowledgement", 0};
    if (*err != 0) return BindError{"bind", *err};
  }
  return std::nullopt;
}

}  // namespace agentrun::nflog
