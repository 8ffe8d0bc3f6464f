#include "runtime/policy/egress_ruleset.hpp"

#include <netinet/in.h>

#include "runtime/policy/egress_entry.hpp"
#include "runtime/util/sha256.hpp"

namespace agentrun::policy {
namespace {

// The networks an entry names.
std::vector<std::string> networks_of(const EgressEntry& e, const std::vector<std::string>& host) {
  switch (e.kind) {
    case EgressKind::metadata: return metadata_networks();
    case EgressKind::link_local: return link_local_networks();
    case EgressKind::host: return host;
    case EgressKind::address: return {e.target};
    default: return {};
  }
}

// One rule per network of the entry, each with the entry's ports.
void entry_rules(std::vector<nft::Rule>& out, const EgressEntry& e, const std::vector<std::string>& host,
                 const nft::Rule& then) {
  for (const std::string& network : networks_of(e, host)) {
    nft::Rule r = then;
    nft::set_destination(r, network);
    r.protocol = e.protocol == EgressProtocol::tcp ? IPPROTO_TCP : e.protocol == EgressProtocol::udp ? IPPROTO_UDP : 0;
    r.port_from = e.port_from;
    r.port_to = e.port_to;
    out.push_back(std::move(r));
  }
}

// What a matching packet gets: counted, perhaps logged, then the verdict.
// Refused at once, as a firewall that says so: a dropped SYN would leave
// the agent waiting for the connect to time out.
nft::Rule action(bool logged, const std::string& label, bool accept) {
  nft::Rule r;
  r.counter = true;
  if (logged) r.log_prefix = "agentrun " + label, r.log_group = kEgressLogGroup;
  r.verdict = accept ? nft::Verdict::accept : nft::Verdict::reject;
  return r;
}

nft::Rule accept_to(const std::string& network) {
  nft::Rule r;
  nft::set_destination(r, network);
  return r;
}

nft::Rule icmpv6_accepted(int type) {
  nft::Rule r;
  r.family = 6;
  r.protocol = IPPROTO_ICMPV6;
  r.icmpv6_type = type;
  return r;
}

}  // namespace

const std::vector<std::string>& metadata_networks() {
  // 169.254.169.254 (AWS, GCP, Azure, OpenStack, Oracle, DigitalOcean, ...),
  // 169.254.170.2 (ECS tasks), 100.100.100.200 (Alibaba), 192.0.0.192
  // (Oracle), fd00:ec2::254 (AWS, IPv6). Azure's 168.63.129.16 is left out:
  // it is also the VM's resolver there.
  static const std::vector<std::string> kNets = {"169.254.169.254", "169.254.170.2", "100.100.100.200",
                                                 "192.0.0.192", "fd00:ec2::254"};
  return kNets;
}

const std::vector<std::string>& link_local_networks() {
  static const std::vector<std::string> kNets = {"169.254.0.0/16", "fe80::/10"};
  return kNets;
}

EgressSetup egress_setup(const Egress& egress, const std::vector<std::string>& host_addresses,
                         const std::string& owner) {
  EgressSetup s;
  const bool deny_by_default = egress.fallback == EgressDefault::deny;
  s.log = egress.log != EgressLog::none;
  const bool log_denied = s.log, log_allowed = egress.log == EgressLog::all;
  std::vector<nft::Rule> deny_rules, allow_rules;
  for (size_t i = 0; i < egress.deny.size(); ++i)
    entry_rules(deny_rules, parse_egress_entry(egress.deny[i]), host_addresses,
                action(log_denied, "deny " + std::to_string(i), false));
  bool names = false;
  for (size_t i = 0; i < egress.allow.size(); ++i) {
    const EgressEntry e = parse_egress_entry(egress.allow[i]);
    if (e.kind == EgressKind::dns) {
      s.answer_every_name = true;
    } else if (e.kind == EgressKind::name) {
      names = true;
      EgressName n{e.target, {}};
      if (!e.any_port()) n.elements.push_back(std::string(protocol_name(e.protocol)) + " . " + std::to_string(e.port_from));
      s.names.push_back(std::move(n));
    } else {
      entry_rules(allow_rules, e, host_addresses, action(log_allowed, "allow " + std::to_string(i), true));
    }
  }
  // Under default allow, names and dns allow nothing that is not allowed already.
  s.dns_proxy = deny_by_default && (names || s.answer_every_name);
  if (!s.dns_proxy) s.names.clear(), s.answer_every_name = false;

  nft::Rule loopback;
  loopback.kind = nft::Rule::Kind::loopback;
  nft::Rule established;
  established.kind = nft::Rule::Kind::established;
  // A query redirected to the guard: the output device was chosen before
  // the redirect. Loopback addresses never leave the namespace.
  const std::vector<nft::Rule> head = {loopback, accept_to("127.0.0.0/8"), accept_to("::1")};
  const std::vector<nft::Rule> settled = {established, icmpv6_accepted(135), icmpv6_accepted(136),
                                          icmpv6_accepted(133)};
  const nft::Rule fallback = deny_by_default ? action(log_denied, "deny default", false)
                                             : action(log_allowed, "allow default", true);

  std::string r;
  const auto write = [&r](const std::vector<nft::Rule>& rules) {
    for (const auto& rule : rules) r += "    " + nft::rule_text(rule) + "\n";
  };
  const std::string t = kEgressTable, mark = std::to_string(kEgressMark);
  // No "delete table" before it: deleting a table waits for an RCU grace
  // period (10 ms here). A table is replaced only where one is in place.
  r = "table inet " + t + " {\n";
  if (s.dns_proxy) {
    r += "  set names4 { type ipv4_addr . inet_proto . inet_service; flags timeout; }\n"
         "  set names6 { type ipv6_addr . inet_proto . inet_service; flags timeout; }\n"
         "  set names4_any { type ipv4_addr; flags timeout; }\n"
         "  set names6_any { type ipv6_addr; flags timeout; }\n";
  }
  r += "  chain output {\n"
       "    type filter hook output priority filter; policy drop;\n";
  write(head);
  if (s.dns_proxy) r += "    meta mark " + mark + " accept\n";
  write(settled);
  write(deny_rules);
  if (s.dns_proxy) {
    const std::string logged = nft::rule_text(action(log_allowed, "allow names", true));
    r += "    ip daddr . meta l4proto . th dport @names4 " + logged + "\n";
    r += "    ip6 daddr . meta l4proto . th dport @names6 " + logged + "\n";
    r += "    ip daddr @names4_any " + logged + "\n";
    r += "    ip6 daddr @names6_any " + logged + "\n";
  }
  write(allow_rules);
  write({fallback});
  r += "  }\n";
  if (s.dns_proxy) {
    // Every query, to whatever server, is the guard's: only it resolves.
    r += "  chain dns {\n"
         "    type nat hook output priority -100; policy accept;\n"
         "    meta mark " + mark + " return\n"
         "    meta l4proto { tcp, udp } th dport 53 redirect to :" + std::to_string(kEgressDnsPort) + "\n"
         "  }\n";
  }
  r += "}\n";
  // nft keeps at most 128 bytes of comment: 128 bits of digest, and the
  // owner's id cut short (docker's ids are 64 characters).
  s.digest = sha256_hex(r).substr(0, 32);
  const std::string comment = "agentrun " + owner.substr(0, kEgressOwnerChars) + " " + s.digest;
  const std::string head_line = "table inet " + t + " {\n";
  r.insert(head_line.size(), "  comment \"" + comment + "\"\n");
  s.ruleset = std::move(r);
  if (!s.dns_proxy) {
    nft::Table table{t, comment, head};
    for (const auto& part : {settled, deny_rules, allow_rules})
      table.rules.insert(table.rules.end(), part.begin(), part.end());
    table.rules.push_back(fallback);
    s.table = std::move(table);
  }
  return s;
}

}  // namespace agentrun::policy
