// network.egress: the entries, the ruleset the kernel gets, parsing, merging
// and what egress takes from a process's capabilities.
#include <boost/test/unit_test.hpp>

#include <string>

#include "runtime/policy/egress_entry.hpp"
#include "runtime/policy/egress_ruleset.hpp"
#include "runtime/policy/merge.hpp"
#include "runtime/policy/parse_policy.hpp"
#include "runtime/policy/process_policy.hpp"
#include "support/checks.hpp"

using namespace agentrun::policy;

namespace {

Policy parse(const std::string& egress) {
  return parse_policy(R"({"agentrunPolicy": 1, "name": "e", "network": {"egress": )" + egress + "}}", "policy e");
}

std::string entry(const std::string& text) {
  const EgressEntry e = parse_egress_entry(text);
  std::string out = std::to_string(static_cast<int>(e.kind)) + " " + e.target;
  if (e.family) out += " v" + std::to_string(e.family);
  if (e.protocol != EgressProtocol::any) out += std::string(" ") + protocol_name(e.protocol);
  if (!e.any_port()) out += " " + std::to_string(e.port_from) + "-" + std::to_string(e.port_to);
  return out;
}

bool contains(const std::string& text, const std::string& part) { return text.find(part) != std::string::npos; }

}  // namespace

BOOST_AUTO_TEST_CASE(entries_are_read_as_the_kernel_will_match_them) {
  const auto name = std::to_string(static_cast<int>(EgressKind::name));
  const auto addr = std::to_string(static_cast<int>(EgressKind::address));
  BOOST_TEST(entry("GitHub.com:443") == name + " github.com tcp 443-443");
  BOOST_TEST(entry("*.pkg.example.com") == name + " *.pkg.example.com");
  BOOST_TEST(entry("example.com:53/udp") == name + " example.com udp 53-53");
  BOOST_TEST(entry("10.1.2.3/8:5432") == addr + " 10.0.0.0/8 v4 tcp 5432-5432");
  BOOST_TEST(entry("192.0.2.1") == addr + " 192.0.2.1 v4");
  BOOST_TEST(entry("192.0.2.1/udp") == addr + " 192.0.2.1 v4 udp");
  BOOST_TEST(entry("[2001:db8::1]:8000-8080") == addr + " 2001:db8::1 v6 tcp 8000-8080");
  BOOST_TEST(entry("fd00::/8") == addr + " fd00::/8 v6");
  BOOST_TEST(entry("FD00:EC2::254") == addr + " fd00:ec2::254 v6");
  BOOST_TEST((parse_egress_entry("dns").kind == EgressKind::dns));
  BOOST_TEST((parse_egress_entry("metadata").kind == EgressKind::metadata));
  BOOST_TEST((parse_egress_entry("link-local").kind == EgressKind::link_local));
  BOOST_TEST((parse_egress_entry("host").kind == EgressKind::host));
}

BOOST_AUTO_TEST_CASE(malformed_entries_say_what_is_wrong) {
  for (const char* bad : {"localhost", "github.com:0", "github.com:65536", "github.com:x", "github.com:443-80",
                          "10.0.0.0/33", "[2001:db8::1", "[2001:db8::1]443", "exa mple.com", "-a.example.com",
                          "github.com:1-2", "github.com/udp", "", "*.", "a..b"})
    BOOST_TEST(failure_of([&] { parse_egress_entry(bad); }) != "<no failure>", bad);
  BOOST_TEST(contains(failure_of([&] { parse_egress_entry("github.com:99999"); }), "is not a port"));
}

BOOST_AUTO_TEST_CASE(the_policy_field_is_named_in_errors) {
  BOOST_TEST(contains(failure_of([] { parse(R"({"allow": ["github.com:x"]})"); }), "network.egress.allow[0]"));
  BOOST_TEST(contains(failure_of([] { parse(R"({"deny": ["evil.example.com"]})"); }), "deny takes addresses"));
  BOOST_TEST(contains(failure_of([] { parse(R"({"default": "maybe"})"); }), "allow or deny"));
  BOOST_TEST(contains(failure_of([] { parse(R"({"log": "some"})"); }), "none, denied or all"));
  BOOST_TEST(contains(failure_of([] { parse(R"({"allowed": []})"); }), "allowed"));
}

BOOST_AUTO_TEST_CASE(policy_json_keeps_egress) {
  const Policy p = parse(R"({"default": "deny", "allow": ["dns", "github.com:443"], "deny": ["metadata"], "log": "all"})");
  const Policy again = parse_policy(policy_json(p), "again");
  BOOST_REQUIRE(again.network.egress);
  BOOST_TEST((again.network.egress->fallback == EgressDefault::deny));
  BOOST_TEST(again.network.egress->allow.size() == 2u);
  BOOST_TEST((again.network.egress->log == EgressLog::all));
  BOOST_TEST(has_rules(p));
}

BOOST_AUTO_TEST_CASE(merging_only_tightens_egress) {
  const Policy floor = parse(R"({"default": "allow", "deny": ["metadata"], "log": "denied"})");
  const Policy chosen = parse(R"({"default": "deny", "allow": ["github.com:443", "dns"], "deny": ["10.0.0.0/8"], "log": "none"})");
  const Egress m = *merge_policies(floor, chosen).network.egress;
  BOOST_TEST((m.fallback == EgressDefault::deny));
  BOOST_TEST(m.allow == chosen.network.egress->allow);
  BOOST_TEST(m.deny.size() == 2u);
  BOOST_TEST((m.log == EgressLog::denied));
  const Policy other = parse(R"({"default": "deny", "allow": ["dns", "example.org:443"]})");
  BOOST_TEST(merge_policies(other, chosen).network.egress->allow == std::vector<std::string>{"dns"});
  BOOST_TEST(merge_policies(floor, parse_policy(R"({"agentrunPolicy": 1, "name": "x"})", "x")).network.egress->deny ==
             floor.network.egress->deny);
}

BOOST_AUTO_TEST_CASE(egress_withholds_the_capabilities_that_would_undo_it) {
  const ProcessPolicy p = process_policy(parse(R"({"default": "allow"})"));
  BOOST_REQUIRE(p.rules.capabilities);
  BOOST_TEST(!has(*p.rules.capabilities, std::string("CAP_NET_ADMIN")));
  BOOST_TEST(!has(*p.rules.capabilities, std::string("CAP_NET_RAW")));
  BOOST_TEST(has(*p.rules.capabilities, std::string("CAP_CHOWN")));
  const Policy none = parse_policy(R"({"agentrunPolicy": 1, "name": "x"})", "x");
  BOOST_TEST(!process_policy(none).rules.capabilities);
}

BOOST_AUTO_TEST_CASE(default_allow_ruleset_denies_first_and_logs_denials) {
  const EgressSetup s = egress_setup(*parse(R"({"deny": ["metadata", "host", "10.0.0.0/8:22"]})").network.egress,
                                     {"192.0.2.7", "2001:db8::7"}, "c1");
  BOOST_TEST(!s.dns_proxy);
  BOOST_TEST(s.log);
  const std::string& r = s.ruleset;
  BOOST_TEST(r.starts_with("table inet agentrun {\n  comment \"agentrun c1 " + s.digest + "\"\n"));
  BOOST_TEST(s.digest.size() == 32u);
  // nft's limit on a comment, with a docker id.
  const EgressSetup docker = egress_setup(Egress{}, {}, std::string(64, 'f'));
  const size_t start = docker.ruleset.find("comment \"") + 9, end = docker.ruleset.find('"', start);
  BOOST_TEST(end - start <= 128u);
  // One rule per network, in the entry's order.
  for (const char* network : {"169.254.169.254", "169.254.170.2", "100.100.100.200", "192.0.0.192"})
    BOOST_TEST(contains(r, std::string("    ip daddr ") + network +
                               " counter log prefix \"agentrun deny 0\" group 1416 reject with icmpx admin-prohibited\n"));
  BOOST_TEST(contains(r, "ip6 daddr fd00:ec2::254 counter log prefix \"agentrun deny 0\" group 1416 reject with icmpx admin-prohibited"));
  BOOST_TEST(contains(r, "ip daddr 192.0.2.7 counter log prefix \"agentrun deny 1\""));
  BOOST_TEST(contains(r, "ip6 daddr 2001:db8::7 counter"));
  BOOST_TEST(contains(r, "ip daddr 10.0.0.0/8 tcp dport 22 counter log prefix \"agentrun deny 2\""));
  BOOST_TEST(contains(r, "    icmpv6 type nd-neighbor-solicit accept\n"));
  // The runtime puts the same rules in itself: the table holds each line of the chain.
  BOOST_REQUIRE(s.table.has_value());
  BOOST_TEST(s.table->comment == "agentrun c1 " + s.digest);
  BOOST_TEST(s.table->rules.size() == 3u + 4u + 5u + 2u + 1u + 1u);
  for (const auto& rule : s.table->rules) BOOST_TEST(contains(r, "    " + agentrun::nft::rule_text(rule) + "\n"));
  BOOST_TEST(contains(r, "    counter accept\n  }"));  // the default, not logged under "denied"
  BOOST_TEST(!contains(r, "redirect"));
  BOOST_TEST(r.find("deny 0") < r.find("counter accept\n  }"));
}

BOOST_AUTO_TEST_CASE(allowlist_ruleset_sends_dns_to_the_guard) {
  const EgressSetup s = egress_setup(
      *parse(R"({"default": "deny", "allow": ["github.com:443", "*.example.com", "192.0.2.0/24:5432", "dns"],
                 "deny": ["link-local"], "log": "all"})").network.egress, {}, "c1");
  BOOST_TEST(s.dns_proxy);
  BOOST_TEST(s.answer_every_name);
  BOOST_REQUIRE(s.names.size() == 2u);
  BOOST_TEST(s.names[0].pattern == "github.com");
  BOOST_TEST(s.names[0].elements == std::vector<std::string>{"tcp . 443"});
  BOOST_TEST(s.names[1].elements.empty());
  const std::string& r = s.ruleset;
  BOOST_TEST(contains(r, "meta mark 1416 accept"));
  BOOST_TEST(contains(r, "ip daddr . meta l4proto . th dport @names4 counter log prefix \"agentrun allow names\""));
  BOOST_TEST(contains(r, "ip6 daddr @names6_any"));
  BOOST_TEST(contains(r, "ip daddr 192.0.2.0/24 tcp dport 5432 counter log prefix \"agentrun allow 2\" group 1416 accept"));
  BOOST_TEST(!s.table.has_value());  // the guard makes the sets and the redirect
  BOOST_TEST(contains(r, "counter log prefix \"agentrun deny default\" group 1416 reject with icmpx admin-prohibited\n  }"));
  BOOST_TEST(contains(r, "meta l4proto { tcp, udp } th dport 53 redirect to :53"));
  BOOST_TEST(r.find("agentrun deny 0") < r.find("@names4"));
}

BOOST_AUTO_TEST_CASE(names_allow_nothing_more_under_default_allow) {
  const EgressSetup s = egress_setup(*parse(R"({"allow": ["github.com:443", "dns"], "log": "none"})").network.egress, {}, "c1");
  BOOST_TEST(!s.dns_proxy);
  BOOST_TEST(s.names.empty());
  BOOST_TEST(!contains(s.ruleset, "log"));
}
