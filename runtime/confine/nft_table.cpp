#include "runtime/confine/nft_table.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>

#include <charconv>

#include "spec/error.hpp"

namespace agentrun::nft {
namespace {

std::string protocol_text(uint8_t p) {
  switch (p) {
    case IPPROTO_TCP: return "tcp";
    case IPPROTO_UDP: return "udp";
    case IPPROTO_ICMPV6: return "icmpv6";
    default: return std::to_string(p);
  }
}

std::string icmpv6_type_text(int type) {
  switch (type) {
    case 133: return "nd-router-solicit";
    case 135: return "nd-neighbor-solicit";
    case 136: return "nd-neighbor-advert";
    default: return std::to_string(type);
  }
}

}  // namespace

void set_destination(Rule& rule, const std::string& network) {
  const size_t slash = network.find('/');
  const std::string addr = network.substr(0, slash);
  if (::inet_pton(AF_INET, addr.c_str(), rule.address.data()) == 1) rule.family = 4;
  else if (::inet_pton(AF_INET6, addr.c_str(), rule.address.data()) == 1) rule.family = 6;
  else fail("egress rule", "\"" + network + "\" is not an IPv4 or IPv6 network");
  const unsigned bits = rule.family == 4 ? 32 : 128;
  rule.prefix = bits;
  if (slash != std::string::npos) {
    const char* first = network.data() + slash + 1;
    const char* last = network.data() + network.size();
    const auto [end, ec] = std::from_chars(first, last, rule.prefix);
    if (first == last || ec != std::errc() || end != last || rule.prefix > bits)
      fail("egress rule", "\"" + network + "\" has no valid prefix length");
  }
  for (unsigned bit = rule.prefix; bit < bits; ++bit)
    if ((rule.address[bit / 8] & (0x80u >> (bit % 8))) != 0)
      fail("egress rule", "\"" + network + "\" has bits set past its prefix");
}

std::string rule_text(const Rule& r) {
  if (r.kind == Rule::Kind::loopback) return "oif \"lo\" accept";
  if (r.kind == Rule::Kind::established) return "ct state established,related accept";
  std::string out;
  const auto part = [&out](const std::string& p) { out += (out.empty() ? "" : " ") + p; };
  if (r.prefix > 0) {
    char text[INET6_ADDRSTRLEN];
    ::inet_ntop(r.family == 4 ? AF_INET : AF_INET6, r.address.data(), text, sizeof text);
    part(std::string(r.family == 4 ? "ip" : "ip6") + " daddr " + text +
         (r.prefix != (r.family == 4 ? 32u : 128u) ? "/" + std::to_string(r.prefix) : ""));
  } else if (r.family != 0 && r.icmpv6_type < 0) {
    part(r.family == 4 ? "meta nfproto ipv4" : "meta nfproto ipv6");
  }
  if (r.icmpv6_type >= 0)
    part("icmpv6 type " + icmpv6_type_text(r.icmpv6_type));
  else if (r.port_from != 0)
    part(protocol_text(r.protocol) + " dport " + std::to_string(r.port_from) +
         (r.port_to != r.port_from ? "-" + std::to_string(r.port_to) : ""));
  else if (r.protocol != 0)
    part("meta l4proto " + protocol_text(r.protocol));
  if (r.counter) part("counter");
  if (!r.log_prefix.empty()) part("log prefix \"" + r.log_prefix + "\" group " + std::to_string(r.log_group));
  part(r.verdict == Verdict::accept ? "accept" : "reject with icmpx admin-prohibited");
  return out;
}

}  // namespace agentrun::nft
