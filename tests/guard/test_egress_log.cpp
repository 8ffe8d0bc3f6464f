// The egress log: its DNS lines, its time stamps, and its bound in size.
#include <boost/test/unit_test.hpp>

#include <sys/stat.h>

#include "egress-guard/failure.hpp"
#include "egress-guard/log_file.hpp"
#include "egress-guard/log_lines.hpp"
#include "support/files.hpp"
#include "unit/support/checks.hpp"

using namespace agentrun::egress;

BOOST_AUTO_TEST_CASE(times_are_utc_with_milliseconds) {
  BOOST_TEST(iso_time({1796449201, 123456789}) == "2026-12-05T05:40:01.123Z");
}

BOOST_AUTO_TEST_CASE(dns_lines_carry_the_name_escaped) {
  BOOST_TEST(dns_refused_line("T", "evil.example.com") ==
             R"({"time":"T","action":"deny","rule":"dns","protocol":"dns","name":"evil.example.com"})");
  BOOST_TEST(dns_refused_line("T", "a\"b\\046c") ==
             R"({"time":"T","action":"deny","rule":"dns","protocol":"dns","name":"a\"b\\046c"})");
  BOOST_TEST(resolve_line("T", "github.com", {"1.2.3.4", "::1"}, 30) ==
             R"({"time":"T","action":"resolve","name":"github.com","addresses":["1.2.3.4","::1"],"ttl":30})");
}

BOOST_AUTO_TEST_CASE(the_file_moves_to_dot_one_when_it_would_pass_the_bound) {
  TempDir dir("egress-log");
  const std::string path = dir.path + "/egress.log";
  const std::string line(1000, 'x');  // 1001 bytes with its newline
  {
    LogFile log(path, 4096);
    for (int i = 0; i < 4; ++i) log.append(line);  // 4004 bytes
    BOOST_TEST(!exists(path + ".1"));
    log.append(std::string(99, 'y'));  // 4104 would pass 4096
    BOOST_TEST(test::read_file(path + ".1").size() == 4004u);
    BOOST_TEST(test::read_file(path) == std::string(99, 'y') + "\n");
  }
  {
    // A restarted guard counts what is already there: 100 + 3 * 1001, then the bound.
    LogFile log(path, 4096);
    for (int i = 0; i < 4; ++i) log.append(line);
    BOOST_TEST(test::read_file(path + ".1").size() == 100u + 3003u);
    BOOST_TEST(test::read_file(path).size() == 1001u);
  }
}

BOOST_AUTO_TEST_CASE(a_link_in_place_of_the_log_is_refused) {
  TempDir dir("egress-log");
  const std::string path = dir.path + "/egress.log";
  BOOST_TEST_REQUIRE(symlink((dir.path + "/elsewhere").c_str(), path.c_str()) == 0);
  try {
    LogFile log(path, 4096);
    BOOST_ERROR("a log behind a link was opened");
  } catch (const GuardError& e) {
    BOOST_TEST(std::string(e.what()).starts_with("log: open " + path + ": "));
    BOOST_TEST(std::string(e.what()).find("(errno 40)") != std::string::npos);
  }
}
