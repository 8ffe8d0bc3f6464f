#include <boost/test/unit_test.hpp>

#include <cstdint>
#include <sstream>
#include <string>
#include <vector>

#include "runtime/util/text_lines.hpp"

using agentrun::number_of;
using agentrun::text_fields;
using agentrun::text_lines;
using agentrun::text_words;

namespace {

// What the parsers read with string streams before: the reference.
std::vector<std::string> getline_fields(const std::string& text, char sep) {
  std::istringstream in(text);
  std::vector<std::string> out;
  for (std::string f; std::getline(in, f, sep);) out.push_back(f);
  return out;
}

std::vector<std::string> stream_words(const std::string& text) {
  std::istringstream in(text);
  std::vector<std::string> out;
  for (std::string w; in >> w;) out.push_back(w);
  return out;
}

std::vector<std::string> strings(const std::vector<std::string_view>& views) { return {views.begin(), views.end()}; }

const std::vector<std::string> kTexts = {"",         "a",         ":",          "::",       "a:",        ":a",
                                         "a::b",     "a:b:c",     "a:b:c:",     "\n",       "a\nb",      "a\nb\n",
                                         "\n\na\n",  " a  b\t",   "a \n b\n\n", "\t\v\f\r", "1:2 3\n4:"};

}  // namespace

BOOST_AUTO_TEST_CASE(fields_and_lines_split_as_getline_does) {
  for (const auto& text : kTexts) {
    BOOST_TEST(strings(text_fields(text, ':')) == getline_fields(text, ':'), boost::test_tools::per_element());
    BOOST_TEST(strings(text_lines(text)) == getline_fields(text, '\n'), boost::test_tools::per_element());
  }
}

BOOST_AUTO_TEST_CASE(words_split_as_the_stream_operator_does) {
  for (const auto& text : kTexts)
    BOOST_TEST(strings(text_words(text)) == stream_words(text), boost::test_tools::per_element());
}

// A line still being written (no newline yet) is left out on request.
BOOST_AUTO_TEST_CASE(complete_lines_only) {
  BOOST_TEST(strings(text_lines("a\nb", true)) == (std::vector<std::string>{"a"}), boost::test_tools::per_element());
  BOOST_TEST(strings(text_lines("a\nb\n", true)) == (std::vector<std::string>{"a", "b"}),
             boost::test_tools::per_element());
  BOOST_TEST(text_lines("partial", true).empty());
}

// A number is the whole word: "12abc", "", " 1" and "-1" for an unsigned are not.
BOOST_AUTO_TEST_CASE(numbers_are_whole_words) {
  BOOST_TEST((number_of<uint64_t>("18446744073709551615") == UINT64_MAX));
  BOOST_TEST((number_of<int>("-7") == -7));
  BOOST_TEST((number_of<int>("0") == 0));
  for (const char* bad : {"", "12abc", " 1", "1 ", "-1", "+1", "0x10", "18446744073709551616"})
    BOOST_TEST(!number_of<uint64_t>(bad).has_value(), bad);
}
