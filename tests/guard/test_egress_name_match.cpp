// Which names the guard's patterns allow.
#include <boost/test/unit_test.hpp>

#include "egress-guard/name_match.hpp"

using namespace agentrun::egress;

BOOST_AUTO_TEST_CASE(names_compare_without_case_or_trailing_dot) {
  BOOST_TEST(normalize_name("GitHub.Com.") == "github.com");
  BOOST_TEST(name_matches(normalize_name("GITHUB.COM."), *normalize_pattern("github.com")));
  BOOST_TEST(!name_matches("api.github.com", *normalize_pattern("github.com")));
  BOOST_TEST(!name_matches("notgithub.com", *normalize_pattern("github.com")));
}

BOOST_AUTO_TEST_CASE(a_wildcard_matches_below_its_name_only) {
  const std::string p = *normalize_pattern("*.Pkg.Example.com");
  BOOST_TEST(name_matches("a.pkg.example.com", p));
  BOOST_TEST(name_matches("a.b.pkg.example.com", p));
  BOOST_TEST(!name_matches("pkg.example.com", p));
  BOOST_TEST(!name_matches("evilpkg.example.com", p));
  BOOST_TEST(!name_matches("a.pkg.example.com.evil", p));
}

BOOST_AUTO_TEST_CASE(patterns_that_are_not_names_are_rejected) {
  for (const char* bad : {"", ".", "*", "*.", "a.*.b", "**.b", "a..b", ".a", "a b", "*.*.a"})
    BOOST_TEST(!normalize_pattern(bad).has_value(), bad);
  BOOST_TEST(*normalize_pattern("Example.COM.") == "example.com");
}
