#include <boost/test/unit_test.hpp>

#include <initializer_list>

#include "runtime/cgroup/oom_kills.hpp"

using namespace agentrun;

namespace {

// One reading as memory.events gives it: the leaf's "oom" and "oom_kill",
// and the parent's "oom_kill".
struct Reading {
  uint64_t ooms;
  uint64_t kills;
  std::optional<uint64_t> parent_kills;
};

// The count once the cgroup is gone, after `readings`.
uint64_t count_when_gone(std::initializer_list<Reading> readings, std::optional<uint64_t> parent_kills_now) {
  OomKills k;
  for (const auto& r : readings) k.read(r.ooms, r.kills, r.parent_kills);
  k.gone(parent_kills_now);
  BOOST_TEST(k.is_gone());
  return k.kills();
}

}  // namespace

BOOST_AUTO_TEST_CASE(the_kills_read_are_the_count_and_stay_once_the_cgroup_is_gone) {
  OomKills k;
  k.read(0, 0, 5);
  BOOST_TEST(k.kills() == 0u);
  k.read(2, 1, 6);
  BOOST_TEST(k.kills() == 1u);
  k.gone(6);
  BOOST_TEST(k.kills() == 1u);
  k.read(9, 9, 9);  // nothing is read from a cgroup that is gone
  k.gone(9);
  BOOST_TEST(k.kills() == 1u);
}

BOOST_AUTO_TEST_CASE(an_announced_oom_whose_kill_only_the_parent_counted_is_one_kill) {
  // Announced twice, not killed yet; gone before the kill could be read.
  BOOST_TEST(count_when_gone({{0, 0, 5}, {2, 0, 5}}, 6) == 1u);
  BOOST_TEST(count_when_gone({{0, 0, 5}, {2, 0, 5}}, 9) == 1u);  // the rest are siblings'
}

BOOST_AUTO_TEST_CASE(what_is_not_both_announced_here_and_killed_in_the_parent_counts_nothing) {
  BOOST_TEST(count_when_gone({{0, 0, 5}, {0, 0, 5}}, 8) == 0u);  // a sibling's kill
  BOOST_TEST(count_when_gone({{0, 0, 5}, {1, 0, 5}}, 5) == 0u);  // an OOM without a kill
  BOOST_TEST(count_when_gone({{4, 1, 5}}, 6) == 1u);             // announced before `events` watched
  BOOST_TEST(count_when_gone({{0, 0, std::nullopt}, {2, 0, std::nullopt}}, std::nullopt) == 0u);  // no parent count
  BOOST_TEST(count_when_gone({}, 3) == 0u);  // never read
}

BOOST_AUTO_TEST_CASE(announcements_after_a_kill_that_was_read_need_a_kill_of_their_own) {
  BOOST_TEST(count_when_gone({{0, 0, 5}, {1, 1, 6}, {1, 1, 6}}, 6) == 1u);
  // Announced again while the victim dies.
  BOOST_TEST(count_when_gone({{0, 0, 5}, {1, 1, 6}, {3, 1, 6}}, 6) == 1u);
  BOOST_TEST(count_when_gone({{0, 0, 5}, {1, 1, 6}, {3, 1, 6}}, 7) == 2u);
}
