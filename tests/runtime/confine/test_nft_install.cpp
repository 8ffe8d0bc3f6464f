// The egress rules the runtime puts in itself (confine/nft_install), against
// nft: the same policy's text applied with nft in one new network
// namespace, its batch in another, and the kernel's bytecode of both, as
// `nft --debug=netlink list` shows it, must be the same (nft 1.0 and 1.1,
// Debian 12 and 13). Then what it does
// when the namespace holds a table already.
#include <boost/test/unit_test.hpp>

#include <sched.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <regex>
#include <string>

#include "runtime/confine/nft_install.hpp"
#include "runtime/policy/egress_ruleset.hpp"
#include "spec/error.hpp"
#include "support/files.hpp"
#include "support/harness.hpp"
#include "support/needs.hpp"

namespace {

using agentrun::policy::Egress;
using agentrun::policy::EgressDefault;
using agentrun::policy::EgressLog;

// A network namespace held by a child process that only waits.
class Namespace {
 public:
  Namespace() {
    int ready[2];
    BOOST_TEST_REQUIRE(::pipe(ready) == 0);
    pid_ = ::fork();
    BOOST_TEST_REQUIRE(pid_ >= 0);
    if (pid_ == 0) {
      const char ok = ::unshare(CLONE_NEWNET) == 0 ? 'y' : 'n';
      (void)!::write(ready[1], &ok, 1);
      ::pause();
      ::_exit(0);
    }
    ::close(ready[1]);
    char ok = 'n';
    (void)!::read(ready[0], &ok, 1);
    ::close(ready[0]);
    BOOST_TEST_REQUIRE(ok == 'y');
  }
  ~Namespace() {
    ::kill(pid_, SIGKILL);
    ::waitpid(pid_, nullptr, 0);
  }
  Namespace(const Namespace&) = delete;
  Namespace& operator=(const Namespace&) = delete;

  std::string path() const { return "/proc/" + std::to_string(pid_) + "/ns/net"; }
  test::Output nft(const std::vector<std::string>& args, const std::string& input = "") const {
    std::vector<std::string> argv = {test::host::tool("nsenter").reason, "--net=" + path(),
                                     test::host::tool("nft").reason};
    argv.insert(argv.end(), args.begin(), args.end());
    return test::run_process(argv, 60, input);
  }
  std::string bytecode() const { return nft({"--debug=netlink", "list", "table", "inet", "agentrun"}).out; }

 private:
  pid_t pid_ = -1;
};

test::host::Probe nft_and_nsenter() {
  if (auto p = test::host::nftables(); !p.available) return p;
  return test::host::tool("nsenter");
}

agentrun::policy::EgressSetup setup_of(const Egress& e, const std::string& owner = "c1") {
  return agentrun::policy::egress_setup(e, {"10.0.0.5", "2001:db8::7", "192.0.2.1"}, owner);
}

bool has(const std::string& text, const std::string& part) { return text.find(part) != std::string::npos; }

// nft 1.0.6 (Debian 12) writes a port range as two comparisons, nft 1.1
// (Debian 13) and the runtime as one range expression: the same test,
// written one way.
std::string one_range_expression(const std::string& bytecode) {
  static const std::regex pair(R"(  \[ cmp gte reg 1 (0x[0-9a-f]+) \]\n  \[ cmp lte reg 1 (0x[0-9a-f]+) \])");
  return std::regex_replace(bytecode, pair, "  [ range eq reg 1 $1 $2 ]");
}

}  // namespace

BOOST_AUTO_TEST_SUITE(nft_install, *test::needs(nft_and_nsenter))

BOOST_AUTO_TEST_CASE(the_batch_is_what_nft_makes_of_the_text) {
  const std::vector<Egress> policies = {
      // agent-default's
      {EgressDefault::allow, {}, {"metadata", "link-local", "host"}, EgressLog::denied},
      // every kind of entry: ports, ranges, a protocol alone, prefixes on and off byte boundaries, /0
      {EgressDefault::deny,
       {"10.1.0.0/16:443", "192.0.2.0/25:8000-8080", "[2001:db8::/33]:53/udp", "fd00::/8/tcp", "0.0.0.0/0:22",
        "203.0.113.9"},
       {"metadata", "10.1.2.0/23"},
       EgressLog::all},
      {EgressDefault::deny, {"10.0.0.0/8"}, {}, EgressLog::none},
  };
  for (const Egress& e : policies) {
    const auto s = setup_of(e);
    BOOST_TEST_REQUIRE(s.table.has_value());
    Namespace by_nft, by_runtime;
    const test::Output applied = by_nft.nft({"-f", "-"}, s.ruleset);
    BOOST_TEST_REQUIRE(applied.code == 0, applied.err << s.ruleset);
    BOOST_TEST(agentrun::nft::install_table(by_runtime.path(), *s.table) == "");
    const std::string expected = one_range_expression(by_nft.bytecode()), got = by_runtime.bytecode();
    BOOST_TEST(has(expected, "[ reject type 2 code 3 ]") != (e.fallback == EgressDefault::allow && e.deny.empty()));
    BOOST_TEST(got == expected, "the runtime's table:\n" << got << "\nnft's:\n" << expected);
    BOOST_TEST(has(got, s.table->comment), got);
  }
}

BOOST_AUTO_TEST_CASE(a_table_in_place_is_shared_taken_back_or_refused) {
  const Egress e{EgressDefault::deny, {"10.0.0.0/8:443"}, {}, EgressLog::denied};
  Namespace pod;
  BOOST_TEST_REQUIRE(agentrun::nft::install_table(pod.path(), *setup_of(e, "first").table) == "");
  // Another container with the same rules: the first one's stay, shared.
  BOOST_TEST(agentrun::nft::install_table(pod.path(), *setup_of(e, "second").table) == "first");
  // Other rules: refused, and the first container's stay.
  Egress other = e;
  other.allow.push_back("10.0.0.0/8:80");
  const std::string before = pod.bytecode();
  try {
    agentrun::nft::install_table(pod.path(), *setup_of(other, "third").table);
    BOOST_FAIL("other rules were put in a namespace that holds a table");
  } catch (const agentrun::Failure& f) {
    BOOST_TEST(has(f.what(), "the network namespace already holds other egress rules (agentrun first "), f.what());
  }
  BOOST_TEST(pod.bytecode() == before);
  // The first container started again with other rules takes its table back.
  BOOST_TEST(agentrun::nft::install_table(pod.path(), *setup_of(other, "first").table) == "");
  BOOST_TEST(has(pod.nft({"list", "table", "inet", "agentrun"}).out, "tcp dport 80"));
}

BOOST_AUTO_TEST_CASE(a_table_without_an_owner_is_refused) {
  Namespace ns;
  BOOST_TEST_REQUIRE(ns.nft({"add", "table", "inet", "agentrun"}).code == 0);
  const Egress e{EgressDefault::deny, {}, {}, EgressLog::none};
  try {
    agentrun::nft::install_table(ns.path(), *setup_of(e).table);
    BOOST_FAIL("a table without an owner was replaced");
  } catch (const agentrun::Failure& f) {
    BOOST_TEST(has(f.what(), "a table of that name without an owner"), f.what());
  }
}

BOOST_AUTO_TEST_CASE(the_runtimes_own_namespace_is_refused) {
  const Egress e{EgressDefault::deny, {}, {}, EgressLog::none};
  try {
    agentrun::nft::install_table("/proc/self/ns/net", *setup_of(e).table);
    BOOST_FAIL("rules went into the runtime's own network namespace");
  } catch (const agentrun::Failure& f) {
    BOOST_TEST(has(f.what(), "is the runtime's own network namespace"), f.what());
  }
  BOOST_TEST(!has(test::run_process({test::host::tool("nft").reason, "list", "tables"}).out, "inet agentrun"));
}

BOOST_AUTO_TEST_SUITE_END()
