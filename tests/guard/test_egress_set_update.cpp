// The nft commands that put answered addresses in the sets, and the
// bookkeeping that keeps each element's timeout at the longest one asked.
#include <boost/test/unit_test.hpp>

#include <sys/socket.h>

#include "egress-guard/set_update.hpp"

using namespace agentrun::egress;

namespace {

dns::Address v4(uint8_t last, uint32_t ttl) {
  dns::Address a;
  a.family = AF_INET;
  a.bytes = {10, 0, 0, last};
  a.ttl = ttl;
  return a;
}

}  // namespace

BOOST_AUTO_TEST_CASE(elements_go_to_the_port_sets_and_an_empty_list_to_the_any_sets) {
  const NameRule ports{"github.com", {"tcp . 443"}};
  const NameRule any{"*.example.com", {}};
  dns::Address six;
  six.family = AF_INET6;
  six.bytes = {0x20, 0x01, 0x0d, 0xb8};
  six.ttl = 30;
  const SetUpdates sets("agentrun", 5, 3600);
  const auto batch = sets.plan({&ports, &any}, {v4(1, 30), six}, 0);
  BOOST_TEST(batch.commands ==
             "add element inet agentrun names4 { 10.0.0.1 . tcp . 443 timeout 30s }\n"
             "delete element inet agentrun names4 { 10.0.0.1 . tcp . 443 }\n"
             "add element inet agentrun names4 { 10.0.0.1 . tcp . 443 timeout 30s }\n"
             "add element inet agentrun names4_any { 10.0.0.1 timeout 30s }\n"
             "delete element inet agentrun names4_any { 10.0.0.1 }\n"
             "add element inet agentrun names4_any { 10.0.0.1 timeout 30s }\n"
             "add element inet agentrun names6 { 2001:db8:: . tcp . 443 timeout 30s }\n"
             "delete element inet agentrun names6 { 2001:db8:: . tcp . 443 }\n"
             "add element inet agentrun names6 { 2001:db8:: . tcp . 443 timeout 30s }\n"
             "add element inet agentrun names6_any { 2001:db8:: timeout 30s }\n"
             "delete element inet agentrun names6_any { 2001:db8:: }\n"
             "add element inet agentrun names6_any { 2001:db8:: timeout 30s }\n");
}

BOOST_AUTO_TEST_CASE(ttls_are_clamped) {
  const NameRule any{"a.example", {}};
  const SetUpdates sets("t", 5, 600);
  BOOST_TEST(sets.plan({&any}, {v4(1, 0)}, 0).commands.find("timeout 5s") != std::string::npos);
  BOOST_TEST(sets.plan({&any}, {v4(1, 86400)}, 0).commands.find("timeout 600s") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(a_shorter_answer_later_keeps_the_longer_timeout_running) {
  const NameRule any{"a.example", {}};
  SetUpdates sets("t", 1, 3600);
  const auto first = sets.plan({&any}, {v4(1, 300)}, 0);
  sets.remember(first, 0);
  // 100 s later, an answer with TTL 10: 200 s of the first are left.
  const auto second = sets.plan({&any}, {v4(1, 10)}, 100000);
  BOOST_TEST(second.commands.find("timeout 200s") != std::string::npos, second.commands);
  sets.remember(second, 100000);
  // After the first ran out, the new TTL alone counts.
  BOOST_TEST(sets.plan({&any}, {v4(1, 10)}, 400000).commands.find("timeout 10s") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(a_batch_that_was_not_applied_is_not_remembered) {
  const NameRule any{"a.example", {}};
  const SetUpdates sets("t", 1, 3600);
  (void)sets.plan({&any}, {v4(1, 300)}, 0);
  BOOST_TEST(sets.plan({&any}, {v4(1, 10)}, 0).commands.find("timeout 10s") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(an_address_repeated_in_one_answer_is_written_once_with_its_longest_ttl) {
  const NameRule any{"a.example", {}};
  const SetUpdates sets("t", 1, 3600);
  const auto batch = sets.plan({&any, &any}, {v4(1, 10), v4(1, 50)}, 0);
  BOOST_TEST(batch.expiries.size() == 1u);
  BOOST_TEST(batch.commands == "add element inet t names4_any { 10.0.0.1 timeout 50s }\n"
                               "delete element inet t names4_any { 10.0.0.1 }\n"
                               "add element inet t names4_any { 10.0.0.1 timeout 50s }\n");
}

BOOST_AUTO_TEST_CASE(no_addresses_no_commands) {
  const NameRule any{"a.example", {}};
  const SetUpdates sets("t", 1, 3600);
  BOOST_TEST(sets.plan({&any}, {}, 0).commands.empty());
}
