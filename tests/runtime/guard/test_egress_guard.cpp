// agentrun-egress end to end, as root: a "container" network namespace with
// a veth to an "internet" namespace that runs a small DNS server and TCP
// listeners. The guard installs a deny-by-default ruleset there; from inside,
// an allowed name resolves and its port connects, everything else is
// refused, dropped and logged, and SIGKILL of the guard opens nothing.
#include <boost/test/unit_test.hpp>

#include <arpa/inet.h>
#include <fcntl.h>
#include <nftables/libnftables.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <string>

#include "guard/support/dns_wire.hpp"
#include "runtime/guard/support/egress_net.hpp"
#include "support/files.hpp"
#include "support/needs.hpp"
#include "support/wait.hpp"
#include "unit/support/checks.hpp"

using namespace std::chrono_literals;
using test::dns::Bytes;

namespace {

// Whether nf_tables works in a fresh network namespace (module loaded, not
// forbidden), tried in a child.
test::host::Probe nftables() {
  const pid_t child = fork();
  if (child == 0) {
    if (unshare(CLONE_NEWNET) != 0) _exit(2);
    nft_ctx* ctx = nft_ctx_new(NFT_CTX_DEFAULT);
    nft_ctx_buffer_error(ctx);
    _exit(nft_run_cmd_from_buffer(ctx, "add table inet probe") == 0 ? 0 : 1);
  }
  int status = 0;
  waitpid(child, &status, 0);
  if (WIFEXITED(status) && WEXITSTATUS(status) == 0) return {true, "nf_tables"};
  return {false, "nf_tables does not work in a new network namespace"};
}

test::host::Probe egress_host() {
  if (auto p = test::host::root(); !p.available) return p;
  if (auto p = test::host::tool("ip"); !p.available) return p;
  return nftables();
}

// The filter chain sees the output device chosen before the nat chain
// redirected DNS to the guard: the redirected queries are let through by
// their new destination, not by oif "lo".
std::string ruleset() {
  return R"(table inet agentrun {
  set names4 { type ipv4_addr . inet_proto . inet_service; flags timeout; }
  set names6 { type ipv6_addr . inet_proto . inet_service; flags timeout; }
  set names4_any { type ipv4_addr; flags timeout; }
  set names6_any { type ipv6_addr; flags timeout; }
  chain dns {
    type nat hook output priority -100; policy accept;
    meta mark 1416 return
    udp dport 53 redirect to :53
    tcp dport 53 redirect to :53
  }
  chain output {
    type filter hook output priority 0; policy drop;
    oif "lo" accept
    ip daddr 127.0.0.1 accept
    ip6 daddr ::1 accept
    meta mark 1416 accept
    ip daddr . meta l4proto . th dport @names4 accept
    ip6 daddr . meta l4proto . th dport @names6 accept
    ip daddr @names4_any accept
    ip6 daddr @names6_any accept
    counter log group 1416 prefix "agentrun deny 0" drop
  }
}
)";
}

std::string config(const egress_test::Net& net, const std::string& log, const std::string& rules = ruleset()) {
  std::string escaped;
  for (char c : rules) escaped += c == '\n' ? std::string("\\n") : c == '"' ? std::string("\\\"") : std::string(1, c);
  return R"({"id":"egress-test","netns":")" + net.container_path() + R"(","ruleset":")" + escaped +
         R"(","table":"agentrun",
  "dns":{"port":53,"upstream":[")" + egress_test::kResolver + R"("],"mark":1416,
         "names":[{"pattern":"allowed.test","elements":["tcp . 8443"]},{"pattern":"*.any.test","elements":[]}],
         "minTtl":1,"maxTtl":60},
  "log":{"group":1416,"file":")" + log + R"(","maxBytes":1048576}})";
}

}  // namespace

BOOST_AUTO_TEST_SUITE(egress_guard, *test::needs(egress_host))

BOOST_AUTO_TEST_CASE(an_allowlist_is_enforced_logged_and_stays_closed_without_the_guard) {
  TempDir dir("egress");
  egress_test::Net net;
  net.start_internet();
  test::put_file(dir.path + "/config.json", config(net, dir.path + "/egress.log"));
  egress_test::Guard guard(dir.path + "/config.json");
  BOOST_TEST_REQUIRE(guard.status(10s) == "ok\n");

  net.in_container([&] {
    // Allowed: the answer's address is in the set before the client has it.
    const auto allowed = egress_test::resolve("allowed.test", false);
    BOOST_TEST(allowed.rcode == 0);
    BOOST_TEST(allowed.addresses == std::vector<std::string>{egress_test::kAllowedAddress});
    BOOST_TEST(egress_test::connects(egress_test::kAllowedAddress, egress_test::kOpenPort));
    BOOST_TEST(!egress_test::connects(egress_test::kAllowedAddress, egress_test::kOtherPort));
    // The same over TCP, and a wildcard name whose addresses go to the any-port set.
    BOOST_TEST(egress_test::resolve("allowed.test", true).addresses.size() == 1u);
    const auto wild = egress_test::resolve("x.any.test", false);
    BOOST_TEST(wild.addresses == std::vector<std::string>{egress_test::kAnyAddress});
    BOOST_TEST(egress_test::connects(egress_test::kAnyAddress, egress_test::kOtherPort));
    // Refused: another name, and a raw address the policy never named.
    BOOST_TEST(egress_test::resolve("other.test", false).rcode == 5);
    BOOST_TEST(egress_test::resolve("any.test", false).rcode == 5);
    BOOST_TEST(!egress_test::connects(egress_test::kOtherAddress, egress_test::kOpenPort));
  });

  const std::string log = dir.path + "/egress.log";
  test::wait_for([&] { return test::read_file(log).find(R"("destination":")" + std::string(egress_test::kOtherAddress) +
                                                         R"(","port":)" + std::to_string(egress_test::kOpenPort)) !=
                              std::string::npos; },
                 5s, "the denied connection in the log");
  const std::string text = test::read_file(log);
  BOOST_TEST(text.find(R"("action":"deny","rule":"0","protocol":"tcp")") != std::string::npos, text);
  BOOST_TEST(text.find(R"("rule":"dns","protocol":"dns","name":"other.test")") != std::string::npos, text);
  BOOST_TEST(text.find(R"("action":"resolve","name":"allowed.test")") != std::string::npos, text);

  guard.kill();
  net.in_container([&] {
    BOOST_TEST(egress_test::resolve("allowed.test", false).rcode == -1);  // no answer at all
    BOOST_TEST(!egress_test::connects(egress_test::kOtherAddress, egress_test::kOpenPort));
    BOOST_TEST(!egress_test::connects(egress_test::kAllowedAddress, egress_test::kOtherPort));
    // What the guard added before it died stays until it times out.
    BOOST_TEST(egress_test::connects(egress_test::kAllowedAddress, egress_test::kOpenPort));
  });
}

BOOST_AUTO_TEST_CASE(the_guard_ends_with_the_init) {
  TempDir dir("egress");
  egress_test::Net net;
  const pid_t init = fork();
  BOOST_TEST_REQUIRE(init >= 0);
  if (init == 0) {
    pause();
    _exit(0);
  }
  std::string c = config(net, dir.path + "/egress.log");
  c.replace(c.find(R"("table":)"), 0, R"("initPid":)" + std::to_string(init) + ",");
  test::put_file(dir.path + "/config.json", c);
  egress_test::Guard guard(dir.path + "/config.json");
  BOOST_TEST_REQUIRE(guard.status(10s) == "ok\n");
  BOOST_TEST(guard.wait_exit(300ms) == -1);  // still serving
  kill(init, SIGKILL);
  waitpid(init, nullptr, 0);
  BOOST_TEST(guard.wait_exit(5s) == 0);
}

BOOST_AUTO_TEST_CASE(a_ruleset_nft_rejects_is_reported_on_fd_3) {
  TempDir dir("egress");
  egress_test::Net net;
  test::put_file(dir.path + "/config.json", config(net, dir.path + "/egress.log", "table inet agentrun { bogus }\n"));
  egress_test::Guard guard(dir.path + "/config.json");
  const std::string status = guard.status(10s);
  BOOST_TEST(status.starts_with("error: ruleset: "), status);
  BOOST_TEST(status.find("bogus") != std::string::npos, status);
  BOOST_TEST(guard.wait_exit(5s) == 1);
}

// The runtime's rulesets name their owner: the table is created first, in
// the same transaction, so that a namespace holding one already is noticed.
BOOST_AUTO_TEST_CASE(an_owned_ruleset_nft_rejects_is_reported_and_an_owned_table_is_shared) {
  TempDir dir("egress");
  egress_test::Net net;
  const std::string owned = "table inet agentrun {\n  comment \"agentrun first d1\"\n";
  test::put_file(dir.path + "/bad.json",
                 config(net, dir.path + "/egress.log", owned + "  chain output { bogus }\n}\n"));
  egress_test::Guard bad(dir.path + "/bad.json");
  const std::string status = bad.status(10s);
  BOOST_TEST(status.starts_with("error: ruleset: Error: syntax error"), status);
  BOOST_TEST(bad.wait_exit(5s) == 1);

  const std::string rules = owned + "  chain output {\n    type filter hook output priority 0; policy accept;\n  }\n}\n";
  test::put_file(dir.path + "/first.json", config(net, dir.path + "/egress.log", rules));
  egress_test::Guard first(dir.path + "/first.json");
  BOOST_TEST_REQUIRE(first.status(10s) == "ok\n");
  // Another container's guard with the same rules (the digest) finds them
  // there: its ruleset names it as the owner, as the runtime writes it.
  std::string second_rules = rules;
  second_rules.replace(second_rules.find("agentrun first"), 14, "agentrun second-one!");
  std::string second_config = config(net, dir.path + "/egress2.log", second_rules);
  second_config.replace(second_config.find("egress-test"), 11, "second-one!");
  test::put_file(dir.path + "/second.json", second_config);
  egress_test::Guard second(dir.path + "/second.json");
  BOOST_TEST(second.status(10s) == "shared first\n");
  BOOST_TEST(second.wait_exit(5s) == 0);
}

// A create that fails before its init exists closes fd 0 without "go".
BOOST_AUTO_TEST_CASE(without_go_the_guard_leaves_the_namespace_alone) {
  TempDir dir("egress");
  egress_test::Net net;
  test::put_file(dir.path + "/config.json", config(net, dir.path + "/egress.log"));
  egress_test::Guard guard(dir.path + "/config.json", "");
  BOOST_TEST(guard.status(10s) == "error: start: the runtime went away before the container's init existed\n");
  BOOST_TEST(guard.wait_exit(5s) == 1);
  net.in_container([] {
    nft_ctx* ctx = nft_ctx_new(NFT_CTX_DEFAULT);
    nft_ctx_buffer_output(ctx);
    nft_ctx_buffer_error(ctx);
    BOOST_TEST(nft_run_cmd_from_buffer(ctx, "list table inet agentrun") != 0);
    nft_ctx_free(ctx);
  });
}

BOOST_AUTO_TEST_CASE(a_namespace_that_is_not_there_is_reported_on_fd_3) {
  TempDir dir("egress");
  test::put_file(dir.path + "/config.json",
                 R"({"id":"x","netns":"/run/netns/agentrun-no-such-netns","ruleset":"x","table":"agentrun"})");
  egress_test::Guard guard(dir.path + "/config.json");
  BOOST_TEST(guard.status(10s) ==
             "error: netns: open /run/netns/agentrun-no-such-netns: No such file or directory (errno 2)\n");
  BOOST_TEST(guard.wait_exit(5s) == 1);
}

// The host's namespace (the guard's own at start): never given rules.
BOOST_AUTO_TEST_CASE(the_guards_own_namespace_is_refused) {
  TempDir dir("egress");
  test::put_file(dir.path + "/config.json",
                 R"({"id":"x","netns":"/proc/self/ns/net","ruleset":"table inet agentrun {}","table":"agentrun"})");
  egress_test::Guard guard(dir.path + "/config.json");
  BOOST_TEST(guard.status(10s) == "error: netns: /proc/self/ns/net is the runtime's own network namespace (the "
                                  "host's): egress rules there would confine the host\n");
  BOOST_TEST(guard.wait_exit(5s) == 1);
}

BOOST_AUTO_TEST_CASE(an_unknown_key_in_the_config_is_reported_on_fd_3) {
  TempDir dir("egress");
  test::put_file(dir.path + "/config.json", R"({"id":"x","netns":"/n","ruleset":"x","table":"t","mode":"open"})");
  egress_test::Guard guard(dir.path + "/config.json");
  BOOST_TEST(guard.status(10s) == "error: config: \"mode\" is not a known key\n");
  BOOST_TEST(guard.wait_exit(5s) == 1);
}

BOOST_AUTO_TEST_SUITE_END()
