// The guard's DNS codec: the question of a query, rcode-only replies, and
// the addresses of an answer, against well-formed and hostile messages.
#include <boost/test/unit_test.hpp>

#include <sys/socket.h>

#include "egress-guard/dns_message.hpp"
#include "egress-guard/set_update.hpp"
#include "support/dns_wire.hpp"

using namespace agentrun::egress;
using test::dns::Bytes;

BOOST_AUTO_TEST_CASE(question_of_a_query_is_lower_case_without_the_root) {
  const Bytes q = test::dns::query(0x1234, "GitHub.COM", 28);
  const auto parsed = dns::parse_query(q);
  BOOST_TEST_REQUIRE(parsed.has_value());
  BOOST_TEST(parsed->name == "github.com");
  BOOST_TEST(parsed->plain);
  BOOST_TEST(parsed->id == 0x1234);
  BOOST_TEST(parsed->type == 28);
  BOOST_TEST(parsed->end == q.size());
}

BOOST_AUTO_TEST_CASE(a_label_with_a_dot_or_odd_bytes_is_not_a_plain_name) {
  Bytes q = test::dns::query(1, "xgithub.com");
  q[13] = '.';  // the label "x.github" holds a dot: not the name github.com's child
  const auto parsed = dns::parse_query(q);
  BOOST_TEST_REQUIRE(parsed.has_value());
  BOOST_TEST(!parsed->plain);
  BOOST_TEST(parsed->name == "\\046github.com");
}

BOOST_AUTO_TEST_CASE(replies_other_opcodes_and_several_questions_are_not_queries) {
  Bytes reply = test::dns::query(1, "a.example");
  reply[2] |= 0x80;
  BOOST_TEST(!dns::parse_query(reply).has_value());
  Bytes notify = test::dns::query(1, "a.example");
  notify[2] |= 4 << 3;
  BOOST_TEST(!dns::parse_query(notify).has_value());
  Bytes two = test::dns::query(1, "a.example");
  two[5] = 2;
  BOOST_TEST(!dns::parse_query(two).has_value());
  BOOST_TEST(!dns::parse_query(Bytes(11, 0)).has_value());
}

BOOST_AUTO_TEST_CASE(every_truncation_of_a_query_is_rejected) {
  const Bytes q = test::dns::query(7, "www.example.com");
  for (size_t n = 0; n < q.size(); ++n)
    BOOST_TEST(!dns::parse_query(std::span(q.data(), n)).has_value(), "length " << n);
}

BOOST_AUTO_TEST_CASE(compression_pointers_that_loop_or_point_forward_are_rejected) {
  Bytes self = test::dns::query(1, "");
  self.resize(12);
  self.insert(self.end(), {0xC0, 0x0C, 0, 1, 0, 1});  // a pointer to itself
  BOOST_TEST(!dns::parse_query(self).has_value());
  Bytes forward = test::dns::query(1, "");
  forward.resize(12);
  forward.insert(forward.end(), {0xC0, 0x10, 0, 1, 0, 1, 0});  // to a later byte
  BOOST_TEST(!dns::parse_query(forward).has_value());
  Bytes reserved = test::dns::query(1, "a");
  reserved[12] = 0x41;  // label type 01
  BOOST_TEST(!dns::parse_query(reserved).has_value());
}

BOOST_AUTO_TEST_CASE(a_name_longer_than_255_octets_is_rejected) {
  std::string name;
  for (int i = 0; i < 5; ++i) name += std::string(60, 'a') + ".";
  name += "com";
  BOOST_TEST(!dns::parse_query(test::dns::query(1, name)).has_value());
}

BOOST_AUTO_TEST_CASE(a_refusal_keeps_id_opcode_rd_and_question_and_drops_the_rest) {
  Bytes q = test::dns::query(0xBEEF, "evil.example");
  const size_t question_end = q.size();
  q[11] = 1;  // an additional record (EDNS) that the reply must not claim
  q.insert(q.end(), {0, 0, 41, 0x10, 0, 0, 0, 0, 0, 0, 0});
  const auto parsed = dns::parse_query(q);
  BOOST_TEST_REQUIRE(parsed.has_value());
  const Bytes r = dns::rcode_reply(q, *parsed, dns::kRefused);
  BOOST_TEST(r.size() == question_end);
  BOOST_TEST(r[0] == 0xBE);
  BOOST_TEST(r[1] == 0xEF);
  BOOST_TEST(r[2] == 0x81);  // QR and RD
  BOOST_TEST(r[3] == 0x85);  // RA and REFUSED
  BOOST_TEST((r[4] == 0 && r[5] == 1 && r[6] == 0 && r[7] == 0 && r[10] == 0 && r[11] == 0));
}

BOOST_AUTO_TEST_CASE(every_address_of_the_answer_counts_cname_or_not) {
  Bytes cname_target;
  test::dns::put_name(cname_target, "edge.example.net");
  Bytes a = test::dns::answer(9, "github.com",
                              {{5, 300, cname_target},
                               {1, 30, {140, 82, 121, 4}},
                               {28, 60, {0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1}}});
  const auto addresses = dns::read_answer(a, 9, 3600);
  BOOST_TEST_REQUIRE(addresses.has_value());
  BOOST_TEST_REQUIRE(addresses->size() == 2u);
  BOOST_TEST(address_text((*addresses)[0]) == "140.82.121.4");
  BOOST_TEST((*addresses)[0].ttl == 30u);
  BOOST_TEST((*addresses)[1].family == AF_INET6);
  BOOST_TEST(address_text((*addresses)[1]) == "2001:db8::1");
}

BOOST_AUTO_TEST_CASE(answer_ttls_above_the_maximum_are_lowered_in_the_reply) {
  Bytes a = test::dns::answer(9, "a.example", {{1, 86400, {10, 0, 0, 1}}});
  const auto addresses = dns::read_answer(a, 9, 600);
  BOOST_TEST_REQUIRE(addresses.has_value());
  BOOST_TEST((*addresses)[0].ttl == 600u);
  const size_t ttl_at = a.size() - 4 - 2 - 4;
  BOOST_TEST(((a[ttl_at] << 24) | (a[ttl_at + 1] << 16) | (a[ttl_at + 2] << 8) | a[ttl_at + 3]) == 600);
}

BOOST_AUTO_TEST_CASE(an_answer_with_another_id_or_bad_records_is_not_relayed) {
  Bytes a = test::dns::answer(9, "a.example", {{1, 30, {10, 0, 0, 1}}});
  BOOST_TEST(!dns::read_answer(a, 10, 600).has_value());
  Bytes short_a = test::dns::answer(9, "a.example", {{1, 30, {10, 0, 0}}});
  BOOST_TEST(!dns::read_answer(short_a, 9, 600).has_value());
  for (size_t n = 12; n < a.size(); ++n) {
    Bytes cut(a.begin(), a.begin() + static_cast<std::ptrdiff_t>(n));
    BOOST_TEST(!dns::read_answer(cut, 9, 600).has_value(), "length " << n);
  }
}

BOOST_AUTO_TEST_CASE(an_answer_whose_record_names_loop_is_rejected) {
  Bytes a = test::dns::answer(9, "a.example", {{1, 30, {10, 0, 0, 1}}});
  const size_t owner = test::dns::query(9, "a.example").size();
  a[owner] = 0xC0;
  a[owner + 1] = static_cast<uint8_t>(owner);  // points at itself
  BOOST_TEST(!dns::read_answer(a, 9, 600).has_value());
}
