#pragma once
// NFLOG over nfnetlink (NETLINK_NETFILTER, subsystem ULOG), without the
// socket: the reading of what the kernel sends, tested without privileges.

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "runtime/confine/nflog_bind.hpp"

namespace agentrun::egress::nflog {

// Binding a group is the runtime's too (confine/nflog_bind.hpp).
using agentrun::nflog::ack_error;
using agentrun::nflog::bind_requests;

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
