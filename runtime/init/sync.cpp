#include "runtime/init/sync.hpp"

#include <errno.h>
#include <string.h>
#include <sys/socket.h>

#include <memory>

#include "runtime/util/unix_socket.hpp"

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
  // Not zeroed: only the pages a message fills are touched (a fresh page
  // costs a fault, and most messages are a header).
  const auto buf = std::make_unique_for_overwrite<char[]>(kMaxMessage);
  Message out;
  AR_TRY_ASSIGN(size_t n, receive_packet(fd_.get(), {buf.get(), kMaxMessage}, out.fd));
  Header h;
  if (static_cast<size_t>(n) < sizeof h) return plain_error("receive message", "short message");
  memcpy(&h, buf.get(), sizeof h);
  if (sizeof h + h.step_len + h.reason_len != static_cast<size_t>(n))
    return plain_error("receive message", "malformed message");
  if (h.type < static_cast<uint32_t>(MsgType::stage_ready) || h.type > static_cast<uint32_t>(MsgType::network_namespace))
    return plain_error("receive message", "unknown message type " + std::to_string(h.type));
  out.type = static_cast<MsgType>(h.type);
  out.value = h.value;
  if (out.type == MsgType::error || out.type == MsgType::report) {
    out.error.step.assign(buf.get() + sizeof h, h.step_len);
    out.error.reason.assign(buf.get() + sizeof h + h.step_len, h.reason_len);
    out.error.errnum = h.errnum;
  }
  return out;
}

Result<std::pair<SyncChannel, SyncChannel>> make_channel_pair() {
  int fds[2];
  if (::socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, fds) < 0)
    return sys_error("create sync socket pair", errno);
  return std::make_pair(SyncChannel(UniqueFd(fds[0])), SyncChannel(UniqueFd(fds[1])));
}

}  // namespace agentrun
