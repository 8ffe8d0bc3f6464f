// The egress log as inspect counts it and events streams it.
#include <boost/test/unit_test.hpp>

#include <fstream>
#include <string>

#include "runtime/container/egress_log.hpp"
#include "support/checks.hpp"

using namespace agentrun;

BOOST_AUTO_TEST_CASE(counts_by_action_and_skips_what_is_not_a_record) {
  const EgressCounts c = count_egress_log(
      R"({"action":"deny","protocol":"tcp","destination":"169.254.169.254","port":80})" "\n"
      R"({"action":"deny","protocol":"dns","name":"evil.example.com"})" "\n"
      R"({"action":"allow","protocol":"udp","destination":"192.0.2.1","port":53})" "\n"
      "garbage\n"
      R"({"action":"deny","protocol":"tcp"})" "\n"
      R"({"action":"deny","proto)");  // being written
  BOOST_TEST(c.denied == 2u);
  BOOST_TEST(c.names_refused == 1u);
  BOOST_TEST(c.allowed == 1u);
  BOOST_TEST(c.unreadable == 1u);
}

BOOST_AUTO_TEST_CASE(the_tail_gives_complete_lines_once_and_follows_a_fresh_file) {
  TempDir dir("egress-log");
  const std::string path = dir.path + "/egress.log";
  EgressLogTail tail(path);
  BOOST_TEST(tail.new_lines().empty());  // no log yet
  std::ofstream(path) << "{\"a\":1}\n{\"b\":";
  BOOST_TEST(tail.new_lines() == std::vector<std::string>{"{\"a\":1}"});
  std::ofstream(path, std::ios::app) << "2}\n";
  BOOST_TEST(tail.new_lines() == std::vector<std::string>{"{\"b\":2}"});
  BOOST_TEST(tail.new_lines().empty());
  std::ofstream(path) << "{\"c\":3}\n";  // rotated: a shorter file
  BOOST_TEST(tail.new_lines() == std::vector<std::string>{"{\"c\":3}"});
}
