#include "runtime/util/unix_socket.hpp"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

namespace agentrun {
namespace {

// Paths in a unix address are limited to 107 bytes; a directory descriptor
// and its /proc/self/fd alias make any path short enough.
struct SocketPath {
  sockaddr_un addr{};
  UniqueFd dir;
};

SocketPath socket_path(const std::string& path, const std::string& step) {
  SocketPath out;
  out.addr.sun_family = AF_UNIX;
  std::string usable = path;
  if (path.size() >= sizeof out.addr.sun_path) {
    auto slash = path.rfind('/');
    std::string dir = slash == std::string::npos ? "." : path.substr(0, slash == 0 ? 1 : slash);
    out.dir.reset(::open(dir.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC));
    if (!out.dir) fail_errno(step + ": open " + dir, errno);
    usable = "/proc/self/fd/" + std::to_string(out.dir.get()) + "/" + path.substr(slash + 1);
    if (usable.size() >= sizeof out.addr.sun_path) fail(step, "socket name too long: " + path);
  }
  usable.copy(out.addr.sun_path, sizeof out.addr.sun_path - 1);
  return out;
}

}  // namespace

UniqueFd connect_unix(const std::string& path, int type, const std::string& step) {
  SocketPath sp = socket_path(path, step);
  UniqueFd s(::socket(AF_UNIX, type | SOCK_CLOEXEC, 0));
  if (!s) fail_errno(step, errno);
  if (::connect(s.get(), reinterpret_cast<sockaddr*>(&sp.addr), sizeof sp.addr) < 0) fail_errno(step, errno);
  return s;
}

UniqueFd listen_unix(const std::string& path, const std::string& step) {
  SocketPath sp = socket_path(path, step);
  UniqueFd s(::socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0));
  if (!s) fail_errno(step, errno);
  if (::bind(s.get(), reinterpret_cast<sockaddr*>(&sp.addr), sizeof sp.addr) < 0) fail_errno(step, errno);
  if (::listen(s.get(), 4) < 0) fail_errno(step, errno);
  return s;
}

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

Result<size_t> receive_packet(int sock, std::span<char> buf, UniqueFd& fd) {
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

Status send_fd(int socket, int fd, const std::string& payload) {
  return send_packet(socket, payload.data(), payload.size(), fd);
}

Result<UniqueFd> receive_fd(int socket) {
  char buf[4096];
  UniqueFd fd;
  AR_TRY(receive_packet(socket, buf, fd));
  if (!fd) return plain_error("receive a descriptor", "the message carried none");
  return fd;
}

}  // namespace agentrun
