#pragma once
// One entry of a policy's network.egress lists (docs/policy.md, 2.5):
//   dns                           any name may be resolved (through the guard)
//   link-local, metadata, host    named address sets (egress_ruleset.cpp)
//   github.com:443, *.example.com a name, or any name below one, resolved
//                                 through the guard; one port or none
//   10.0.0.0/8:5432, 192.0.2.1, [2001:db8::1]:53/udp, fd00::/8
//                                 addresses, with a port or a range 8000-8080
// A port means TCP unless "/udp" follows; without a port every protocol
// matches ("/tcp" or "/udp" narrows it).

#include <cstdint>
#include <string>

namespace agentrun::policy {

enum class EgressKind { dns, link_local, metadata, host, name, address };
enum class EgressProtocol { any, tcp, udp };

struct EgressEntry {
  EgressKind kind = EgressKind::address;
  std::string target;  // the name as written (lower case), or the network as nft writes it: "10.0.0.0/8"
  int family = 0;      // 4 or 6, for addresses
  EgressProtocol protocol = EgressProtocol::any;
  uint16_t port_from = 0, port_to = 0;  // both 0: every port
  bool any_port() const { return port_from == 0 && port_to == 0; }
};

// Throws Failure saying what is wrong with `text`; callers add the field.
EgressEntry parse_egress_entry(const std::string& text);

const char* protocol_name(EgressProtocol p);  // "tcp", "udp"; "" for any

}  // namespace agentrun::policy
