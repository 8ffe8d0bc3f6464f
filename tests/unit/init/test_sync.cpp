// The protocol between the runtime and the processes it starts: every
// message type, descriptors, errors, and peers that close, die or send
// something that is not a message.
#include <boost/test/unit_test.hpp>

#include <errno.h>
#include <fcntl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstring>
#include <string>

#include "runtime/init/sync.hpp"

using namespace agentrun;

namespace {

// The wire header, as the protocol defines it.
struct WireHeader {
  uint32_t type;
  int32_t errnum;
  int64_t value;
  uint32_t step_len;
  uint32_t reason_len;
};

std::pair<SyncChannel, SyncChannel> pair() { return make_channel_pair().or_throw(); }

std::string receive_failure(SyncChannel& c) {
  auto m = c.receive();
  return m ? "<message>" : m.error().reason;
}

void send_raw(const SyncChannel& c, const void* data, size_t len) {
  BOOST_TEST_REQUIRE(::send(c.fd(), data, len, MSG_NOSIGNAL) == static_cast<ssize_t>(len));
}

}  // namespace

BOOST_AUTO_TEST_CASE(every_message_type_arrives_with_its_value) {
  auto [a, b] = pair();
  for (uint32_t t = static_cast<uint32_t>(MsgType::stage_ready); t <= static_cast<uint32_t>(MsgType::cgroup_joined);
       ++t) {
    if (static_cast<MsgType>(t) == MsgType::error || static_cast<MsgType>(t) == MsgType::report) continue;
    BOOST_TEST_REQUIRE(bool(a.send(static_cast<MsgType>(t), -1234567890123LL * t)));
    auto m = b.receive();
    BOOST_TEST_REQUIRE(bool(m));
    BOOST_TEST(static_cast<uint32_t>(m->type) == t);
    BOOST_TEST(m->value == -1234567890123LL * t);
    BOOST_TEST(!m->fd);
  }
}

BOOST_AUTO_TEST_CASE(errors_and_reports_keep_step_reason_and_errno) {
  auto [a, b] = pair();
  BOOST_TEST_REQUIRE(bool(a.send_error(Error{"mount proc on /proc", "", EPERM})));
  auto m = b.receive();
  BOOST_TEST_REQUIRE(bool(m));
  BOOST_TEST((m->type == MsgType::error));
  BOOST_TEST(m->error.message() == "mount proc on /proc: operation not permitted");
  BOOST_TEST_REQUIRE(bool(b.send_report("/bin/wget")));
  m = a.receive();
  BOOST_TEST_REQUIRE(bool(m));
  BOOST_TEST((m->type == MsgType::report));
  BOOST_TEST(m->error.step == "/bin/wget");
  // Texts too long for one message are cut, never sent as a broken one.
  const std::string huge(200 * 1024, 'x');
  BOOST_TEST_REQUIRE(bool(a.send_error(Error{huge, huge, EINVAL})));
  m = b.receive();
  BOOST_TEST_REQUIRE(bool(m));
  BOOST_TEST(m->error.errnum == EINVAL);
  BOOST_TEST(m->error.step.size() < huge.size());
  BOOST_TEST(m->error.step.find_first_not_of('x') == std::string::npos);
}

BOOST_AUTO_TEST_CASE(a_descriptor_travels_with_its_message) {
  auto [a, b] = pair();
  int p[2];
  BOOST_TEST_REQUIRE(::pipe2(p, O_CLOEXEC) == 0);
  BOOST_TEST_REQUIRE(bool(a.send(MsgType::seccomp_listener, 0, p[1])));
  ::close(p[1]);
  auto m = b.receive();
  BOOST_TEST_REQUIRE(bool(m));
  BOOST_TEST_REQUIRE(bool(m->fd));
  BOOST_TEST((::fcntl(m->fd.get(), F_GETFD) & FD_CLOEXEC) != 0);
  BOOST_TEST(::write(m->fd.get(), "x", 1) == 1);
  char c = 0;
  BOOST_TEST(::read(p[0], &c, 1) == 1);
  BOOST_TEST(c == 'x');
  ::close(p[0]);
}

BOOST_AUTO_TEST_CASE(a_closed_peer_reads_as_closed_and_refuses_sends) {
  auto [a, b] = pair();
  a.close();
  auto m = b.receive();
  BOOST_TEST_REQUIRE(!m);
  BOOST_TEST(m.error().errnum == EPIPE);
  BOOST_TEST(m.error().reason == "closed");
  Status s = b.send(MsgType::proceed);  // no SIGPIPE: an error
  BOOST_TEST_REQUIRE(!s);
  BOOST_TEST(s.error().errnum == EPIPE);
}

BOOST_AUTO_TEST_CASE(a_peer_that_dies_after_a_message_leaves_the_message_then_closed) {
  auto [a, b] = pair();
  pid_t child = ::fork();
  BOOST_TEST_REQUIRE(child >= 0);
  if (child == 0) {
    b.close();
    (void)a.send(MsgType::ready);
    ::_exit(0);  // the death of the peer, mid-conversation
  }
  a.close();
  auto m = b.receive();
  BOOST_TEST_REQUIRE(bool(m));
  BOOST_TEST((m->type == MsgType::ready));
  m = b.receive();
  BOOST_TEST(!m);
  BOOST_TEST(m.error().errnum == EPIPE);
  ::waitpid(child, nullptr, 0);
}

BOOST_AUTO_TEST_CASE(a_short_packet_is_not_a_message) {
  auto [a, b] = pair();
  send_raw(a, "abc", 3);
  BOOST_TEST(receive_failure(b) == "short message");
}

BOOST_AUTO_TEST_CASE(lengths_that_disagree_with_the_packet_are_malformed) {
  auto [a, b] = pair();
  WireHeader h{static_cast<uint32_t>(MsgType::error), EPERM, 0, 100, 0};
  std::string packet(reinterpret_cast<const char*>(&h), sizeof h);
  packet += "only a few bytes";
  send_raw(a, packet.data(), packet.size());
  BOOST_TEST(receive_failure(b) == "malformed message");
  // Lengths that would overflow a 32-bit sum are caught too.
  h.step_len = 0xffffffffu;
  h.reason_len = 0x20u;
  send_raw(a, &h, sizeof h);
  BOOST_TEST(receive_failure(b) == "malformed message");
}

BOOST_AUTO_TEST_CASE(an_unknown_type_is_refused) {
  auto [a, b] = pair();
  WireHeader h{999, 0, 0, 0, 0};
  send_raw(a, &h, sizeof h);
  BOOST_TEST(receive_failure(b) == "unknown message type 999");
  h.type = 0;
  send_raw(a, &h, sizeof h);
  BOOST_TEST(receive_failure(b) == "unknown message type 0");
}

BOOST_AUTO_TEST_CASE(a_packet_longer_than_any_message_is_refused_not_cut) {
  auto [a, b] = pair();
  std::string packet(80 * 1024, '\0');
  WireHeader h{static_cast<uint32_t>(MsgType::error), 0, 0, static_cast<uint32_t>(packet.size() - sizeof h), 0};
  std::memcpy(packet.data(), &h, sizeof h);
  int size = 256 * 1024;
  ::setsockopt(a.fd(), SOL_SOCKET, SO_SNDBUF, &size, sizeof size);
  send_raw(a, packet.data(), packet.size());
  BOOST_TEST(receive_failure(b) == "message too long");
}

BOOST_AUTO_TEST_CASE(more_descriptors_than_a_message_carries_are_refused) {
  auto [a, b] = pair();
  int fds[2] = {::dup(0), ::dup(1)};
  WireHeader h{static_cast<uint32_t>(MsgType::seccomp_listener), 0, 0, 0, 0};
  iovec iov{&h, sizeof h};
  alignas(cmsghdr) char control[CMSG_SPACE(sizeof fds)] = {};
  msghdr msg{};
  msg.msg_iov = &iov;
  msg.msg_iovlen = 1;
  msg.msg_control = control;
  msg.msg_controllen = sizeof control;
  cmsghdr* c = CMSG_FIRSTHDR(&msg);
  c->cmsg_level = SOL_SOCKET;
  c->cmsg_type = SCM_RIGHTS;
  c->cmsg_len = CMSG_LEN(sizeof fds);
  std::memcpy(CMSG_DATA(c), fds, sizeof fds);
  BOOST_TEST_REQUIRE(::sendmsg(a.fd(), &msg, MSG_NOSIGNAL) == static_cast<ssize_t>(sizeof h));
  ::close(fds[0]);
  ::close(fds[1]);
  BOOST_TEST(receive_failure(b) == "more descriptors than expected");
}

BOOST_AUTO_TEST_CASE(the_last_words_of_a_peer_that_left_messages_unread_arrive) {
  // An init that fails before reading the runtime's news: its error must
  // still reach the runtime, not a connection reset.
  auto [a, b] = pair();
  BOOST_TEST_REQUIRE(bool(a.send(MsgType::cgroup_joined)));  // never read by b
  BOOST_TEST_REQUIRE(bool(b.send_error(Error{"cwd /nosuch", "it does not exist", 0})));
  b.close();
  auto m = a.receive();
  BOOST_TEST_REQUIRE(bool(m));
  BOOST_TEST((m->type == MsgType::error));
  BOOST_TEST(m->error.step == "cwd /nosuch");
  m = a.receive();
  BOOST_TEST_REQUIRE(!m);
  BOOST_TEST(m.error().errnum == EPIPE);
}
