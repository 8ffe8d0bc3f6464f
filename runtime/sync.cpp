#include "runtime/sync.hpp"

#include <errno.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <vector>

namespace agentrun {
namespace {

struct Header {
  uint32_t type;
  int32_t errnum;
  int64_t value;
  uint32_t step_len;
  uint32_t reason_len;
};

constexpr size_t kMaxMessage = 64 * 1024;

Status send_packet(int sock, const void* data, size_t len, int fd_to_pass) {
  iovec iov{const_cast<void*>(data), len};
  msghdr msg{};
  msg.msg_iov = &iov;
  msg.msg_iovlen = 1;
  alignas(cmsghdr) char control[CMSG_SPACE(sizeof(int))] = {};
  if (fd_to_pass >= 0) {
    msg.msg_control = control;
    msg.msg_controllen = sizeof control;
    cmsghdr* c = CMSG_FIRSTHDR(&msg);
    c->cmsg_level = SOL_SOCKET;
    c->cmsg_type = SCM_RIGHTS;
    c->cmsg_len = CMSG_LEN(sizeof(int));
    memcpy(CMSG_DATA(c), &fd_to_pass, sizeof(int));
  }
  ssize_t n;
  do {
    n = ::sendmsg(sock, &msg, MSG_NOSIGNAL);
  } while (n < 0 && errno == EINTR);
  if (n < 0) return sys_error("send message", errno);
  return {};
}

// One packet into `buf`; a descriptor passed with it goes to `fd`.
Result<size_t> receive_packet(int sock, std::vector<char>& buf, UniqueFd& fd) {
  iovec iov{buf.data(), buf.size()};
  msghdr msg{};
  msg.msg_iov = &iov;
  msg.msg_iovlen = 1;
  alignas(cmsghdr) char control[CMSG_SPACE(sizeof(int))] = {};
  msg.msg_control = control;
  msg.msg_controllen = sizeof control;
  ssize_t n;
  bool reset = false;
  for (;;) {
    n = ::recvmsg(sock, &msg, MSG_CMSG_CLOEXEC);
    if (n >= 0) break;
    if (errno == EINTR) continue;
    // A peer that exits with messages of ours unread resets the connection,
    // and the kernel reports that before the messages the peer sent last
    // (its error, say): read those first.
    if (errno == ECONNRESET && !reset) {
      reset = true;
      continue;
    }
    return sys_error("receive message", errno);
  }
  if (n == 0) return Error{"receive message", "closed", EPIPE};
  // A cut message or a dropped descriptor would be read as something else.
  if (msg.msg_flags & MSG_TRUNC) return plain_error("receive message", "message too long");
  if (msg.msg_flags & MSG_CTRUNC) return plain_error("receive message", "more descriptors than expected");
  size_t passed_count = 0;
  for (cmsghdr* c = CMSG_FIRSTHDR(&msg); c; c = CMSG_NXTHDR(&msg, c)) {
    if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS) continue;
    const size_t count = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
    for (size_t i = 0; i < count; ++i) {
      int passed;
      memcpy(&passed, CMSG_DATA(c) + i * sizeof(int), sizeof passed);
      if (passed_count++ == 0) fd.reset(passed);
      else ::close(passed);
    }
  }
  if (passed_count > 1) return plain_error("receive message", "more descriptors than expected");
  return static_cast<size_t>(n);
}

}  // namespace

Status SyncChannel::send(MsgType type, int64_t value, int fd_to_pass) {
  Header h{static_cast<uint32_t>(type), 0, value, 0, 0};
  return send_packet(fd_.get(), &h, sizeof h, fd_to_pass);
}

Status SyncChannel::send_error(const Error& e) { return send_text(MsgType::error, e); }

Status SyncChannel::send_report(const std::string& text) { return send_text(MsgType::report, Error{text, "", 0}); }

Status SyncChannel::send_text(MsgType type, const Error& e) {
  std::string step = e.step.substr(0, kMaxMessage / 2);
  std::string reason = e.reason.substr(0, kMaxMessage / 2 - sizeof(Header));
  Header h{static_cast<uint32_t>(type), e.errnum, 0,
           static_cast<uint32_t>(step.size()), static_cast<uint32_t>(reason.size())};
  std::string buf(reinterpret_cast<const char*>(&h), sizeof h);
  buf += step;
  buf += reason;
  return send_packet(fd_.get(), buf.data(), buf.size(), -1);
}

Result<Message> SyncChannel::receive() {
  std::vector<char> buf(kMaxMessage);
  Message out;
  AR_TRY_ASSIGN(size_t n, receive_packet(fd_.get(), buf, out.fd));
  Header h;
  if (static_cast<size_t>(n) < sizeof h) return plain_error("receive message", "short message");
  memcpy(&h, buf.data(), sizeof h);
  if (sizeof h + h.step_len + h.reason_len != static_cast<size_t>(n))
    return plain_error("receive message", "malformed message");
  if (h.type < static_cast<uint32_t>(MsgType::stage_ready) || h.type > static_cast<uint32_t>(MsgType::cgroup_joined))
    return plain_error("receive message", "unknown message type " + std::to_string(h.type));
  out.type = static_cast<MsgType>(h.type);
  out.value = h.value;
  if (out.type == MsgType::error || out.type == MsgType::report) {
    out.error.step.assign(buf.data() + sizeof h, h.step_len);
    out.error.reason.assign(buf.data() + sizeof h + h.step_len, h.reason_len);
    out.error.errnum = h.errnum;
  }
  return out;
}

Result<UniqueFd> receive_fd(int socket) {
  std::vector<char> buf(4096);
  UniqueFd fd;
  AR_TRY(receive_packet(socket, buf, fd));
  if (!fd) return plain_error("receive a descriptor", "the message carried none");
  return fd;
}

Result<std::pair<SyncChannel, SyncChannel>> make_channel_pair() {
  int fds[2];
  if (::socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, fds) < 0)
    return sys_error("create sync socket pair", errno);
  return std::make_pair(SyncChannel(UniqueFd(fds[0])), SyncChannel(UniqueFd(fds[1])));
}

Status send_fd(int socket, int fd, const std::string& payload) {
  return send_packet(socket, payload.data(), payload.size(), fd);
}

}  // namespace agentrun
