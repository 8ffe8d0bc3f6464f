#pragma once
// NFLOG over nfnetlink (NETLINK_NETFILTER, subsystem ULOG), without the
// socket: the requests that bind a log group, and the reading of what the
// kernel sends, so that both can be tested without privileges.

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <vector>

namespace agentrun::egress::nflog {

// The two requests (each with NLM_F_ACK) that bind `group` and ask for the
// first `copy_range` bytes of each packet.
std::vector<std::vector<uint8_t>> bind_requests(uint16_t group, uint32_t copy_range);

// What an acknowledgement in `datagram` says: 0 for success, the errno for
// a refusal, nullopt when it holds no acknowledgement.
std::optional<int> ack_error(std::span<const uint8_t> datagram);

struct Packet {
  std::string prefix;
  std::optional<uint32_t> uid;
  std::vector<uint8_t> payload;  // from the network header on
};

// The logged packets in one datagram. Messages of other kinds are skipped;
// a message that runs past the datagram ends the walk.
std::vector<Packet> parse(std::span<const uint8_t> datagram);

struct Summary {
  std::string protocol;  // "tcp", "udp", "icmp", "icmpv6", ... or the number
  std::string source;
  std::string destination;
  std::optional<uint16_t> port;       // the destination port (TCP, UDP, SCTP, UDP-Lite)
  std::optional<uint8_t> icmp_type;   // ICMP and ICMPv6
};

// The addresses and ports of an IPv4 or IPv6 packet (its first bytes
// suffice); nullopt when even the addresses are not there.
std::optional<Summary> summarize(std::span<const uint8_t> packet);

}  // namespace agentrun::egress::nflog
