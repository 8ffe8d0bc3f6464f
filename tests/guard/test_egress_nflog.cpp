// NFLOG messages as the kernel sends them, read without a socket; and the
// JSON lines they become.
#include <boost/test/unit_test.hpp>

#include <linux/netfilter/nfnetlink.h>
#include <linux/netfilter/nfnetlink_log.h>
#include <linux/netlink.h>
#include <sys/socket.h>

#include <cstring>

#include "egress-guard/log_lines.hpp"
#include "egress-guard/nflog.hpp"

using namespace agentrun::egress;
using Bytes = std::vector<uint8_t>;

namespace {

// push_back, not insert: GCC 12 warns (-Warray-bounds) on inserting a braced list here.
void append(Bytes& m, std::initializer_list<uint8_t> bytes) {
  for (uint8_t b : bytes) m.push_back(b);
}

void attr(Bytes& m, uint16_t type, const Bytes& data) {
  const uint16_t len = static_cast<uint16_t>(NLA_HDRLEN + data.size());
  m.push_back(static_cast<uint8_t>(len));
  m.push_back(static_cast<uint8_t>(len >> 8));
  m.push_back(static_cast<uint8_t>(type));
  m.push_back(static_cast<uint8_t>(type >> 8));
  m.insert(m.end(), data.begin(), data.end());
  m.resize(NLA_ALIGN(m.size()), 0);
}

// One NFULNL_MSG_PACKET message (little-endian host, as the tests run on).
Bytes packet_message(const std::string& prefix, const Bytes& payload, std::optional<uint32_t> uid = {}) {
  Bytes m(NLMSG_HDRLEN, 0);
  append(m, {AF_INET, NFNETLINK_V0, 0x05, 0x88});
  attr(m, NFULA_PACKET_HDR, {0x08, 0x00, 3, 0});
  Bytes p(prefix.begin(), prefix.end());
  p.push_back(0);
  attr(m, NFULA_PREFIX, p);
  if (uid) attr(m, NFULA_UID, {static_cast<uint8_t>(*uid >> 24), static_cast<uint8_t>(*uid >> 16),
                               static_cast<uint8_t>(*uid >> 8), static_cast<uint8_t>(*uid)});
  attr(m, NFULA_PAYLOAD, payload);
  nlmsghdr h{};
  h.nlmsg_len = static_cast<uint32_t>(m.size());
  h.nlmsg_type = NFNL_SUBSYS_ULOG << 8 | NFULNL_MSG_PACKET;
  std::memcpy(m.data(), &h, sizeof h);
  return m;
}

// IPv4 10.0.0.2 -> 169.254.169.254, then a TCP header to port 80.
Bytes ipv4_tcp() {
  Bytes p = {0x45, 0, 0, 60, 0, 0, 0x40, 0, 64, 6, 0, 0, 10, 0, 0, 2, 169, 254, 169, 254};
  append(p, {0xC3, 0x50, 0, 80, 0, 0, 0, 0});
  return p;
}

}  // namespace

BOOST_AUTO_TEST_CASE(the_bind_requests_name_the_group_the_copy_range_and_no_batching) {
  const auto requests = nflog::bind_requests(1416, 128);
  BOOST_TEST_REQUIRE(requests.size() == 2u);
  for (const auto& r : requests) {
    nlmsghdr h;
    std::memcpy(&h, r.data(), sizeof h);
    BOOST_TEST(h.nlmsg_len == r.size());
    BOOST_TEST(h.nlmsg_type == (NFNL_SUBSYS_ULOG << 8 | NFULNL_MSG_CONFIG));
    BOOST_TEST((h.nlmsg_flags & NLM_F_ACK) != 0);
    BOOST_TEST(r[NLMSG_HDRLEN + 2] == 1416 >> 8);  // res_id, big-endian
    BOOST_TEST(r[NLMSG_HDRLEN + 3] == (1416 & 0xFF));
  }
  const auto& mode = requests[1];
  const size_t data = NLMSG_HDRLEN + 4 + NLA_HDRLEN;
  BOOST_TEST((mode[data] == 0 && mode[data + 1] == 0 && mode[data + 2] == 0 && mode[data + 3] == 128));
  BOOST_TEST(mode[data + 4] == NFULNL_COPY_PACKET);
  // Then the queue threshold: 1, no batching.
  const size_t qthresh = NLMSG_HDRLEN + 4 + NLA_ALIGN(NLA_HDRLEN + sizeof(nfulnl_msg_config_mode));
  BOOST_TEST_REQUIRE(mode.size() == qthresh + NLA_HDRLEN + 4);
  nlattr a;
  std::memcpy(&a, mode.data() + qthresh, sizeof a);
  BOOST_TEST(a.nla_type == NFULA_CFG_QTHRESH);
  BOOST_TEST(a.nla_len == NLA_HDRLEN + 4);
  BOOST_TEST((mode[qthresh + NLA_HDRLEN] == 0 && mode[qthresh + NLA_HDRLEN + 1] == 0 &&
              mode[qthresh + NLA_HDRLEN + 2] == 0 && mode[qthresh + NLA_HDRLEN + 3] == 1));
}

BOOST_AUTO_TEST_CASE(an_acknowledgement_says_success_or_the_errno) {
  Bytes ack(NLMSG_HDRLEN + sizeof(nlmsgerr), 0);
  nlmsghdr h{};
  h.nlmsg_len = static_cast<uint32_t>(ack.size());
  h.nlmsg_type = NLMSG_ERROR;
  std::memcpy(ack.data(), &h, sizeof h);
  BOOST_TEST(*nflog::ack_error(ack) == 0);
  const int busy = -EBUSY;
  std::memcpy(ack.data() + NLMSG_HDRLEN, &busy, sizeof busy);
  BOOST_TEST(*nflog::ack_error(ack) == EBUSY);
  BOOST_TEST(!nflog::ack_error(packet_message("x", {})).has_value());
}

BOOST_AUTO_TEST_CASE(a_denied_tcp_packet_becomes_a_json_line) {
  Bytes d = packet_message("agentrun deny 3", ipv4_tcp(), 1000);
  const Bytes second = packet_message("agentrun allow", ipv4_tcp());
  d.insert(d.end(), second.begin(), second.end());
  const auto packets = nflog::parse(d);
  BOOST_TEST_REQUIRE(packets.size() == 2u);
  BOOST_TEST(packets[0].prefix == "agentrun deny 3");
  BOOST_TEST(*packets[0].uid == 1000u);
  BOOST_TEST(packet_line("T", packets[0]) ==
             R"({"time":"T","action":"deny","rule":"3","protocol":"tcp","destination":"169.254.169.254","port":80,)"
             R"("source":"10.0.0.2","uid":1000})");
  BOOST_TEST(packet_line("T", packets[1]).starts_with(R"({"time":"T","action":"allow","protocol":"tcp")"));
}

BOOST_AUTO_TEST_CASE(ipv6_extension_headers_and_icmp_are_followed) {
  Bytes p(40, 0);
  p[0] = 0x60;
  p[6] = 0;  // hop-by-hop options, 8 bytes, then ICMPv6
  p[8] = 0xfd;
  p[24] = 0x20;
  p[25] = 0x01;
  append(p, {58, 0, 0, 0, 0, 0, 0, 0});
  append(p, {128, 0, 0, 0});  // echo request
  const auto s = nflog::summarize(p);
  BOOST_TEST_REQUIRE(s.has_value());
  BOOST_TEST(s->protocol == "icmpv6");
  BOOST_TEST(*s->icmp_type == 128);
  BOOST_TEST(s->source == "fd00::");
  BOOST_TEST(s->destination == "2001::");
  BOOST_TEST(!s->port.has_value());
}

BOOST_AUTO_TEST_CASE(short_or_broken_payloads_and_messages_do_not_throw) {
  const Bytes full = ipv4_tcp();
  for (size_t n = 0; n <= full.size(); ++n) (void)nflog::summarize(std::span(full.data(), n));
  BOOST_TEST(!nflog::summarize(Bytes{0x45, 0, 0}).has_value());
  const Bytes m = packet_message("agentrun deny 1", full);
  for (size_t n = 0; n < m.size(); ++n) {
    Bytes cut(m.begin(), m.begin() + static_cast<std::ptrdiff_t>(n));
    BOOST_TEST(nflog::parse(cut).empty(), "length " << n);  // the header says more than there is
  }
  Bytes lying = m;
  lying[NLMSG_HDRLEN + 4] = 0xFF;  // the first attribute claims 255 bytes
  const auto packets = nflog::parse(lying);
  BOOST_TEST_REQUIRE(packets.size() == 1u);
  BOOST_TEST(packets[0].payload.empty());
}

BOOST_AUTO_TEST_CASE(a_foreign_prefix_is_kept_whole) {
  nflog::Packet p;
  p.prefix = "other \"thing\"";
  BOOST_TEST(packet_line("T", p) == R"({"time":"T","action":"log","prefix":"other \"thing\""})");
}
