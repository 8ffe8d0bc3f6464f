#pragma once
// A table of output rules as plain data (the part of an egress ruleset the
// runtime puts in itself), written two ways: as nft text, which is what
// `inspect` shows and what the table's digest is taken of, and as the
// nf_tables netlink messages the kernel takes (nft_batch.hpp), in the
// expressions nft makes of that text. The runtime test nft_install holds
// the two to the same bytecode.

#include <array>
#include <cstdint>
#include <string>
#include <vector>

namespace agentrun::nft {

enum class Verdict { accept, reject };  // reject: ICMP "administratively prohibited", either family

struct Rule {
  // loopback: `oif "lo"`; established: `ct state established,related`;
  // packet: the fields below, every one that is set.
  enum class Kind { packet, loopback, established } kind = Kind::packet;
  int family = 0;                      // 4 or 6: that family only; 0: both
  std::array<uint8_t, 16> address{};   // destination network (family's length)
  unsigned prefix = 0;                 // its prefix length; 0: any destination
  uint8_t protocol = 0;                // IPPROTO_*; 0: any
  uint16_t port_from = 0, port_to = 0; // destination ports (TCP, UDP); 0: any
  int icmpv6_type = -1;                // with protocol IPPROTO_ICMPV6
  bool counter = false;
  std::string log_prefix;              // "": not logged
  uint16_t log_group = 0;
  Verdict verdict = Verdict::accept;
};

// `table inet NAME { comment COMMENT; chain output { type filter hook
// output priority filter; policy drop; RULES } }`.
struct Table {
  std::string name;
  std::string comment;  // at most 127 bytes (nft's limit)
  std::vector<Rule> rules;
};

// "10.0.0.0/8", "192.0.2.1", "fe80::/10" as a rule's family, address and
// prefix; throws Failure on anything else (host bits included).
void set_destination(Rule& rule, const std::string& network);

// One rule as nft writes it, without indentation or newline.
std::string rule_text(const Rule& rule);

}  // namespace agentrun::nft
