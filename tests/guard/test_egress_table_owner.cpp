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
