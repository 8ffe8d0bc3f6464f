// The guard's configuration: the runtime's contract, and what it refuses.
#include <boost/test/unit_test.hpp>

#include <netinet/in.h>

#include "egress-guard/config.hpp"
#include "egress-guard/failure.hpp"

using namespace agentrun::egress;

namespace {

const std::string kFull = R"({
  "id": "c1", "netns": "/proc/1234/ns/net", "ruleset": "table inet agentrun {}\n", "table": "agentrun",
  "initPid": 1234,
  "dns": {"port": 53, "upstream": ["10.99.0.1", "2001:db8::1"], "mark": 1416, "allowAll": false,
          "names": [{"pattern": "GitHub.com", "elements": ["tcp . 443", "udp . 443"]},
                    {"pattern": "*.pkg.example.com", "elements": []}],
          "minTtl": 5, "maxTtl": 3600},
  "log": {"group": 1416, "file": "/run/agentrun/c1/egress.log", "maxBytes": 1048576}
})";

std::string error_of(const std::string& json) {
  try {
    parse_config(json);
  } catch (const GuardError& e) {
    return e.what();
  }
  return "";
}

std::string with(const std::string& from, const std::string& to) {
  std::string s = kFull;
  const auto at = s.find(from);
  BOOST_TEST_REQUIRE(at != std::string::npos);
  return s.replace(at, from.size(), to);
}

}  // namespace

BOOST_AUTO_TEST_CASE(the_contract_parses) {
  const Config c = parse_config(kFull);
  BOOST_TEST(c.id == "c1");
  BOOST_TEST(c.netns == "/proc/1234/ns/net");
  BOOST_TEST(c.table == "agentrun");
  BOOST_TEST(*c.init_pid == 1234);
  BOOST_TEST_REQUIRE(c.dns.has_value());
  BOOST_TEST(c.dns->port == 53);
  BOOST_TEST_REQUIRE(c.dns->upstream.size() == 2u);
  BOOST_TEST(c.dns->upstream[0].addr.ss_family == AF_INET);
  BOOST_TEST(c.dns->upstream[1].addr.ss_family == AF_INET6);
  BOOST_TEST(c.dns->mark == 1416u);
  BOOST_TEST(c.dns->names[0].pattern == "github.com");
  BOOST_TEST(c.dns->names[0].elements.size() == 2u);
  BOOST_TEST(c.dns->names[1].elements.empty());
  BOOST_TEST(c.log->group == 1416);
  BOOST_TEST(c.log->max_bytes == 1048576u);
}

BOOST_AUTO_TEST_CASE(dns_log_and_the_ruleset_are_optional) {
  const Config c = parse_config(R"({"id":"c","netns":"/n","ruleset":"x","table":"t"})");
  BOOST_TEST(!c.dns.has_value());
  BOOST_TEST(!c.log.has_value());
  BOOST_TEST(!c.init_pid.has_value());
  BOOST_TEST(parse_config(R"({"id":"c","netns":"/n","table":"t"})").ruleset.empty());
}

BOOST_AUTO_TEST_CASE(unknown_keys_are_errors_at_every_level) {
  BOOST_TEST(error_of(with("\"id\"", "\"extra\": 1, \"id\"")) == "config: \"extra\" is not a known key");
  BOOST_TEST(error_of(with("\"port\"", "\"ports\": 1, \"port\"")) == "config: \"dns.ports\" is not a known key");
  BOOST_TEST(error_of(with("\"group\"", "\"level\": 1, \"group\"")) == "config: \"log.level\" is not a known key");
  BOOST_TEST(error_of(with("\"elements\": []", "\"elements\": [], \"x\": 1")) ==
             "config: \"dns.names[].x\" is not a known key");
}

BOOST_AUTO_TEST_CASE(values_that_would_reach_nft_text_are_checked) {
  BOOST_TEST(error_of(with("\"table\": \"agentrun\"", "\"table\": \"a; flush ruleset\"")) ==
             "config: \"table\" is not a plain nftables table name");
  BOOST_TEST(error_of(with("\"udp . 443\"", "\"udp . 443 } ; flush ruleset ; add element inet t s {\"")).find(
                 "dns.names[].elements") != std::string::npos);
  BOOST_TEST(error_of(with("*.pkg.example.com", "a.*.example.com")) ==
             "config: \"dns.names[].pattern\" is not a name or *.name");
}

BOOST_AUTO_TEST_CASE(bad_values_name_their_key) {
  BOOST_TEST(error_of("[]") == "config: not a JSON object");
  BOOST_TEST(error_of("{").starts_with("config: not JSON: "));
  BOOST_TEST(error_of(with("\"10.99.0.1\"", "\"resolver.example\"")) ==
             "config: \"dns.upstream\" is not an IPv4 or IPv6 address");
  BOOST_TEST(error_of(with("\"port\": 53", "\"port\": 0")) ==
             "config: \"dns.port\" must be a whole number from 1 to 65535");
  BOOST_TEST(error_of(with("\"minTtl\": 5", "\"minTtl\": 4000")) == "config: \"dns.minTtl\" is above dns.maxTtl");
  BOOST_TEST(error_of(with("\"netns\": \"/proc/1234/ns/net\"", "\"netns\": \"net\"")) ==
             "config: \"netns\" must be an absolute path");
  BOOST_TEST(error_of(with("\"upstream\": [\"10.99.0.1\", \"2001:db8::1\"]", "\"upstream\": []")) ==
             "config: \"dns.upstream\" must be a non-empty array of addresses");
  // Without a ruleset the runtime has put the rules in; the guard then only logs.
  BOOST_TEST(error_of(with("\"ruleset\": \"table inet agentrun {}\\n\", ", "")) == "config: \"dns\" needs the ruleset");
  BOOST_TEST(error_of(with("\"ruleset\": \"table inet agentrun {}\\n\"", "\"ruleset\": \"\"")) ==
             "config: \"ruleset\" is empty");
}
