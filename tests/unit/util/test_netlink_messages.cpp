// Walking the messages of a netlink datagram: every complete one in order,
// padding skipped, and a broken length ends the walk instead of reading on.
#include <boost/test/unit_test.hpp>

#include <cstring>
#include <vector>

#include "runtime/util/netlink_messages.hpp"

using agentrun::NetlinkMessages;

namespace {

// A datagram of messages with these payload lengths (each padded to 4 bytes).
std::vector<nlmsghdr> datagram(const std::vector<uint32_t>& payloads, size_t* len) {
  std::vector<nlmsghdr> buf(64);
  auto* at = reinterpret_cast<char*>(buf.data());
  size_t used = 0;
  for (size_t i = 0; i < payloads.size(); ++i) {
    nlmsghdr h{};
    h.nlmsg_len = NLMSG_LENGTH(payloads[i]);
    h.nlmsg_seq = static_cast<uint32_t>(i + 1);
    std::memcpy(at + used, &h, sizeof h);
    used += NLMSG_ALIGN(h.nlmsg_len);
  }
  *len = used;
  return buf;
}

std::vector<uint32_t> seqs(const void* data, size_t len) {
  std::vector<uint32_t> out;
  for (const nlmsghdr& h : NetlinkMessages(data, len)) out.push_back(h.nlmsg_seq);
  return out;
}

}  // namespace

BOOST_AUTO_TEST_CASE(every_message_in_order_past_its_padding) {
  size_t len = 0;
  const auto buf = datagram({0, 3, 8, 1}, &len);
  BOOST_TEST(seqs(buf.data(), len) == (std::vector<uint32_t>{1, 2, 3, 4}));
  BOOST_TEST(seqs(buf.data(), 0).empty());
}

BOOST_AUTO_TEST_CASE(a_cut_message_or_a_broken_length_ends_the_walk) {
  size_t len = 0;
  auto buf = datagram({4, 4, 4}, &len);
  BOOST_TEST(seqs(buf.data(), len - 1) == (std::vector<uint32_t>{1, 2}));  // the last one cut short
  BOOST_TEST(seqs(buf.data(), sizeof(nlmsghdr) - 1).empty());
  auto* second = reinterpret_cast<nlmsghdr*>(reinterpret_cast<char*>(buf.data()) + NLMSG_ALIGN(NLMSG_LENGTH(4)));
  second->nlmsg_len = 0;  // would loop on the same message forever
  BOOST_TEST(seqs(buf.data(), len) == (std::vector<uint32_t>{1}));
  second->nlmsg_len = 1000;  // claims more than there is
  BOOST_TEST(seqs(buf.data(), len) == (std::vector<uint32_t>{1}));
}
