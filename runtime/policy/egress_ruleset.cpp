#include "runtime/policy/egress_ruleset.hpp"

#include "runtime/policy/egress_entry.hpp"
#include "runtime/util/sha256.hpp"

namespace agentrun::policy {
namespace {

// The networks an entry names, each with its family.
std::vector<std::pair<int, std::string>> networks_of(const EgressEntry& e, const std::vector<std::string>& host) {
  auto family = [](const std::string& n) { return n.find(':') == std::string::npos ? 4 : 6; };
  std::vector<std::pair<int, std::string>> out;
  auto add = [&](const std::vector<std::string>& list) {
    for (const auto& n : list) out.emplace_back(family(n), n);
  };
  switch (e.kind) {
    case EgressKind::metadata: add(metadata_networks()); break;
    case EgressKind::link_local: add(link_local_networks()); break;
    case EgressKind::host: add(host); break;
    case EgressKind::address: out.emplace_back(e.family, e.target); break;
    default: break;
  }
  return out;
}

std::string port_match(const EgressEntry& e) {
  if (e.protocol == EgressProtocol::any) return "";
  const std::string proto = protocol_name(e.protocol);
  if (e.any_port()) return " meta l4proto " + proto;
  return " " + proto + " dport " + std::to_string(e.port_from) +
         (e.port_to != e.port_from ? "-" + std::to_string(e.port_to) : "");
}

std::string verdict(bool logged, const std::string& label, bool accept) {
  std::string out = " counter";
  if (logged)
    out += " log prefix \"agentrun " + label + "\" group " + std::to_string(kEgressLogGroup);
  // Refused at once, as a firewall that says so: a dropped SYN would leave
  // the agent waiting for the connect to time out.
  return out + (accept ? " accept\n" : " reject with icmpx admin-prohibited\n");
}

// One rule per network of the entry, in nft's set syntax where there are several.
void address_rules(std::string& out, const EgressEntry& e, const std::vector<std::string>& host, bool logged,
                   const std::string& label, bool accept) {
  for (int family : {4, 6}) {
    std::string set;
    for (const auto& [f, n] : networks_of(e, host))
      if (f == family) set += (set.empty() ? "" : ", ") + n;
    if (set.empty()) continue;
    out += std::string("    ") + (family == 4 ? "ip" : "ip6") + " daddr { " + set + " }" + port_match(e) +
           verdict(logged, label, accept);
  }
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
  std::string deny_rules, allow_rules;
  for (size_t i = 0; i < egress.deny.size(); ++i)
    address_rules(deny_rules, parse_egress_entry(egress.deny[i]), host_addresses, log_denied,
                  "deny " + std::to_string(i), false);
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
      address_rules(allow_rules, e, host_addresses, log_allowed, "allow " + std::to_string(i), true);
    }
  }
  // Under default allow, names and dns allow nothing that is not allowed already.
  s.dns_proxy = deny_by_default && (names || s.answer_every_name);
  if (!s.dns_proxy) s.names.clear(), s.answer_every_name = false;

  const std::string t = kEgressTable, mark = std::to_string(kEgressMark);
  // No "delete table" before it: deleting a table waits for an RCU grace
  // period (10 ms here). The guard adds it where a table is to be replaced.
  std::string r = "table inet " + t + " {\n";
  if (s.dns_proxy) {
    r += "  set names4 { type ipv4_addr . inet_proto . inet_service; flags timeout; }\n"
         "  set names6 { type ipv6_addr . inet_proto . inet_service; flags timeout; }\n"
         "  set names4_any { type ipv4_addr; flags timeout; }\n"
         "  set names6_any { type ipv6_addr; flags timeout; }\n";
  }
  r += "  chain output {\n"
       "    type filter hook output priority filter; policy drop;\n"
       "    oif \"lo\" accept\n"
       // A query redirected to the guard: the output device was chosen
       // before the redirect. Loopback addresses never leave the namespace.
       "    ip daddr 127.0.0.0/8 accept\n"
       "    ip6 daddr ::1 accept\n";
  if (s.dns_proxy) r += "    meta mark " + mark + " accept\n";
  r += "    ct state established,related accept\n"
       "    icmpv6 type { nd-neighbor-solicit, nd-neighbor-advert, nd-router-solicit } accept\n";
  r += deny_rules;
  if (s.dns_proxy) {
    const std::string names_label = "allow names";
    r += "    ip daddr . meta l4proto . th dport @names4" + verdict(log_allowed, names_label, true);
    r += "    ip6 daddr . meta l4proto . th dport @names6" + verdict(log_allowed, names_label, true);
    r += "    ip daddr @names4_any" + verdict(log_allowed, names_label, true);
    r += "    ip6 daddr @names6_any" + verdict(log_allowed, names_label, true);
  }
  r += allow_rules;
  r += "   " + verdict(deny_by_default ? log_denied : log_allowed, deny_by_default ? "deny default" : "allow default",
                       !deny_by_default);
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
  const std::string head = "table inet " + t + " {\n";
  r.insert(r.rfind(head) + head.size(),
           "  comment \"agentrun " + owner.substr(0, kEgressOwnerChars) + " " + s.digest + "\"\n");
  s.ruleset = std::move(r);
  return s;
}

}  // namespace agentrun::policy
