#pragma once
// An NFLOG group bound to a netfilter socket (NETLINK_NETFILTER, subsystem
// ULOG): the requests and the kernel's acknowledgements, pure so that they
// are tested without privileges, and the exchange itself. The runtime binds
// a container's log group in its network namespace before the container's
// process runs (nft_install.hpp), so that nothing logged before the egress
// guard reads is lost; the guard that answers DNS binds its own. No
// exceptions: the guard links this too.

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <vector>

namespace agentrun::nflog {

// Enough of each packet for its IP and transport headers.
inline constexpr uint32_t kCopyRange = 128;

// The two requests (each with NLM_F_ACK) that bind `group` and ask for the
// first `copy_range` bytes of each packet, each packet sent on its own.
std::vector<std::vector<uint8_t>> bind_requests(uint16_t group, uint32_t copy_range);

// What an acknowledgement in `datagram` says: 0 for success, the errno for
// a refusal, nullopt when it holds no acknowledgement.
std::optional<int> ack_error(std::span<const uint8_t> datagram);

struct BindError {
  std::string what;  // the step: "bind", "send the bind request", ...
  int errnum = 0;    // 0 when the kernel's answer was not what was asked
};

// Binds the netlink socket `fd`, sizes its receive buffer for bursts and
// binds `group` (kCopyRange), each request awaiting its acknowledgement.
std::optional<BindError> bind_group(int fd, uint16_t group);

}  // namespace agentrun::nflog
