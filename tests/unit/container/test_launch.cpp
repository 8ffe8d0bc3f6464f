// The runtime's end of the launch: the init shares stage 1's end of the
// channel and may speak before stage 1 names it; create hands the init the
// network namespace it made; a refused one is named with what the host lacks.
#include <boost/test/unit_test.hpp>

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <functional>
#include <string>
#include <utility>

#include "runtime/container/launch.hpp"
#include "spec/error.hpp"
#include "support/recording_sys.hpp"

using namespace agentrun;

namespace {

// A process of the test's own for the Conversation to kill and reap.
pid_t idle_child() {
  const pid_t pid = ::fork();
  BOOST_TEST_REQUIRE(pid >= 0);
  if (pid == 0)
    for (;;) ::pause();
  return pid;
}

std::string failure_of(const std::function<void()>& f) {
  try {
    f();
  } catch (const Failure& e) {
    return e.what();
  }
  return "(no failure)";
}

bool exited(pid_t pid) { return ::kill(pid, 0) < 0 && errno == ESRCH; }

// create's end of a launch, and the end that stage 1 and the init share.
struct Launch {
  std::pair<SyncChannel, SyncChannel> ends = make_channel_pair().or_throw();
  Conversation runtime{std::move(ends.first), true};
  SyncChannel& child = ends.second;
};

}  // namespace

BOOST_AUTO_TEST_SUITE(launch)

// The init's words that arrive before stage 1's init_pid are kept, in order.
BOOST_AUTO_TEST_CASE(the_init_may_speak_before_stage_one_names_it, *boost::unit_test::timeout(20)) {
  const pid_t init = idle_child();
  {
    Launch l;
    BOOST_TEST_REQUIRE(bool(l.child.send(MsgType::network_ready)));
    BOOST_TEST_REQUIRE(bool(l.child.send_report("/usr/bin/curl")));
    BOOST_TEST_REQUIRE(bool(l.child.send(MsgType::init_pid, init | kInitBornInCgroup)));
    BOOST_TEST_REQUIRE(bool(l.child.send(MsgType::ready)));
    l.runtime.await_init_pid();
    BOOST_TEST(l.runtime.pid() == init);
    BOOST_TEST(l.runtime.born_in_cgroup());
    BOOST_TEST((l.runtime.expect("test").type == MsgType::network_ready));
    const Message report = l.runtime.expect("test");
    BOOST_TEST((report.type == MsgType::report));
    BOOST_TEST(report.error.step == "/usr/bin/curl");
    BOOST_TEST((l.runtime.expect("test").type == MsgType::ready));
  }
  BOOST_TEST(exited(init));  // killed and reaped by the Conversation
}

// A pid of 0 would make the runtime write its own pid to the container's
// cgroup.procs (and read its own /proc): refused.
BOOST_FIXTURE_TEST_CASE(stage_one_naming_no_init_is_refused, Launch, *boost::unit_test::timeout(20)) {
  BOOST_TEST_REQUIRE(bool(child.send(MsgType::init_pid, kInitBornInCgroup)));
  BOOST_TEST(failure_of([&] { runtime.await_init_pid(); }) == "create namespaces: stage 1 named no init (0)");
  BOOST_TEST(runtime.pid() == 0);
}

// The init's error before it is named is what create reports.
BOOST_FIXTURE_TEST_CASE(an_error_before_the_init_is_named_is_reported, Launch, *boost::unit_test::timeout(20)) {
  BOOST_TEST_REQUIRE(bool(child.send(MsgType::network_ready)));
  BOOST_TEST_REQUIRE(bool(child.send_error(Error{"mount proc on /proc", "", EACCES})));
  BOOST_TEST(failure_of([&] { runtime.await_init_pid(); }) == "mount proc on /proc: permission denied");
}

BOOST_FIXTURE_TEST_CASE(a_refused_network_namespace_names_what_the_host_lacks, Launch,
                        *boost::unit_test::timeout(20)) {
  const auto word = [&](MsgType type, int64_t value) {
    BOOST_TEST_REQUIRE(bool(child.send(type, value)));
    return failure_of([&] { await_network_namespace(runtime); });
  };
  BOOST_TEST(word(MsgType::network_ready, 0) == "(no failure)");
  BOOST_TEST(word(MsgType::network_ready, EPERM) ==
             "create namespaces: creating a network namespace failed with EPERM (operation not permitted): "
             "agentrun lacks CAP_SYS_ADMIN here: run it as root, or rootless with a user namespace");
  BOOST_TEST(word(MsgType::network_ready, ENOSPC).find("/proc/sys/user/max_net_namespaces") != std::string::npos);
  BOOST_TEST(word(MsgType::network_ready, EINVAL).find("without CONFIG_NET_NS") != std::string::npos);
  BOOST_TEST(word(MsgType::ready, 0) == "create container: unexpected message from its init");
}

// create makes the namespace on its own thread, goes back to its own at
// once, and sends the descriptor as its first word (RecordingSys answers
// unshare and setns, so the descriptor here is the test's own namespace).
BOOST_FIXTURE_TEST_CASE(create_hands_the_init_the_network_namespace_it_made, Launch,
                        *boost::unit_test::timeout(20)) {
  using test::Op;
  Plan plan;
  plan.new_namespaces = CLONE_NEWNET | CLONE_NEWNS;
  const std::string net = std::to_string(CLONE_NEWNET);
  test::RecordingSys sys;
  give_network_namespace(sys, plan, runtime);
  BOOST_TEST((sys.calls == std::vector<std::string>{"unshare " + net, "setns " + net}));
  auto word = child.receive();
  BOOST_TEST_REQUIRE(bool(word));
  BOOST_TEST((word->type == MsgType::network_namespace));
  struct stat given{}, own{};
  BOOST_TEST_REQUIRE(bool(word->fd));
  BOOST_TEST_REQUIRE(::fstat(word->fd.get(), &given) == 0);
  BOOST_TEST_REQUIRE(::stat("/proc/thread-self/ns/net", &own) == 0);
  BOOST_TEST((given.st_dev == own.st_dev && given.st_ino == own.st_ino));
}

// Refused, it is named as the init's own refusal is, and nothing is sent;
// failing to go back is fatal too. Under a user namespace, or without a
// network namespace of its own, create makes none.
BOOST_FIXTURE_TEST_CASE(a_network_namespace_create_cannot_make_or_leave_is_refused, Launch,
                        *boost::unit_test::timeout(20)) {
  Plan plan;
  plan.new_namespaces = CLONE_NEWNET | CLONE_NEWNS;
  const std::string net = std::to_string(CLONE_NEWNET);
  test::RecordingSys refusing;
  refusing.failures = {{"unshare " + net, EPERM}};
  BOOST_TEST(failure_of([&] { give_network_namespace(refusing, plan, runtime); }).find(
                 "creating a network namespace failed with EPERM") != std::string::npos);
  BOOST_TEST(refusing.matching("setns").empty());
  pollfd p{child.fd(), POLLIN, 0};
  BOOST_TEST(::poll(&p, 1, 0) == 0);

  test::RecordingSys stuck;
  stuck.failures = {{"setns " + net, EINVAL}};
  BOOST_TEST(failure_of([&] { give_network_namespace(stuck, plan, runtime); }) ==
             "return to the runtime's network namespace: invalid argument");
  BOOST_TEST(::poll(&p, 1, 0) == 0);

  for (int flags : {CLONE_NEWUSER | CLONE_NEWNET | CLONE_NEWNS, CLONE_NEWNS}) {
    plan.new_namespaces = flags;
    test::RecordingSys sys;
    give_network_namespace(sys, plan, runtime);
    BOOST_TEST(sys.calls.empty());
  }
  BOOST_TEST(::poll(&p, 1, 0) == 0);
}

BOOST_AUTO_TEST_SUITE_END()
