// The signal state a program we execute starts with: nothing blocked,
// nothing ignored, no handler; /proc's SigIgn says which dispositions need
// a call (execve resets handled ones itself).
#include <boost/test/unit_test.hpp>

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <string>

#include "runtime/util/signals.hpp"

using namespace agentrun;

namespace {

void on_signal(int) {}

// /proc/self/status as cat (which handles no signal), executed after the reset, shows it.
std::string signals_seen_by_a_program(bool ignore_first) {
  int out[2];
  BOOST_TEST_REQUIRE(::pipe(out) == 0);
  const pid_t pid = ::fork();
  BOOST_TEST_REQUIRE(pid >= 0);
  if (pid == 0) {
    ::signal(SIGPIPE, SIG_IGN);
    ::signal(SIGUSR1, SIG_IGN);
    if (ignore_first) ::signal(SIGHUP, SIG_IGN);
    ::signal(SIGUSR2, on_signal);
    sigset_t blocked;
    sigemptyset(&blocked);
    sigaddset(&blocked, SIGINT);
    ::sigprocmask(SIG_BLOCK, &blocked, nullptr);
    reset_signals_for_exec();
    ::dup2(out[1], 1);
    ::execl("/bin/cat", "cat", "/proc/self/status", static_cast<char*>(nullptr));
    ::_exit(127);
  }
  ::close(out[1]);
  std::string seen;
  char buf[4096];
  for (ssize_t n; (n = ::read(out[0], buf, sizeof buf)) > 0;) seen.append(buf, static_cast<size_t>(n));
  ::close(out[0]);
  int status = 0;
  ::waitpid(pid, &status, 0);
  BOOST_TEST(WIFEXITED(status));
  BOOST_TEST(WEXITSTATUS(status) == 0);
  return seen;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(signals)

BOOST_AUTO_TEST_CASE(the_ignored_mask_is_read_from_a_status_text) {
  const std::string status = "Name:\tcat\nSigBlk:\t0000000000000000\nSigIgn:\t0000000000001001\nSigCgt:\t0\n";
  BOOST_TEST(ignored_signals(status).value_or(0) == ((1u << (SIGHUP - 1)) | (1u << (SIGPIPE - 1))));
  BOOST_TEST(ignored_signals("Name:\tcat\nSigIgn:\t0000000000000000\n").value_or(1) == 0u);
  // No such line, or one that is not 1 to 16 hex digits: the caller resets every signal.
  BOOST_TEST(!ignored_signals("Name:\tcat\n"));
  BOOST_TEST(!ignored_signals("Name:\tcat\nSigIgn:\t\n"));
  BOOST_TEST(!ignored_signals("Name:\tcat\nSigIgn:\t00000000000000zz\n"));
  BOOST_TEST(!ignored_signals("Name:\tcat\nSigIgn:\t00000000000000000\n"));
}

// Whatever was ignored, handled or blocked before, the program sees none of it.
BOOST_AUTO_TEST_CASE(a_program_starts_with_every_signal_at_its_default, *boost::unit_test::timeout(20)) {
  for (bool ignore_first : {false, true}) {
    const std::string seen = signals_seen_by_a_program(ignore_first);
    BOOST_TEST(seen.find("SigBlk:\t0000000000000000\n") != std::string::npos, seen);
    BOOST_TEST(seen.find("SigIgn:\t0000000000000000\n") != std::string::npos, seen);
    BOOST_TEST(seen.find("SigCgt:\t0000000000000000\n") != std::string::npos, seen);
  }
}

BOOST_AUTO_TEST_SUITE_END()
