#include "runtime/util/interface_addresses.hpp"

#include <arpa/inet.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <sys/socket.h>

#include <cerrno>
#include <optional>

#include "runtime/util/fd.hpp"
#include "runtime/util/netlink_messages.hpp"

namespace agentrun {
namespace {

constexpr const char* kStep = "list the host's addresses";

// One RTM_NEWADDR: IFA_LOCAL is the interface's own IPv4 address where
// IFA_ADDRESS is a point-to-point peer's; IPv6 has IFA_ADDRESS alone.
void add_address(const nlmsghdr* h, std::vector<std::string>& out) {
  const auto* ifa = static_cast<const ifaddrmsg*>(NLMSG_DATA(h));
  if (ifa->ifa_family != AF_INET && ifa->ifa_family != AF_INET6) return;
  const void* local = nullptr;
  const void* address = nullptr;
  int left = static_cast<int>(IFA_PAYLOAD(h));
  for (const rtattr* a = IFA_RTA(ifa); RTA_OK(a, left); a = RTA_NEXT(a, left)) {
    const size_t want = ifa->ifa_family == AF_INET ? 4 : 16;
    if (RTA_PAYLOAD(a) < want) continue;
    if (a->rta_type == IFA_LOCAL) local = RTA_DATA(a);
    if (a->rta_type == IFA_ADDRESS) address = RTA_DATA(a);
  }
  const void* bytes = local ? local : address;
  char text[INET6_ADDRSTRLEN];
  if (bytes && ::inet_ntop(ifa->ifa_family, bytes, text, sizeof text)) out.emplace_back(text);
}

// One dump; nullopt when the kernel marks it interrupted (an address came
// or went meanwhile), which may have left one out.
Result<std::optional<std::vector<std::string>>> dump_addresses() {
  UniqueFd fd(::socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE));
  if (!fd) return sys_error(std::string(kStep) + ": netlink socket", errno);
  struct {
    nlmsghdr header;
    ifaddrmsg body;
  } request{};
  request.header.nlmsg_len = sizeof request;
  request.header.nlmsg_type = RTM_GETADDR;
  request.header.nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP;
  request.header.nlmsg_seq = 1;
  request.body.ifa_family = AF_UNSPEC;
  sockaddr_nl kernel{};
  kernel.nl_family = AF_NETLINK;
  if (::sendto(fd.get(), &request, sizeof request, 0, reinterpret_cast<const sockaddr*>(&kernel), sizeof kernel) < 0)
    return sys_error(std::string(kStep) + ": send RTM_GETADDR", errno);
  std::vector<std::string> out;
  bool interrupted = false;
  alignas(nlmsghdr) char buf[32768];
  for (;;) {
    // MSG_TRUNC: the reply's whole length, so that a cut one is an error, never a shorter list.
    const ssize_t got = ::recv(fd.get(), buf, sizeof buf, MSG_TRUNC);
    if (got < 0 && errno == EINTR) continue;
    if (got < 0) return sys_error(std::string(kStep) + ": receive", errno);
    if (got == 0) return plain_error(kStep, "the dump ended without NLMSG_DONE");
    if (static_cast<size_t>(got) > sizeof buf) return plain_error(kStep, "a reply does not fit in 32 KiB");
    for (const nlmsghdr& h : NetlinkMessages(buf, static_cast<size_t>(got))) {
      if (h.nlmsg_seq != request.header.nlmsg_seq) continue;
      interrupted = interrupted || (h.nlmsg_flags & NLM_F_DUMP_INTR);
      if (h.nlmsg_type == NLMSG_DONE) return interrupted ? std::nullopt : std::optional(std::move(out));
      if (h.nlmsg_type == NLMSG_ERROR) {
        const auto* e = static_cast<const nlmsgerr*>(NLMSG_DATA(&h));
        const bool whole = h.nlmsg_len >= NLMSG_LENGTH(sizeof(nlmsgerr));
        return sys_error(std::string(kStep) + ": RTM_GETADDR", whole && e->error < 0 ? -e->error : EPROTO);
      }
      if (h.nlmsg_type == RTM_NEWADDR) add_address(&h, out);
    }
  }
}

}  // namespace

Result<std::vector<std::string>> interface_addresses() {
  for (int attempt = 0; attempt < 5; ++attempt) {
    AR_TRY_ASSIGN(auto dumped, dump_addresses());
    if (dumped) return std::move(*dumped);
  }
  return plain_error(kStep, "the addresses kept changing during five dumps");
}

}  // namespace agentrun
