// The egress table's comment in an nft script or listing, and the script
// that makes the table first (what a found table's comment means is
// runtime/confine/nft_owner's, tested in unit/confine/test_nft_batch).
#include <boost/test/unit_test.hpp>

#include "egress-guard/table_owner.hpp"

using agentrun::egress::table_comment;

BOOST_AUTO_TEST_CASE(the_comment_comes_from_the_listing) {
  BOOST_TEST(table_comment("table inet agentrun {\n\tcomment \"agentrun pod-1 abc123\"\n\tchain output {").value() ==
             "agentrun pod-1 abc123");
  BOOST_TEST(table_comment("comment \"\"").value() == "");
}

BOOST_AUTO_TEST_CASE(without_a_whole_comment_there_is_none) {
  for (const char* text : {"table inet agentrun {\n}", "comment \"agentrun a b", "comment agentrun a b"})
    BOOST_TEST(!table_comment(text), text);
}

BOOST_AUTO_TEST_CASE(the_table_is_created_first_with_the_rulesets_comment) {
  const std::string ruleset = "table inet agentrun {\n  comment \"agentrun c1 d1\"\n  chain output {\n  }\n}\n";
  const auto script = agentrun::egress::create_table_first("agentrun", ruleset);
  BOOST_REQUIRE(script);
  BOOST_TEST(*script == "create table inet agentrun { comment \"agentrun c1 d1\"; }\n" + ruleset);
  // Its comment is the ruleset's, so that a later guard finds whose it is.
  BOOST_TEST(table_comment(script->substr(0, script->find('\n'))).value() == "agentrun c1 d1");
  BOOST_TEST(!agentrun::egress::create_table_first("agentrun", "table inet agentrun {\n}\n"));
}
