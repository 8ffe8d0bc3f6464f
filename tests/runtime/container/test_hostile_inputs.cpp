// Inputs an image or a damaged state root controls: the runtime reads only
// regular files, within a bound and without blocking, and one broken
// container's state hides no other.
#include <boost/test/unit_test.hpp>

#include <sys/stat.h>
#include <unistd.h>

#include <fstream>
#include <string>

#include "support/files.hpp"
#include "support/harness.hpp"
#include "support/needs.hpp"

using test::Sandbox;

namespace {

// The image's /etc/passwd as a FIFO nobody writes (a read would block for
// ever) and as a link to /dev/zero (a read would never end): both the
// policy's translation (home directories) and the init (HOME) read it.
void run_with_hostile_passwd(const std::string& policy) {
  for (const std::string kind : {"fifo", "zero"}) {
    Sandbox s;
    s.policy = policy;
    const std::string passwd = s.rootfs + "/etc/passwd";
    ::unlink(passwd.c_str());
    BOOST_TEST_REQUIRE((kind == "fifo" ? ::mkfifo(passwd.c_str(), 0644) : ::symlink("/dev/zero", passwd.c_str())) == 0);
    auto cfg = test::base_config({"sh", "-c", "echo home=$HOME"});
    test::set_json(cfg, "/process/env", R"(["PATH=/bin"])");
    auto o = s.run(cfg, "pw");
    BOOST_TEST(o.code == 0, kind << ": " << o.err);
    BOOST_TEST(o.out == "home=/\n", kind << ": " << o.out);
    BOOST_TEST(s.leftovers().empty());
  }
}

}  // namespace

BOOST_AUTO_TEST_CASE(a_hostile_passwd_does_not_hang_run_under_oci) { run_with_hostile_passwd("oci"); }

BOOST_AUTO_TEST_CASE(a_hostile_passwd_does_not_hang_run_under_agent_default, *test::needs_agent_default()) {
  run_with_hostile_passwd("agent-default");
}

// A state.json nested a million levels deep crashed `list` and `kill`
// (SIGSEGV). Now it is refused by name: `list` shows the other containers,
// and `delete --force` of the broken one fails loudly instead of returning 0.
BOOST_AUTO_TEST_CASE(a_deeply_nested_state_file_hides_no_other_container) {
  Sandbox s;
  s.write_config(test::base_config({"sleep", "60"}));
  auto started = s.agentrun({"run", "-d", "--bundle", s.bundle, "good"});
  BOOST_TEST_REQUIRE(started.code == 0, started.err);
  const std::string broken = s.root + "/broken";
  BOOST_TEST_REQUIRE(::mkdir(broken.c_str(), 0700) == 0);
  test::put_file(broken + "/state.json", std::string(1000000, '[') + std::string(1000000, ']'));

  auto list = s.agentrun({"list"});
  BOOST_TEST(list.code == 0, list.err);
  BOOST_TEST(list.out.find("good") != std::string::npos, list.out);
  BOOST_TEST(list.err.find(broken + "/state.json: nested deeper than 128 levels") != std::string::npos, list.err);
  auto kill = s.agentrun({"kill", "broken", "KILL"});
  BOOST_TEST(kill.code == 1, kill.err);
  BOOST_TEST(kill.err.find("nested deeper than") != std::string::npos, kill.err);
  auto del = s.agentrun({"delete", "--force", "broken"});
  BOOST_TEST(del.code == 1, del.err);
  BOOST_TEST(del.err.find(broken + "/state.json") != std::string::npos, del.err);

  ::unlink((broken + "/state.json").c_str());
  ::rmdir(broken.c_str());
  BOOST_TEST(s.agentrun({"delete", "--force", "good"}).code == 0);
  BOOST_TEST(s.leftovers().empty());
}

// A config that joins the runtime's own network namespace by path and sets
// a sysctl there changed the host's value, under every policy; runc
// refuses it. Refused before the namespace is joined; nothing is left and
// the host's value is unchanged. agent-default needs what it needs of the host
// (and refuses the host's namespace for its egress rules before that).
static void refuse_a_sysctl_in_the_hosts_namespace(const std::string& policy) {
  const std::string host_file = "/proc/sys/net/ipv4/conf/all/log_martians";
  const std::string before = test::read_file(host_file);
  BOOST_TEST_REQUIRE(!before.empty());
  const std::string other = before[0] == '0' ? "1" : "0";
  {
    Sandbox s;
    s.policy = policy;
    auto cfg = test::base_config({"true"});
    test::set_json(cfg, "/linux/namespaces", R"([{"type": "pid"}, {"type": "mount"}, {"type": "uts"}, {"type": "ipc"},
                                                  {"type": "network", "path": "/proc/self/ns/net"}])");
    test::set_json(cfg, "/linux/sysctl", R"({"net.ipv4.conf.all.log_martians": ")" + other + R"("})");
    auto o = s.run(cfg, "sysctl");
    BOOST_TEST(o.code == 1, policy);
    // agent-default's egress rules refuse the host's namespace first, at create.
    const std::string refusal =
        policy == "agent-default"
            ? "network.egress needs a network namespace of the container's own; config.json joins /proc/self/ns/net, "
              "which is the host's"
            : "join network namespace /proc/self/ns/net: it is the runtime's own: the container's sysctl "
              "net.ipv4.conf.all.log_martians would be set on the host";
    BOOST_TEST(o.err.find(refusal) != std::string::npos, policy << ": " << o.err);
    BOOST_TEST(test::read_file(host_file) == before, policy);
    if (test::read_file(host_file) != before) std::ofstream(host_file) << before;  // a failed run puts the host back
    BOOST_TEST(s.leftovers().empty());
  }
}

BOOST_AUTO_TEST_CASE(a_sysctl_into_the_hosts_joined_namespace_is_refused_under_oci) {
  refuse_a_sysctl_in_the_hosts_namespace("oci");
}

BOOST_AUTO_TEST_CASE(a_sysctl_into_the_hosts_joined_namespace_is_refused_under_agent_default,
                     *test::needs_agent_default()) {
  refuse_a_sysctl_in_the_hosts_namespace("agent-default");
}
