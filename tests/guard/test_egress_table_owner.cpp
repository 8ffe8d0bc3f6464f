// Whose rules an egress table holds, from the runtime's comment.
#include <boost/test/unit_test.hpp>

#include "egress-guard/table_owner.hpp"

using agentrun::egress::table_owner;

BOOST_AUTO_TEST_CASE(the_owner_and_digest_come_from_the_comment) {
  const auto o = table_owner("table inet agentrun {\n\tcomment \"agentrun pod-1 abc123\"\n\tchain output {");
  BOOST_REQUIRE(o);
  BOOST_TEST(o->id == "pod-1");
  BOOST_TEST(o->digest == "abc123");
}

BOOST_AUTO_TEST_CASE(anything_else_has_no_owner) {
  for (const char* text : {"table inet agentrun {\n}", "comment \"someone else\"", "comment \"agentrun a b c\"",
                           "comment \"agentrun a\"", "comment \"agentrun a \"", "comment \"agentrun  b\"",
                           "comment \"agentrun a b"})
    BOOST_TEST(!table_owner(text), text);
}

BOOST_AUTO_TEST_CASE(the_table_is_created_first_with_the_rulesets_owner) {
  const std::string ruleset = "table inet agentrun {\n  comment \"agentrun c1 d1\"\n  chain output {\n  }\n}\n";
  const auto script = agentrun::egress::create_table_first("agentrun", ruleset);
  BOOST_REQUIRE(script);
  BOOST_TEST(*script == "create table inet agentrun { comment \"agentrun c1 d1\"; }\n" + ruleset);
  // Its owner is the ruleset's, so that a later guard finds it.
  BOOST_TEST(table_owner(script->substr(0, script->find('\n')))->id == "c1");
  BOOST_TEST(!agentrun::egress::create_table_first("agentrun", "table inet agentrun {\n}\n"));
}
