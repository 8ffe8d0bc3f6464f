#include <boost/test/unit_test.hpp>
#include <csignal>

#include "spec/names.hpp"

using namespace agentrun::spec;

BOOST_AUTO_TEST_CASE(capabilities_by_exact_name) {
  BOOST_TEST(*capability_from_name("CAP_CHOWN") == 0);
  BOOST_TEST(*capability_from_name("CAP_SYS_ADMIN") == 21);
  BOOST_TEST(*capability_from_name("CAP_CHECKPOINT_RESTORE") == 40);
  BOOST_TEST(!capability_from_name("CAP_BOGUS"));
  BOOST_TEST(!capability_from_name("cap_chown"));
  BOOST_TEST(!capability_from_name("CHOWN"));
  BOOST_TEST(capability_name(21) == "CAP_SYS_ADMIN");
}

BOOST_AUTO_TEST_CASE(signals_as_runc_accepts_them) {
  BOOST_TEST(*signal_from_string("TERM") == SIGTERM);
  BOOST_TEST(*signal_from_string("SIGKILL") == SIGKILL);
  BOOST_TEST(*signal_from_string("sigusr1") == SIGUSR1);
  BOOST_TEST(*signal_from_string("15") == 15);
  BOOST_TEST(*signal_from_string("RTMIN+2") == SIGRTMIN + 2);
  BOOST_TEST(*signal_from_string("SIGRTMAX-1") == SIGRTMAX - 1);
  BOOST_TEST(!signal_from_string("0"));
  BOOST_TEST(!signal_from_string("99"));
  BOOST_TEST(!signal_from_string("SIGBOGUS"));
  BOOST_TEST(!signal_from_string("15x"));
  BOOST_TEST(!signal_from_string(""));
}

BOOST_AUTO_TEST_CASE(namespace_and_rlimit_names) {
  BOOST_TEST(namespace_from_name("network").has_value());
  BOOST_TEST(!namespace_from_name("net").has_value());
  BOOST_TEST(*rlimit_from_name("RLIMIT_NOFILE") == 7);
  BOOST_TEST(!rlimit_from_name("RLIMIT_BOGUS"));
}
