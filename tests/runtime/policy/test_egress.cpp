// network.egress, as the contained process sees it: a container joins a
// network namespace by path (as under docker or a CNI plugin) that a veth
// pair links to a local "internet" (support/egress_network.hpp), and the
// probe tries to reach it. The guard's log is read from the state directory.
#include <boost/test/unit_test.hpp>

#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <map>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "runtime/util/proc_stat.hpp"
#include "support/egress_network.hpp"
#include "support/files.hpp"
#include "support/harness.hpp"
#include "support/needs.hpp"

using test::Sandbox;

namespace {

const std::string kGuard = std::string(AGENTRUN_BINARY).substr(0, std::string(AGENTRUN_BINARY).rfind('/')) + "/agentrun-egress";

// nftables, the guard, and the tools the network is built with.
test::host::Probe nftables() {
  if (auto p = test::host::nftables(); !p.available) return p;
  if (!test::file_exists("/sbin/ip")) return {false, "needs /sbin/ip (iproute2)"};
  if (!test::file_exists(kGuard)) return {false, "needs the egress guard " + kGuard + " (not built)"};
  return {true, "nftables works"};
}


struct Egress {
  Sandbox s;
  test::EgressNetwork net{s.dir};

  // A container that sleeps in the test network under a policy with
  // `egress`, or under `policy` (a name or a path) when egress is "".
  explicit Egress(const std::string& egress, const std::string& policy = "",
                  const std::vector<std::string>& args = {"sleep", "120"}) {
    if (egress.empty()) {
      s.policy = policy;
    } else {
      test::put_file(s.dir + "/policy.json",
                     R"({"agentrunPolicy": 1, "name": "egress-test", "network": {"egress": )" + egress + "}}");
      s.policy = s.dir + "/policy.json";
    }
    ::mkdir((s.rootfs + "/usr").c_str(), 0755);
    ::mkdir((s.rootfs + "/usr/bin").c_str(), 0755);
    test::run_process({"/bin/cp", AGENT_PROBE_BINARY, s.rootfs + "/usr/bin/agent-probe"});
    test::put_file(s.rootfs + "/etc/resolv.conf", "nameserver 10.203.0.1\n");
    auto cfg = test::base_config(args);
    test::set_json(cfg, "/linux/namespaces/1", R"({"type": "network", "path": ")" + net.netns_path() + R"("})");
    test::set_json(cfg, "/linux/sysctl", R"({"net.ipv4.ping_group_range": "0 2147483647"})");
    // What egress takes away, asked for (agent-default refuses CAP_NET_ADMIN outright).
    if (!egress.empty())
      for (const char* set : {"bounding", "effective", "permitted"})
        test::set_json(cfg, (std::string("/process/capabilities/") + set).c_str(),
                       R"(["CAP_NET_RAW", "CAP_NET_ADMIN", "CAP_NET_BIND_SERVICE"])");
    s.write_config(cfg);
  }

  test::Output start() { return s.agentrun({"run", "-d", "--bundle", s.bundle, "e"}); }

  std::map<std::string, std::string> attempt(const std::vector<std::string>& attempts) {
    std::vector<std::string> args = {"exec", "e", "/usr/bin/agent-probe"};
    args.insert(args.end(), attempts.begin(), attempts.end());
    const test::Output o = s.agentrun(args, 120);
    BOOST_TEST(o.code == 0, o.err);
    return test::probe_results(o.out);
  }

  // agentrun `command` --bundle ... e, with `helper` for the guard.
  test::Output with_guard(const std::string& helper, const std::vector<std::string>& command) {
    std::vector<std::string> args = {"/usr/bin/env", "AGENTRUN_EGRESS_HELPER=" + helper, AGENTRUN_BINARY, "--root",
                                     s.root,         "--policy",                          s.policy};
    args.insert(args.end(), command.begin(), command.end());
    args.insert(args.end(), {"--bundle", s.bundle, "e"});
    return s.command(args);
  }

  std::string log() const { return test::read_file(s.root + "/e/egress.log"); }
  // The pid guard.json records for container `id`.
  int guard_pid(const std::string& id = "e") const {
    const std::string record = test::read_file(s.root + "/" + id + "/guard.json");
    return std::stoi(record.substr(record.find(':') + 1));
  }
  // Whether the guard has libnftables mapped.
  bool guard_maps_nftables() const {
    return test::read_file("/proc/" + std::to_string(guard_pid()) + "/maps").find("libnftables") != std::string::npos;
  }
};

// A refusal is an ICMP "administratively prohibited", which the kernel
// reports at once to a TCP connect: EHOSTUNREACH for IPv4, EACCES for IPv6.
// A datagram's send fails with EPERM, the verdict of the output hook.
const std::string kRefused4 = "EHOSTUNREACH", kRefused6 = "EACCES", kSendRefused = "EPERM";

bool has(const std::string& text, const std::string& part) { return text.find(part) != std::string::npos; }

// A second container of e's network namespace, e2, runs under e's rules
// (`allowed` gets through, `refused` is refused); a third whose policy
// differs is refused and leaves nothing.
void share_then_refuse(Egress& e, const std::string& allowed, const std::string& refused) {
  const test::Output second = e.s.agentrun({"run", "-d", "--bundle", e.s.bundle, "e2"});
  BOOST_TEST_REQUIRE(second.code == 0, second.err);
  BOOST_TEST(has(e.s.agentrun({"inspect", "e2"}).out, "shared with container e,"));
  auto r = test::probe_results(e.s.agentrun({"exec", "e2", "/usr/bin/agent-probe", allowed, refused}).out);
  BOOST_TEST(r[allowed] == "ok");
  BOOST_TEST(r[refused] == kRefused4);
  test::put_file(e.s.dir + "/other.json",
                 R"({"agentrunPolicy": 1, "name": "other", "network": {"egress": {"default": "allow"}}})");
  e.s.policy = e.s.dir + "/other.json";
  const test::Output third = e.s.agentrun({"run", "-d", "--bundle", e.s.bundle, "e3"});
  BOOST_TEST(third.code != 0);
  BOOST_TEST(has(third.err, "the network namespace already holds other egress rules (agentrun e "), third.err);
  BOOST_TEST(!test::file_exists(e.s.root + "/e3"));
}

}  // namespace

BOOST_AUTO_TEST_SUITE(egress, *test::needs(nftables))

BOOST_AUTO_TEST_CASE(metadata_is_denied_and_logged_while_the_rest_is_open) {
  Egress e(R"({"default": "allow", "deny": ["metadata", "link-local"], "log": "denied"})");
  e.net.set_name("metadata.google.internal", "169.254.169.254", 60);
  const test::Output o = e.start();
  BOOST_TEST_REQUIRE(o.code == 0, o.err);
  auto r = e.attempt({"tcp:169.254.169.254:80", "tcp:[fd00:ec2::254]:80", "name:metadata.google.internal:80",
                      "tcp:10.203.1.1:80", "udp:10.203.1.1:9999", "tcp:[fd77::1]:443"});
  BOOST_TEST(r["tcp:169.254.169.254:80"] == kRefused4);
  BOOST_TEST(r["tcp:[fd00:ec2::254]:80"] == kRefused6);
  BOOST_TEST(r["name:metadata.google.internal:80"] == kRefused4);
  BOOST_TEST(r["tcp:10.203.1.1:80"] == "ok");
  BOOST_TEST(r["udp:10.203.1.1:9999"] == "ok");
  BOOST_TEST(r["tcp:[fd77::1]:443"] == "ok");
  // The guard writes what the kernel reported; give it a moment.
  for (int i = 0; i < 100 && !has(e.log(), "fd00:ec2::254"); ++i) ::usleep(50000);
  const std::string log = e.log();
  BOOST_TEST(has(log, R"("destination":"169.254.169.254")"), log);
  BOOST_TEST(has(log, R"("destination":"fd00:ec2::254")"), log);
  BOOST_TEST(has(log, R"("action":"deny")"), log);
  BOOST_TEST(!has(log, "10.203.1.1"), log);
}

BOOST_AUTO_TEST_CASE(an_allowlist_lets_through_only_what_it_names) {
  Egress e(R"({"default": "deny", "allow": ["allowed.example.com:443", "moving.example.com:443", "10.203.1.2:8080"],
               "log": "denied"})");
  e.net.set_name("allowed.example.com", "10.203.1.1", 60);
  e.net.set_name("other.example.com", "10.203.1.1", 60);
  e.net.set_name("moving.example.com", "10.203.1.1", 1);
  BOOST_TEST_REQUIRE(e.start().code == 0);
  auto r = e.attempt({"name:allowed.example.com:443", "tcp:10.203.1.1:443", "tcp:10.203.1.1:80",
                      "name:other.example.com:443", "tcp:10.203.1.2:8080", "tcp:10.203.1.2:443",
                      "udp:10.203.1.1:9999", "icmp:10.203.1.1", "tcp:[fd77::1]:443",
                      "dns:10.203.1.1:allowed.example.com", "dns:10.203.1.1:other.example.com",
                      "name:moving.example.com:443"});
  BOOST_TEST(e.guard_maps_nftables());  // it makes the rules and fills the sets
  BOOST_TEST(r["name:allowed.example.com:443"] == "ok");
  BOOST_TEST(r["tcp:10.203.1.1:443"] == "ok");  // its address, now resolved
  BOOST_TEST(r["tcp:10.203.1.1:80"] == kRefused4);  // another port
  BOOST_TEST(r["name:other.example.com:443"] == "dns-rcode5");  // refused
  BOOST_TEST(r["tcp:10.203.1.2:8080"] == "ok");
  BOOST_TEST(r["tcp:10.203.1.2:443"] == kRefused4);
  BOOST_TEST(r["udp:10.203.1.1:9999"] == kSendRefused);
  BOOST_TEST(r["icmp:10.203.1.1"] == kSendRefused);
  BOOST_TEST(r["tcp:[fd77::1]:443"] == kRefused6);
  // DNS to another server is answered by the guard, never by that server.
  BOOST_TEST(r["dns:10.203.1.1:allowed.example.com"] == "ok 10.203.1.1");
  BOOST_TEST(r["dns:10.203.1.1:other.example.com"] == "rcode5");
  BOOST_TEST(e.net.queries("10.203.1.1").empty());
  BOOST_TEST(r["name:moving.example.com:443"] == "ok");
  // A name whose address changes keeps working once its TTL has passed.
  e.net.set_name("moving.example.com", "10.203.1.2", 1);
  ::sleep(2);
  r = e.attempt({"name:moving.example.com:443"});
  BOOST_TEST(r["name:moving.example.com:443"] == "ok");
  for (int i = 0; i < 100 && !has(e.log(), "other.example.com"); ++i) ::usleep(50000);
  const std::string log = e.log();
  BOOST_TEST(has(log, R"("destination":"10.203.1.2","port":443)"), log);
  BOOST_TEST(has(log, "other.example.com"), log);
}

BOOST_AUTO_TEST_CASE(a_killed_guard_leaves_egress_closed) {
  Egress e(R"({"default": "deny", "allow": ["allowed.example.com:443"]})");
  e.net.set_name("allowed.example.com", "10.203.1.1", 60);
  BOOST_TEST_REQUIRE(e.start().code == 0);
  const int pid = e.guard_pid();
  BOOST_TEST_REQUIRE(::kill(pid, SIGKILL) == 0);
  for (int i = 0; i < 100 && ::kill(pid, 0) == 0; ++i) ::usleep(20000);
  auto r = e.attempt({"name:allowed.example.com:443", "tcp:10.203.1.1:443", "tcp:10.203.1.1:80"});
  BOOST_TEST(r["name:allowed.example.com:443"] != "ok");
  BOOST_TEST(r["tcp:10.203.1.1:443"] == kRefused4);
  BOOST_TEST(r["tcp:10.203.1.1:80"] == kRefused4);
}

// delete frees the cgroups while the killed guard dies, and returns only
// once it has: the state directory it logs to goes after it. A stand-in
// guard holding 256 MiB takes milliseconds to die, which a delete
// that did not wait would not outlast.
BOOST_AUTO_TEST_CASE(delete_returns_once_the_guard_has_ended, *test::needs_tool("python3")) {
  Egress e(R"({"default": "deny"})");
  const std::string helper = e.s.dir + "/slow-dying-guard";
  // Rules of addresses alone: the guard only logs, and is not awaited.
  test::put_file(helper, "#!/bin/sh\n[ \"$1\" = --nflog-fd ] || exit 1\nexec " + test::host::tool("python3").reason +
                             " -c 'import time; b = b\"x\" * (1 << 28); time.sleep(120)'\n");
  BOOST_TEST_REQUIRE(::chmod(helper.c_str(), 0755) == 0);
  const test::Output o = e.s.command({"/usr/bin/env", "AGENTRUN_EGRESS_HELPER=" + helper, AGENTRUN_BINARY, "--root",
                                      e.s.root, "--policy", e.s.policy, "run", "-d", "--bundle", e.s.bundle, "e"});
  BOOST_TEST_REQUIRE(o.code == 0, o.err);
  const int pid = e.guard_pid();
  const auto resident = [pid] {
    std::istringstream status(test::read_file("/proc/" + std::to_string(pid) + "/status"));
    for (std::string line; std::getline(status, line);)
      if (line.starts_with("VmRSS:")) return std::stol(line.substr(6));
    return 0L;
  };
  for (int i = 0; i < 300 && resident() < (1L << 18); ++i) ::usleep(100000);
  const auto before = agentrun::read_proc_stat(pid);
  BOOST_TEST_REQUIRE((before && resident() >= (1L << 18)), "the stand-in guard holds 256 MiB");
  BOOST_TEST_REQUIRE(e.s.agentrun({"delete", "--force", "e"}).code == 0);
  // Gone, or a zombie that its new parent has not reaped yet.
  const auto after = agentrun::read_proc_stat(pid);
  BOOST_TEST((!after || after->start_time != before->start_time || after->state == 'Z'),
             "the guard (pid " << pid << ") was still ending after delete returned");
  BOOST_TEST(!test::file_exists(e.s.root + "/e"));
}

// A guard that answers DNS is started before the init and told to go once
// the init exists: one that fails, or ends without a word, refuses the
// container, which leaves nothing behind (the sandbox checks).
BOOST_AUTO_TEST_CASE(a_guard_that_fails_refuses_the_container) {
  Egress e(R"({"default": "deny", "allow": ["allowed.example.com:443"]})");
  const std::vector<std::pair<std::string, std::string>> helpers = {
      {"#!/bin/sh\nread go\n[ \"$go\" = go ] && echo 'error: ruleset: refused by the test' >&3\nexit 1\n",
       "network.egress: the egress guard: ruleset: refused by the test"},
      {"#!/bin/sh\nexit 3\n", "network.egress: the egress guard: it ended with exit status 3 before its rules were in place"}};
  for (const auto& [script, said] : helpers) {
    const std::string helper = e.s.dir + "/failing-guard";
    test::put_file(helper, script);
    BOOST_TEST_REQUIRE(::chmod(helper.c_str(), 0755) == 0);
    const test::Output o = e.s.command({"/usr/bin/env", "AGENTRUN_EGRESS_HELPER=" + helper, AGENTRUN_BINARY, "--root",
                                        e.s.root, "--policy", e.s.policy, "run", "-d", "--bundle", e.s.bundle, "e"});
    BOOST_TEST(o.code != 0);
    BOOST_TEST(has(o.err, said), o.err);
    BOOST_TEST(!test::file_exists(e.s.root + "/e"));
  }
}

BOOST_AUTO_TEST_CASE(egress_takes_the_capabilities_that_would_undo_it) {
  Egress e(R"({"default": "allow"})");
  BOOST_TEST_REQUIRE(e.start().code == 0);
  const test::Output o = e.s.agentrun({"exec", "e", "/bin/grep", "^Cap", "/proc/self/status"});
  BOOST_TEST_REQUIRE(o.code == 0, o.err);
  // CAP_NET_BIND_SERVICE (10) stays; CAP_NET_ADMIN (12) and CAP_NET_RAW (13) go.
  BOOST_TEST(has(o.out, "CapBnd:\t0000000000000400"), o.out);
}

// agent-default itself, as a coding agent gets it.
BOOST_AUTO_TEST_CASE(agent_default_refuses_the_metadata_service, *test::needs_agent_default()) {
  Egress e("", "agent-default");
  e.net.set_name("metadata.google.internal", "169.254.169.254", 60);
  BOOST_TEST_REQUIRE(e.start().code == 0);
  auto r = e.attempt({"tcp:169.254.169.254:80", "tcp:[fd00:ec2::254]:80", "name:metadata.google.internal:80",
                      "tcp:10.203.1.1:443"});
  BOOST_TEST(r["tcp:169.254.169.254:80"] == kRefused4);
  BOOST_TEST(r["tcp:[fd00:ec2::254]:80"] == kRefused6);
  BOOST_TEST(r["name:metadata.google.internal:80"] == kRefused4);
  BOOST_TEST(r["tcp:10.203.1.1:443"] == "ok");
  for (int i = 0; i < 100 && !has(e.log(), "fd00:ec2::254"); ++i) ::usleep(50000);
  BOOST_TEST(has(e.log(), R"("destination":"169.254.169.254")"), e.log());
  // The runtime put the rules in: the guard only logs, without libnftables.
  BOOST_TEST(!e.guard_maps_nftables());
  const test::Output inspect = e.s.agentrun({"inspect", "e"});
  BOOST_TEST(has(inspect.out, "\"egressLog\""), inspect.out);
  BOOST_TEST(has(inspect.out, "169.254.169.254"), inspect.out);
  // events streams the log's records, from its start (it runs until the
  // container stops: the time limit ends it).
  const test::Output events = e.s.agentrun({"events", "--interval", "1s", "e"}, 3);
  BOOST_TEST(has(events.out, R"({"type":"egress","id":"e","data":{)"), events.out);
  BOOST_TEST(has(events.out, R"("destination":"169.254.169.254")"), events.out);
}

// The example of contrib/policies: registries and a git host by name, nothing else.
const std::string kExample = std::string(AGENTRUN_SOURCE_DIR) + "/contrib/policies/agent-egress.json";

BOOST_AUTO_TEST_CASE(the_egress_example_policy_lets_through_what_it_names, *test::needs([] {
  return test::file_exists(kExample) ? test::host::Probe{true, kExample}
                                     : test::host::Probe{false, "the source tree is not here (" + kExample + ")"};
})) {
  Egress e("", kExample);
  e.net.set_name("registry.npmjs.org", "10.203.1.1", 30);
  e.net.set_name("github.com", "10.203.1.2", 30);
  e.net.set_name("example.com", "10.203.1.1", 30);
  BOOST_TEST_REQUIRE(e.start().code == 0);
  auto r = e.attempt({"name:registry.npmjs.org:443", "name:github.com:443", "name:github.com:80", "name:example.com:443",
                      "tcp:169.254.169.254:80"});
  BOOST_TEST(r["name:registry.npmjs.org:443"] == "ok");
  BOOST_TEST(r["name:github.com:443"] == "ok");
  BOOST_TEST(r["name:github.com:80"] == kRefused4);
  BOOST_TEST(r["name:example.com:443"] == "dns-rcode5");
  BOOST_TEST(r["tcp:169.254.169.254:80"] == kRefused4);
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_CASE(egress_in_the_host_network_namespace_is_refused) {
  Sandbox s;
  test::put_file(s.dir + "/policy.json",
                 R"({"agentrunPolicy": 1, "name": "egress-test", "network": {"egress": {"default": "deny"}}})");
  s.policy = s.dir + "/policy.json";
  auto cfg = test::base_config({"true"});
  test::set_json(cfg, "/linux/namespaces", R"([{"type": "pid"}, {"type": "mount"}, {"type": "uts"}, {"type": "ipc"}])");
  const test::Output o = s.run(cfg);
  BOOST_TEST(o.code != 0);
  BOOST_TEST(has(o.err, "network.egress needs a network namespace of the container's own"), o.err);
}

// A pod's containers share its network namespace: the first container's
// rules hold for the others, whose guards find them in place; other rules
// there are refused.
BOOST_AUTO_TEST_CASE(containers_sharing_a_network_namespace_share_its_rules, *test::needs(nftables)) {
  Egress e(R"({"default": "deny", "allow": ["allowed.example.com:443"]})");
  e.net.set_name("allowed.example.com", "10.203.1.1", 60);
  BOOST_TEST_REQUIRE(e.start().code == 0);
  share_then_refuse(e, "name:allowed.example.com:443", "tcp:10.203.1.1:80");
}

// mode none: a network namespace with only loopback, and the rules in it.
BOOST_AUTO_TEST_CASE(egress_in_a_namespace_without_a_network, *test::needs(nftables)) {
  Sandbox s;
  test::put_file(s.dir + "/policy.json", R"({"agentrunPolicy": 1, "name": "none-egress", "network": {"mode": "none",
      "egress": {"default": "deny", "allow": ["10.0.0.0/8:443"]}}})");
  s.policy = s.dir + "/policy.json";
  s.write_config(test::base_config({"sleep", "60"}));
  const test::Output o = s.agentrun({"run", "-d", "--bundle", s.bundle, "n"});
  BOOST_TEST_REQUIRE(o.code == 0, o.err);
  const test::Output inspect = s.agentrun({"inspect", "n"});
  BOOST_TEST(has(inspect.out, "ip daddr 10.0.0.0/8 tcp dport 443"), inspect.out);
  BOOST_TEST(has(inspect.out, "the container's network namespace"), inspect.out);
  const test::Output lo = s.agentrun({"exec", "n", "/bin/cat", "/proc/net/dev"});
  BOOST_TEST(has(lo.out, "lo:"));
  BOOST_TEST(!has(lo.out, "eth0"));
}

// docker's host network joins the host's namespace by path
// (/var/run/docker/netns/default): as refused as sharing it, and the
// host's nftables are left alone.
BOOST_AUTO_TEST_CASE(joining_the_hosts_network_namespace_by_path_is_refused, *test::needs(nftables)) {
  Sandbox s;
  test::put_file(s.dir + "/policy.json",
                 R"({"agentrunPolicy": 1, "name": "egress-test", "network": {"egress": {"default": "allow"}}})");
  s.policy = s.dir + "/policy.json";
  auto cfg = test::base_config({"true"});
  test::set_json(cfg, "/linux/namespaces/1",
                 R"({"type": "network", "path": "/proc/)" + std::to_string(::getpid()) + R"(/ns/net"})");
  const test::Output o = s.run(cfg);
  BOOST_TEST(o.code != 0);
  BOOST_TEST(has(o.err, "network.egress needs a network namespace of the container's own; config.json joins /proc/"),
             o.err);
  BOOST_TEST(has(o.err, "which is the host's (the runtime's own, or its PID 1's)"), o.err);
  const test::Output tables = test::run_process({test::host::tool("nft").reason, "list", "tables"});
  BOOST_TEST(!has(tables.out, "inet agentrun"), tables.out);
}

// The namespace outlives the container (a pod's, docker's restart): the
// same container started again replaces its own rules, and its new guard
// answers.
BOOST_AUTO_TEST_CASE(a_container_started_again_takes_its_rules_back, *test::needs(nftables)) {
  Egress e(R"({"default": "deny", "allow": ["allowed.example.com:443"]})");
  e.net.set_name("allowed.example.com", "10.203.1.1", 60);
  BOOST_TEST_REQUIRE(e.start().code == 0);
  BOOST_TEST_REQUIRE(e.s.agentrun({"delete", "--force", "e"}).code == 0);
  const test::Output again = e.start();
  BOOST_TEST_REQUIRE(again.code == 0, again.err);
  BOOST_TEST(!has(e.s.agentrun({"inspect", "e"}).out, "shared with"));
  auto r = e.attempt({"name:allowed.example.com:443", "tcp:10.203.1.1:80"});
  BOOST_TEST(r["name:allowed.example.com:443"] == "ok");
  BOOST_TEST(r["tcp:10.203.1.1:80"] == kRefused4);
}

// Rules of addresses alone are the runtime's to put in (no guard answers
// DNS). A second container of the namespace with the same rules shares
// them, and its guard, not needed, is gone; other rules are refused.
BOOST_AUTO_TEST_CASE(containers_sharing_a_namespace_share_the_rules_the_runtime_put_in, *test::needs(nftables)) {
  Egress e(R"({"default": "deny", "allow": ["10.203.1.1:443"]})");
  BOOST_TEST_REQUIRE(e.start().code == 0);
  share_then_refuse(e, "tcp:10.203.1.1:443", "tcp:10.203.1.1:80");
  BOOST_TEST(!test::file_exists(e.s.root + "/e2/guard.json"), "e2 started a guard; e's logs for the namespace");
}

// Where the runtime puts the rules in, it binds their log group in the
// container's namespace before the container's process runs, and starts the
// guard that reads it last, without waiting for it: what was refused before
// the guard read is in the log all the same. Here the guard starts only
// once the test has made its attempts. One that cannot start leaves the
// rules as they are.
BOOST_AUTO_TEST_CASE(what_is_refused_before_the_guard_reads_is_logged, *test::needs(nftables)) {
  Egress e(R"({"default": "deny", "allow": ["10.203.1.1:443"], "log": "denied"})");
  const std::string late = e.s.dir + "/late-guard";
  const std::string go = e.s.dir + "/guard-may-start";
  test::put_file(late, "#!/bin/sh\nwhile [ ! -e " + go + " ]; do sleep 0.05; done\nexec " + kGuard + " \"$@\"\n");
  BOOST_TEST_REQUIRE(::chmod(late.c_str(), 0755) == 0);
  // `run -d` starts the guard after the process; `create` at its end (as under docker).
  const test::Output o = e.with_guard(late, {"run", "-d"});
  BOOST_TEST_REQUIRE(o.code == 0, o.err);
  auto r = e.attempt({"tcp:10.203.1.1:80", "tcp:10.203.1.1:443"});
  BOOST_TEST(r["tcp:10.203.1.1:80"] == kRefused4);
  BOOST_TEST(r["tcp:10.203.1.1:443"] == "ok");
  BOOST_TEST_REQUIRE(!test::file_exists(e.s.root + "/e/egress.log"));  // the guard has not begun
  test::put_file(go, "");
  for (int i = 0; i < 200 && !(test::file_exists(e.s.root + "/e/egress.log") && has(e.log(), "10.203.1.1")); ++i)
    ::usleep(50000);
  const std::string log = e.log();
  BOOST_TEST(has(log, R"("destination":"10.203.1.1")"), log);
  BOOST_TEST(has(log, R"("port":80)"), log);
  BOOST_TEST(!has(log, R"("port":443)"), log);
  BOOST_TEST_REQUIRE(e.s.agentrun({"delete", "--force", "e"}).code == 0);

  const std::string broken = e.s.dir + "/broken-guard";
  test::put_file(broken, "#!/bin/sh\nexit 3\n");
  BOOST_TEST_REQUIRE(::chmod(broken.c_str(), 0755) == 0);
  const test::Output again = e.with_guard(broken, {"create"});
  BOOST_TEST_REQUIRE(again.code == 0, again.err);
  BOOST_TEST_REQUIRE(e.s.agentrun({"start", "e"}).code == 0);
  r = e.attempt({"tcp:10.203.1.1:80", "tcp:10.203.1.1:443"});
  BOOST_TEST(r["tcp:10.203.1.1:80"] == kRefused4);
  BOOST_TEST(r["tcp:10.203.1.1:443"] == "ok");
}

// The runtime puts the rules in and binds their log group while the init
// sets up; an init that fails meanwhile (its program is missing) says why
// itself, whatever the runtime was doing in its network namespace.
BOOST_AUTO_TEST_CASE(an_init_that_fails_says_why_while_the_rules_go_in, *test::needs(nftables)) {
  Egress e(R"({"default": "deny", "allow": ["10.203.1.1:443"], "log": "denied"})", "", {"/bin/nosuch"});
  for (int i = 0; i < 10; ++i) {
    const test::Output o = e.s.agentrun({"run", "--bundle", e.s.bundle, "e"});
    BOOST_TEST(o.code != 0);
    BOOST_TEST(has(o.err, "no such file or directory"), o.err);
    BOOST_TEST(!has(o.err, "network.egress"), o.err);
    BOOST_TEST(!test::file_exists(e.s.root + "/e"));
  }
}

// Nothing to log and no names: no guard at all. Started again in the same
// namespace, the container takes its own rules back.
BOOST_AUTO_TEST_CASE(rules_that_log_nothing_need_no_guard, *test::needs(nftables)) {
  Egress e(R"({"default": "deny", "allow": ["10.203.1.1:443"], "log": "none"})");
  for (int start = 0; start < 2; ++start) {
    const test::Output o = e.start();
    BOOST_TEST_REQUIRE(o.code == 0, o.err);
    BOOST_TEST(!test::file_exists(e.s.root + "/e/guard.json"));
    auto r = e.attempt({"tcp:10.203.1.1:443", "tcp:10.203.1.1:80", "tcp:10.203.1.2:443"});
    BOOST_TEST(r["tcp:10.203.1.1:443"] == "ok");
    BOOST_TEST(r["tcp:10.203.1.1:80"] == kRefused4);
    BOOST_TEST(r["tcp:10.203.1.2:443"] == kRefused4);
    BOOST_TEST(!has(e.s.agentrun({"inspect", "e"}).out, "shared with"));
    BOOST_TEST_REQUIRE(e.s.agentrun({"delete", "--force", "e"}).code == 0);
  }
}

// `run` in the foreground starts the guard that only logs once something
// was refused, and returns once the log holds it. The process runs the
// script /step of its rootfs; the guard's wrapper leaves /guard-started
// there, where the process sees it.
BOOST_AUTO_TEST_CASE(a_foreground_run_starts_its_logger_once_something_is_refused, *test::needs(nftables)) {
  Egress e(R"({"default": "deny", "allow": ["10.203.1.1:443"], "log": "denied"})", "", {"/bin/sh", "/step"});
  const auto network_made = std::chrono::steady_clock::now();
  const std::string started = e.s.rootfs + "/guard-started";
  const auto wrapper = [&](const std::string& name, const std::string& before) {
    const std::string path = e.s.dir + "/" + name;
    test::put_file(path, "#!/bin/sh\n" + before + "touch " + started + "\nexec " + kGuard + " \"$@\"\n");
    BOOST_TEST_REQUIRE(::chmod(path.c_str(), 0755) == 0);
    return path;
  };
  const std::string at_once = wrapper("guard-at-once", ""), late = wrapper("late-guard", "sleep 0.3\n");
  const auto run = [&](const std::string& helper, const std::string& step) {
    ::unlink(started.c_str());
    test::put_file(e.s.rootfs + "/step", step);
    const test::Output o = e.with_guard(helper, {"run", "--keep"});
    BOOST_TEST(o.code == 0, o.err);
    return o.out;
  };
  const auto finish = [&] { BOOST_TEST_REQUIRE(e.s.agentrun({"delete", "--force", "e"}).code == 0); };
  const std::string say_guard = "test -e /guard-started && echo guard: started || echo guard: none\n";

  // A refusal starts the guard while the process runs.
  std::string out = run(at_once, "/usr/bin/agent-probe tcp:10.203.1.1:80\n"
                                 "i=0\nwhile ! test -e /guard-started && test $i -lt 100; do sleep 0.05; i=$((i+1)); done\n" +
                         say_guard);
  BOOST_TEST(test::probe_results(out)["tcp:10.203.1.1:80"] == kRefused4, out);
  BOOST_TEST(has(out, "guard: started"), out);
  BOOST_TEST(has(e.log(), R"("port":80)"), e.log());
  finish();

  // Refused just before the end: `run` waits for a guard that starts late.
  out = run(late, "/usr/bin/agent-probe tcp:10.203.1.1:80 tcp:10.203.1.2:443\n");
  BOOST_TEST(test::probe_results(out)["tcp:10.203.1.2:443"] == kRefused4, out);
  const std::string log = test::file_exists(e.s.root + "/e/egress.log") ? e.log() : "";
  BOOST_TEST(has(log, R"("port":80)"), log);
  BOOST_TEST(has(log, R"("destination":"10.203.1.2")"), log);
  finish();

  // Nothing refused: no guard, in 0.5 s of the process or after it. The
  // kernel's own IPv6 multicast reports, which the rules refuse and log too,
  // go out within about two seconds of the test network's addresses.
  const auto quiet = network_made + std::chrono::seconds(3);
  if (std::chrono::steady_clock::now() < quiet) std::this_thread::sleep_until(quiet);
  out = run(at_once, "/usr/bin/agent-probe tcp:10.203.1.1:443\nsleep 0.5\n" + say_guard);
  BOOST_TEST(test::probe_results(out)["tcp:10.203.1.1:443"] == "ok", out);
  BOOST_TEST(has(out, "guard: none"), out);
  BOOST_TEST(!test::file_exists(e.s.root + "/e/guard.json"));
  BOOST_TEST(!test::file_exists(e.s.root + "/e/egress.log"), e.log());
  finish();
}
