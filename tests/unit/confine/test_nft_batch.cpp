// The egress table as data, its nft text and its netlink batch, without a
// kernel (the runtime test nft_install holds the batch to nft's bytecode),
// and what is done about a table found in place.
#include <boost/test/unit_test.hpp>

#include <linux/netfilter/nf_tables.h>
#include <linux/netfilter/nfnetlink.h>
#include <linux/netlink.h>
#include <netinet/in.h>

#include <algorithm>
#include <cstring>
#include <string>
#include <vector>

#include "runtime/confine/nft_batch.hpp"
#include "runtime/confine/nft_owner.hpp"
#include "spec/error.hpp"

using namespace agentrun::nft;

namespace {

Rule to(const std::string& network) {
  Rule r;
  set_destination(r, network);
  return r;
}

struct Message {
  uint16_t type, flags;
  uint32_t seq;
  std::vector<uint8_t> attributes;
};

std::vector<Message> messages_of(const std::vector<uint8_t>& bytes) {
  std::vector<Message> out;
  size_t at = 0;
  while (at + sizeof(nlmsghdr) <= bytes.size()) {
    nlmsghdr h;
    std::memcpy(&h, bytes.data() + at, sizeof h);
    BOOST_TEST_REQUIRE(h.nlmsg_len >= NLMSG_LENGTH(sizeof(nfgenmsg)));
    BOOST_TEST_REQUIRE(at + h.nlmsg_len <= bytes.size());
    const size_t attrs = at + NLMSG_LENGTH(sizeof(nfgenmsg));
    out.push_back({h.nlmsg_type, h.nlmsg_flags, h.nlmsg_seq,
                   std::vector<uint8_t>(bytes.begin() + static_cast<long>(attrs),
                                        bytes.begin() + static_cast<long>(at + h.nlmsg_len))});
    at += NLMSG_ALIGN(h.nlmsg_len);
  }
  BOOST_TEST(at == bytes.size());
  return out;
}

constexpr uint16_t nft_type(int msg) { return static_cast<uint16_t>((NFNL_SUBSYS_NFTABLES << 8) | msg); }

bool contains(const std::vector<uint8_t>& bytes, const std::string& text) {
  return std::search(bytes.begin(), bytes.end(), text.begin(), text.end()) != bytes.end();
}

}  // namespace

BOOST_AUTO_TEST_CASE(networks_are_read_with_their_family_and_prefix) {
  const Rule a = to("10.1.0.0/16");
  BOOST_TEST(a.family == 4);
  BOOST_TEST(a.prefix == 16u);
  BOOST_TEST(a.address[0] == 10);
  BOOST_TEST(to("192.0.2.1").prefix == 32u);
  BOOST_TEST(to("fe80::/10").family == 6);
  BOOST_TEST(to("::1").prefix == 128u);
  BOOST_TEST(to("0.0.0.0/0").prefix == 0u);
  for (const char* bad : {"10.1.2.3/8", "10.0.0.0/33", "10.0.0.0/", "10.0.0.0/x", "example.com", "fe80::1/10", ""})
    BOOST_CHECK_THROW(to(bad), agentrun::Failure);
}

BOOST_AUTO_TEST_CASE(rules_are_written_as_nft_writes_them) {
  Rule lo;
  lo.kind = Rule::Kind::loopback;
  BOOST_TEST(rule_text(lo) == "oif \"lo\" accept");
  Rule r = to("192.0.2.0/24");
  r.protocol = IPPROTO_TCP;
  r.port_from = 8000;
  r.port_to = 8080;
  r.counter = true;
  r.log_prefix = "agentrun deny 2";
  r.log_group = 1416;
  r.verdict = Verdict::reject;
  BOOST_TEST(rule_text(r) ==
             "ip daddr 192.0.2.0/24 tcp dport 8000-8080 counter log prefix \"agentrun deny 2\" group 1416 reject "
             "with icmpx admin-prohibited");
  Rule udp = to("2001:db8::1");
  udp.protocol = IPPROTO_UDP;
  BOOST_TEST(rule_text(udp) == "ip6 daddr 2001:db8::1 meta l4proto udp accept");
  Rule any = to("0.0.0.0/0");
  any.protocol = IPPROTO_TCP;
  any.port_from = any.port_to = 22;
  BOOST_TEST(rule_text(any) == "meta nfproto ipv4 tcp dport 22 accept");
  Rule nd;
  nd.family = 6;
  nd.protocol = IPPROTO_ICMPV6;
  nd.icmpv6_type = 135;
  BOOST_TEST(rule_text(nd) == "icmpv6 type nd-neighbor-solicit accept");
}

BOOST_AUTO_TEST_CASE(the_batch_makes_the_table_its_chain_and_each_rule_in_one_transaction) {
  Table t{"agentrun", "agentrun c1 0123", {to("10.0.0.0/8"), to("fe80::/10")}};
  const Batch b = table_batch(t, false, 7);
  const auto m = messages_of(b.bytes);
  BOOST_TEST_REQUIRE(m.size() == 6u);
  BOOST_TEST(m.front().type == NFNL_MSG_BATCH_BEGIN);
  BOOST_TEST(m.back().type == NFNL_MSG_BATCH_END);
  BOOST_TEST(m[1].type == nft_type(NFT_MSG_NEWTABLE));
  BOOST_TEST((m[1].flags & NLM_F_EXCL) != 0);  // never over a table in place
  BOOST_TEST(m[2].type == nft_type(NFT_MSG_NEWCHAIN));
  BOOST_TEST(m[3].type == nft_type(NFT_MSG_NEWRULE));
  BOOST_TEST(m[4].type == nft_type(NFT_MSG_NEWRULE));
  BOOST_TEST(contains(m[4].attributes, "bitwise"));  // a prefix off a byte boundary is masked
  BOOST_TEST(!contains(m[3].attributes, "bitwise"));
  // Each message between begin and end is answered, under its own number.
  BOOST_TEST(b.begin_seq == 7u);
  BOOST_TEST_REQUIRE(b.steps.size() == 4u);
  for (size_t i = 0; i < 4; ++i) {
    BOOST_TEST(b.steps[i].first == m[i + 1].seq);
    BOOST_TEST((m[i + 1].flags & NLM_F_ACK) != 0);
  }
  BOOST_TEST(b.steps[0].second == "create table inet agentrun");
  BOOST_TEST(b.steps[3].second == "add rule `ip6 daddr fe80::/10 accept`");
  // The comment, as libnftnl keeps it, reads back.
  BOOST_TEST((table_comment(m[1].attributes.data(), m[1].attributes.size()) == std::optional<std::string>(t.comment)));
  t.comment.clear();
  const auto bare = messages_of(table_batch(t, false, 1).bytes);
  BOOST_TEST(!table_comment(bare[1].attributes.data(), bare[1].attributes.size()));
}

BOOST_AUTO_TEST_CASE(a_replacement_deletes_the_table_in_the_same_transaction) {
  const auto m = messages_of(table_batch({"agentrun", "c", {}}, true, 1).bytes);
  BOOST_TEST_REQUIRE(m.size() == 5u);
  BOOST_TEST(m[1].type == nft_type(NFT_MSG_DELTABLE));
  BOOST_TEST(m[2].type == nft_type(NFT_MSG_NEWTABLE));
  BOOST_CHECK_THROW(table_batch({"agentrun", std::string(128, 'x'), {}}, false, 1), agentrun::Failure);
}

BOOST_AUTO_TEST_CASE(a_table_in_place_is_shared_replaced_or_refused_by_its_comment) {
  const std::string ours = "agentrun c2 aaaa";
  const FoundTable same_rules = judge_found_table(std::string("agentrun c1 aaaa"), ours);
  BOOST_TEST((same_rules.action == FoundTable::Action::share));
  BOOST_TEST(same_rules.owner == "c1");
  BOOST_TEST((judge_found_table(std::string("agentrun c2 bbbb"), ours).action == FoundTable::Action::replace));
  const FoundTable other = judge_found_table(std::string("agentrun c1 bbbb"), ours);
  BOOST_TEST((other.action == FoundTable::Action::refuse));
  BOOST_TEST(other.reason.find("(agentrun c1 bbbb)") != std::string::npos);
  for (const std::optional<std::string>& theirs :
       {std::optional<std::string>(), std::optional<std::string>("mine"), std::optional<std::string>("agentrun c2"),
        std::optional<std::string>("agentrun c2 aaaa extra"), std::optional<std::string>("agentrun  aaaa")})
    BOOST_TEST((judge_found_table(theirs, ours).action == FoundTable::Action::refuse));
}
