#include <boost/test/unit_test.hpp>

#include <signal.h>

#include <string>

#include "runtime/util/child_process.hpp"

using namespace agentrun;

// A child that ends without reading its stdin (a hook that ignores the
// state): writing the rest of the input meets a closed pipe. The caller,
// the runtime or the init running a hook, must live on to say how the child
// ended, not die of SIGPIPE.
BOOST_AUTO_TEST_CASE(a_child_that_never_reads_its_input) {
  const std::string input(1 << 20, 'x');  // more than a pipe holds
  auto r = run_child("/bin/sh", {"sh", "-c", "exit 3"}, {}, input, monotonic_ms() + 10000, 4096, "test");
  BOOST_TEST_REQUIRE(bool(r));
  BOOST_TEST(describe_wait_status(r->status) == "exit status 3");
  sigset_t pending;
  BOOST_TEST_REQUIRE(::sigpending(&pending) == 0);
  BOOST_TEST(!sigismember(&pending, SIGPIPE), "a SIGPIPE is left pending");
  sigset_t mask;
  BOOST_TEST_REQUIRE(::sigprocmask(SIG_SETMASK, nullptr, &mask) == 0);
  BOOST_TEST(!sigismember(&mask, SIGPIPE), "SIGPIPE is left blocked");
}

// And a child that reads it all gets all of it.
BOOST_AUTO_TEST_CASE(a_child_that_reads_its_input_gets_it_all) {
  const std::string input(1 << 20, 'x');
  auto r = run_child("/bin/sh", {"sh", "-c", "wc -c"}, {"PATH=/usr/bin:/bin"}, input, monotonic_ms() + 10000, 4096,
                           "test");
  BOOST_TEST_REQUIRE(bool(r));
  BOOST_TEST(describe_wait_status(r->status) == "exit status 0");
  BOOST_TEST(r->output == std::to_string(1 << 20) + "\n");
}
