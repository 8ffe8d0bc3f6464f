#include <boost/test/unit_test.hpp>

#include <time.h>
#include <unistd.h>

#include <fstream>
#include <regex>
#include <sstream>
#include <cstdio>
#include <string>
#include <vector>

#include "runtime/util/log.hpp"
#include "runtime/util/proc_stat.hpp"
#include "support/checks.hpp"

using namespace agentrun;

namespace {

// A stat line: pid, (comm), then fields 3..52 with field 22 = start.
std::string stat_line(const std::string& comm, char state, const std::string& start) {
  std::string s = "4242 (" + comm + ") " + std::string(1, state);
  for (int field = 4; field <= 52; ++field) s += " " + (field == 22 ? start : std::to_string(field * 10));
  return s + "\n";
}

}  // namespace

BOOST_AUTO_TEST_CASE(parse_plain_stat) {
  auto st = parse_proc_stat(stat_line("bash", 'S', "123456789").c_str());
  BOOST_TEST_REQUIRE(st.has_value());
  BOOST_TEST(st->state == 'S');
  BOOST_TEST(st->start_time == 123456789u);
}

BOOST_AUTO_TEST_CASE(parse_comm_with_spaces_and_parens) {
  for (const std::string comm : {"a b", "x) S 1 2 3", "((", ")", ") ) )", "my (weird) name", "a)\n"}) {
    auto st = parse_proc_stat(stat_line(comm, 'Z', "987654321012").c_str());
    BOOST_TEST_REQUIRE(st.has_value(), comm);
    BOOST_TEST(st->state == 'Z', comm);
    BOOST_TEST(st->start_time == 987654321012u, comm);
  }
}

BOOST_AUTO_TEST_CASE(parse_large_start_time_and_last_field) {
  auto st = parse_proc_stat(stat_line("c", 'R', "18446744073709551615").c_str());
  BOOST_TEST_REQUIRE(st.has_value());
  BOOST_TEST(st->start_time == 18446744073709551615ull);
  // Exactly 22 fields, the start time last.
  std::string short_line = "1 (c) D";
  for (int field = 4; field < 22; ++field) short_line += " 0";
  short_line += " 77";
  auto s2 = parse_proc_stat(short_line.c_str());
  BOOST_TEST_REQUIRE(s2.has_value());
  BOOST_TEST(s2->state == 'D');
  BOOST_TEST(s2->start_time == 77u);
}

BOOST_AUTO_TEST_CASE(parse_malformed) {
  BOOST_TEST(!parse_proc_stat(""));
  BOOST_TEST(!parse_proc_stat("1 (c"));           // no ')'
  BOOST_TEST(!parse_proc_stat("1 (c)"));          // nothing after
  BOOST_TEST(!parse_proc_stat("1 (c) "));         // no state
  BOOST_TEST(!parse_proc_stat("1 (c)S 1 2"));     // no space after ')'
  BOOST_TEST(!parse_proc_stat("1 (c) S 1 2 3"));  // too few fields
  std::string upto21 = "1 (c) S";
  for (int field = 4; field <= 21; ++field) upto21 += " 0";
  BOOST_TEST(!parse_proc_stat(upto21.c_str()));           // field 22 missing
  BOOST_TEST(!parse_proc_stat((upto21 + " ").c_str()));   // field 22 empty
  BOOST_TEST(!parse_proc_stat((upto21 + " x9").c_str())); // field 22 not a number
  BOOST_TEST(!parse_proc_stat(stat_line("c", 'S', "abc").c_str()));
}

BOOST_AUTO_TEST_CASE(read_own_stat) {
  auto st = read_proc_stat(::getpid());
  BOOST_TEST_REQUIRE(st.has_value());
  BOOST_TEST(st->state == 'R');
  // Field 22 of /proc/self/stat, read independently.
  const std::string text = read_file("/proc/self/stat");
  std::istringstream rest(text.substr(text.rfind(')') + 2));
  std::vector<std::string> fields;
  for (std::string f; rest >> f;) fields.push_back(f);
  BOOST_TEST_REQUIRE(fields.size() >= 20u);
  BOOST_TEST(st->start_time == std::stoull(fields[22 - 3]));
  BOOST_TEST(st->start_time > 0u);
  BOOST_TEST(!read_proc_stat(0));
  BOOST_TEST(!read_proc_stat(-1));
  BOOST_TEST(!read_proc_stat(2147483647));
  auto init = read_proc_stat(1);  // pid 1 of this pid namespace always exists
  BOOST_TEST(init.has_value());
}

BOOST_AUTO_TEST_CASE(text_log_lines) {
  BOOST_TEST(format_log_line(LogLevel::error, "boom", "2026-01-02T03:04:05.000000006Z", false) ==
             R"(time="2026-01-02T03:04:05.000000006Z" level=error msg="boom")");
  BOOST_TEST(format_log_line(LogLevel::info, "say \"hi\"", "T", false) == R"(time="T" level=info msg="say \"hi\"")");
  BOOST_TEST(format_log_line(LogLevel::warning, "a\\b\nc", "T", false) == R"(time="T" level=warning msg="a\\b\nc")");
  BOOST_TEST(format_log_line(LogLevel::debug, "", "T", false) == R"(time="T" level=debug msg="")");
  // One line, whatever the message holds.
  BOOST_TEST(format_log_line(LogLevel::error, "x\n\ny\n", "T", false).find('\n') == std::string::npos);
}

BOOST_AUTO_TEST_CASE(json_log_lines) {
  BOOST_TEST(format_log_line(LogLevel::error, "boom", "2026-01-02T03:04:05.000000006Z", true) ==
             R"({"level":"error","msg":"boom","time":"2026-01-02T03:04:05.000000006Z"})");
  BOOST_TEST(format_log_line(LogLevel::info, "say \"hi\"\nback\\slash", "T", true) ==
             R"({"level":"info","msg":"say \"hi\"\nback\\slash","time":"T"})");
  BOOST_TEST(format_log_line(LogLevel::warning, "tab\there", "T", true) ==
             R"({"level":"warning","msg":"tab\there","time":"T"})");
  BOOST_TEST(format_log_line(LogLevel::debug, std::string("c\x01", 2), "T", true) ==
             R"({"level":"debug","msg":"c\u0001","time":"T"})");
  BOOST_TEST(format_log_line(LogLevel::error, "x\n", "T", true).find('\n') == std::string::npos);
}

// The calendar is computed, not read with gmtime_r: both agree on the epoch,
// leap days, centuries and the far future.
BOOST_AUTO_TEST_CASE(rfc3339_is_the_utc_calendar) {
  BOOST_TEST(rfc3339({0, 0}) == "1970-01-01T00:00:00.000000000Z");
  BOOST_TEST(rfc3339({951782400, 7}) == "2000-02-29T00:00:00.000000007Z");
  BOOST_TEST(rfc3339({4107542399, 999999999}) == "2100-02-28T23:59:59.999999999Z");
  for (time_t t = 0; t < time_t{1} << 34; t = t * 3 + 86399) {
    tm g{};
    BOOST_TEST_REQUIRE(::gmtime_r(&t, &g) != nullptr);
    char want[64];
    std::snprintf(want, sizeof want, "%04d-%02d-%02dT%02d:%02d:%02d.000000000Z", g.tm_year + 1900, g.tm_mon + 1,
                  g.tm_mday, g.tm_hour, g.tm_min, g.tm_sec);
    BOOST_TEST(rfc3339({t, 0}) == want, "at " << t);
  }
}

BOOST_AUTO_TEST_CASE(rfc3339_timestamps) {
  const std::regex re(R"(^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{9}Z$)");
  // The precise clock, as rfc3339_now's: time() reads a coarse one that can
  // lag a tick behind, across a second's boundary.
  const auto seconds = [] {
    timespec ts{};
    ::clock_gettime(CLOCK_REALTIME, &ts);
    return ts.tv_sec;
  };
  const time_t before = seconds();
  const std::string now = rfc3339_now();
  const time_t after = seconds();
  BOOST_TEST(std::regex_match(now, re), now);
  BOOST_TEST(now.size() == 30u);
  // The seconds part is the current UTC time.
  tm t{};
  BOOST_TEST_REQUIRE(::strptime(now.c_str(), "%Y-%m-%dT%H:%M:%S", &t) != nullptr);
  const time_t parsed = ::timegm(&t);
  BOOST_TEST(parsed >= before);
  BOOST_TEST(parsed <= after);
  // Later calls never go back and differ in the nanoseconds.
  const std::string later = rfc3339_now();
  BOOST_TEST(std::regex_match(later, re), later);
  BOOST_TEST(later >= now);
}
