#pragma once
// A policy's network.egress as the kernel enforces it: an nftables ruleset
// for the container's network namespace (table inet agentrun), and what
// the egress guard (egress-guard/) needs to answer DNS and keep the sets of
// resolved addresses current. Pure: the host's addresses and the
// container's resolvers come in from the caller.
//
// Rule order in the output chain: loopback, the guard's own DNS queries
// (its mark, which no process without CAP_NET_ADMIN can set), established
// connections, IPv6 neighbour discovery, then every deny entry, then every
// allow entry, then the default. A denied packet is counted and, unless
// log is none, sent to the guard's log group with the prefix
// "agentrun deny N" (N: its index in deny) or "agentrun deny default".

#include <cstddef>
#include <optional>
#include <string>
#include <vector>

#include "runtime/confine/nft_table.hpp"
#include "runtime/policy/policy.hpp"

namespace agentrun::policy {

inline constexpr const char* kEgressTable = "agentrun";
inline constexpr unsigned kEgressMark = 1416;      // SO_MARK of the guard's upstream queries
inline constexpr unsigned kEgressLogGroup = 1416;  // NFLOG group, per network namespace
inline constexpr unsigned kEgressDnsPort = 53;
inline constexpr size_t kEgressOwnerChars = 80;  // of the owner's id in the table's comment

struct EgressName {
  std::string pattern;                // "github.com", "*.example.com"
  std::vector<std::string> elements;  // what follows the address in the set: "tcp . 443"; none: any port
};

struct EgressSetup {
  // nft script that makes the table in one transaction. The table's comment,
  // "agentrun OWNER DIGEST", tells a guard that finds the table already
  // there (containers of a pod share a network namespace) whose rules
  // these are: DIGEST is the SHA-256 of the script without the comment,
  // cut to 32 hex digits, OWNER the id's first kEgressOwnerChars.
  std::string ruleset;
  std::string digest;
  bool dns_proxy = false;          // queries go to the guard (default deny with names or dns)
  bool answer_every_name = false;  // "dns" is allowed
  std::vector<EgressName> names;
  bool log = false;
  // The same rules as data, which the runtime puts in itself
  // (confine/nft_install.hpp); none when the guard answers DNS: its name
  // sets and redirect are made by the guard, with libnftables.
  std::optional<nft::Table> table;
};

// The addresses `metadata` and `link-local` stand for.
const std::vector<std::string>& metadata_networks();
const std::vector<std::string>& link_local_networks();

// `host_addresses`: the host's own addresses (what `host` stands for);
// `owner`: the container's id. Entries were checked when the policy was
// parsed; throws Failure if not.
EgressSetup egress_setup(const Egress& egress, const std::vector<std::string>& host_addresses,
                         const std::string& owner);

}  // namespace agentrun::policy
