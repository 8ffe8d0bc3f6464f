#include "egress-guard/nflog.hpp"

#include <arpa/inet.h>
#include <linux/netfilter/nfnetlink.h>
#include <linux/netfilter/nfnetlink_log.h>
#include <linux/netlink.h>
#include <sys/socket.h>

#include <cstring>

namespace agentrun::egress::nflog {
namespace {

constexpr uint16_t kPacket = NFNL_SUBSYS_ULOG << 8 | NFULNL_MSG_PACKET;

std::string ip_text(int family, const uint8_t* bytes) {
  char text[INET6_ADDRSTRLEN] = {};
  inet_ntop(family, bytes, text, sizeof text);
  return text;
}

uint16_t be16(const uint8_t* p) { return static_cast<uint16_t>(p[0] << 8 | p[1]); }

// Fills in the transport part of `s` from the header of protocol `proto`.
void transport(Summary& s, uint8_t proto, std::span<const uint8_t> l4) {
  switch (proto) {
    case IPPROTO_TCP: s.protocol = "tcp"; break;
    case IPPROTO_UDP: s.protocol = "udp"; break;
    case IPPROTO_SCTP: s.protocol = "sctp"; break;
    case IPPROTO_UDPLITE: s.protocol = "udplite"; break;
    case IPPROTO_ICMP: s.protocol = "icmp"; break;
    case IPPROTO_ICMPV6: s.protocol = "icmpv6"; break;
    default: s.protocol = std::to_string(proto); return;
  }
  if (proto == IPPROTO_ICMP || proto == IPPROTO_ICMPV6) {
    if (!l4.empty()) s.icmp_type = l4[0];
  } else if (l4.size() >= 4) {
    s.port = be16(l4.data() + 2);
  }
}

}  // namespace

std::vector<Packet> parse(std::span<const uint8_t> d) {
  std::vector<Packet> out;
  for (size_t at = 0; at + NLMSG_HDRLEN <= d.size();) {
    nlmsghdr h;
    std::memcpy(&h, d.data() + at, sizeof h);
    if (h.nlmsg_len < NLMSG_HDRLEN || at + h.nlmsg_len > d.size()) break;
    const size_t end = at + h.nlmsg_len;
    if (h.nlmsg_type == kPacket && h.nlmsg_len >= NLMSG_HDRLEN + NLMSG_ALIGN(sizeof(nfgenmsg))) {
      Packet p;
      for (size_t a = at + NLMSG_HDRLEN + NLMSG_ALIGN(sizeof(nfgenmsg)); a + NLA_HDRLEN <= end;) {
        nlattr attr;
        std::memcpy(&attr, d.data() + a, sizeof attr);
        if (attr.nla_len < NLA_HDRLEN || a + attr.nla_len > end) break;
        const uint8_t* data = d.data() + a + NLA_HDRLEN;
        const size_t len = attr.nla_len - NLA_HDRLEN;
        switch (attr.nla_type & NLA_TYPE_MASK) {
          case NFULA_PREFIX: p.prefix.assign(reinterpret_cast<const char*>(data), strnlen(reinterpret_cast<const char*>(data), len)); break;
          case NFULA_UID:
            if (len >= 4) p.uid = static_cast<uint32_t>(data[0]) << 24 | data[1] << 16 | data[2] << 8 | data[3];
            break;
          case NFULA_PAYLOAD: p.payload.assign(data, data + len); break;
          default: break;
        }
        a += NLA_ALIGN(attr.nla_len);
      }
      out.push_back(std::move(p));
    }
    at += NLMSG_ALIGN(h.nlmsg_len);
  }
  return out;
}

std::optional<Summary> summarize(std::span<const uint8_t> p) {
  if (p.empty()) return std::nullopt;
  Summary s;
  const int version = p[0] >> 4;
  if (version == 4) {
    const size_t ihl = (p[0] & 0xF) * 4u;
    if (p.size() < 20 || ihl < 20) return std::nullopt;
    s.source = ip_text(AF_INET, p.data() + 12);
    s.destination = ip_text(AF_INET, p.data() + 16);
    const bool first_fragment = (be16(p.data() + 6) & 0x1FFF) == 0;
    transport(s, p[9], first_fragment && p.size() > ihl ? p.subspan(ihl) : std::span<const uint8_t>());
    return s;
  }
  if (version != 6 || p.size() < 40) return std::nullopt;
  s.source = ip_text(AF_INET6, p.data() + 8);
  s.destination = ip_text(AF_INET6, p.data() + 24);
  uint8_t next = p[6];
  size_t at = 40;
  // Extension headers: hop-by-hop, routing, destination options (8-byte
  // units), fragment (8 bytes); a bounded number of them.
  for (int i = 0; i < 8 && (next == 0 || next == 43 || next == 60 || next == 44); ++i) {
    if (at + 8 > p.size()) return transport(s, next, {}), s;
    const size_t len = next == 44 ? 8 : (p[at + 1] + 1u) * 8;
    if (next == 44 && (be16(p.data() + at + 2) & 0xFFF8) != 0) return transport(s, p[at], {}), s;
    next = p[at];
    at += len;
  }
  transport(s, next, at < p.size() ? p.subspan(at) : std::span<const uint8_t>());
  return s;
}

}  // namespace agentrun::egress::nflog
