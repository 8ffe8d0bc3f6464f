#include "runtime/confine/nft_install.hpp"

#include <fcntl.h>
#include <linux/netfilter/nf_tables.h>
#include <linux/netfilter/nfnetlink.h>
#include <linux/netlink.h>
#include <poll.h>
#include <sched.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include <cerrno>
#include <functional>
#include <vector>

#include "runtime/confine/nflog_bind.hpp"
#include "runtime/confine/nft_batch.hpp"
#include "runtime/confine/nft_owner.hpp"
#include "runtime/util/child_process.hpp"
#include "runtime/util/fd.hpp"
#include "runtime/util/netlink_messages.hpp"
#include "spec/error.hpp"

namespace agentrun::nft {
namespace {

constexpr const char* kStep = "network.egress: put the rules in the container's network namespace";
// Milliseconds on a host; an emulated guest may take seconds.
constexpr int64_t kAnswerTimeoutMs = 30000;

// A netfilter socket of the namespace at `netns`: a socket belongs to the
// namespace of the thread that makes it, which then goes back to its own.
UniqueFd socket_in(const std::string& netns, const std::string& step) {
  UniqueFd target(::open(netns.c_str(), O_RDONLY | O_CLOEXEC));
  if (!target) fail_errno(step + ": open " + netns, errno);
  UniqueFd own(::open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC));
  if (!own) fail_errno(step + ": open /proc/thread-self/ns/net", errno);
  struct stat t {}, o {};
  if (::fstat(target.get(), &t) != 0 || ::fstat(own.get(), &o) != 0) fail_errno(step + ": fstat " + netns, errno);
  // Rules in the runtime's own namespace (the host's) would confine the host, never the container.
  if (t.st_dev == o.st_dev && t.st_ino == o.st_ino) fail(step, netns + " is the runtime's own network namespace (the host's)");
  if (::setns(target.get(), CLONE_NEWNET) != 0) fail_errno(step + ": setns " + netns, errno);
  UniqueFd s(::socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_NETFILTER));
  const int err = errno;
  if (::setns(own.get(), CLONE_NEWNET) != 0) fail_errno(step + ": setns back to the runtime's network namespace", errno);
  if (!s) fail_errno(step + ": socket NETLINK_NETFILTER", err);
  return s;
}

void send_all(int s, const std::vector<uint8_t>& bytes) {
  sockaddr_nl kernel{};
  kernel.nl_family = AF_NETLINK;
  for (;;) {
    const ssize_t n =
        ::sendto(s, bytes.data(), bytes.size(), 0, reinterpret_cast<const sockaddr*>(&kernel), sizeof kernel);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) fail_errno(std::string(kStep) + ": send to nf_tables", errno);
    if (static_cast<size_t>(n) != bytes.size()) fail(kStep, "nf_tables took part of the batch");
    return;
  }
}

// Reads the kernel's messages until `take` says it has what it waits for.
void receive(int s, const std::function<bool(const nlmsghdr&)>& take) {
  std::vector<nlmsghdr> buf((1 << 16) / sizeof(nlmsghdr));
  const int64_t deadline = monotonic_ms() + kAnswerTimeoutMs;
  for (;;) {
    const int64_t left = deadline - monotonic_ms();
    if (left <= 0) fail(kStep, "nf_tables did not answer within 30 s");
    pollfd p{s, POLLIN, 0};
    const int ready = ::poll(&p, 1, static_cast<int>(left));
    if (ready < 0 && errno != EINTR) fail_errno(std::string(kStep) + ": poll", errno);
    if (ready <= 0) continue;
    const ssize_t n = ::recv(s, buf.data(), buf.size() * sizeof(nlmsghdr), 0);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) fail_errno(std::string(kStep) + ": receive from nf_tables", errno);
    for (const nlmsghdr& h : NetlinkMessages(buf.data(), static_cast<size_t>(n)))
      if (take(h)) return;
  }
}

int error_of(const nlmsghdr& h) {
  if (h.nlmsg_len < NLMSG_LENGTH(sizeof(nlmsgerr))) fail(kStep, "a short answer from nf_tables");
  return -static_cast<const nlmsgerr*>(NLMSG_DATA(&h))->error;
}

struct Refusal {
  int errnum = 0;
  std::string step;
};

// Sends the batch; the first of its messages the kernel refused, or the
// commit, if that failed. errnum 0: the transaction is in.
Refusal apply(int s, const Batch& b) {
  send_all(s, b.bytes);
  size_t waiting = b.steps.size();
  std::vector<int> answers(b.steps.size(), -1);
  Refusal commit;
  receive(s, [&](const nlmsghdr& h) {
    if (h.nlmsg_type != NLMSG_ERROR) return false;
    const int err = error_of(h);
    if (h.nlmsg_seq == b.begin_seq && err != 0) {
      commit = {err, "commit the transaction"};
      return true;
    }
    for (size_t i = 0; i < b.steps.size(); ++i)
      if (b.steps[i].first == h.nlmsg_seq && answers[i] < 0) {
        answers[i] = err;
        --waiting;
      }
    return waiting == 0;
  });
  for (size_t i = 0; i < answers.size(); ++i)
    if (answers[i] > 0) return {answers[i], b.steps[i].second};
  return commit;
}

std::optional<std::string> listed_comment(int s, const std::string& table, uint32_t seq) {
  send_all(s, get_table_request(table, seq));
  std::optional<std::string> comment;
  receive(s, [&](const nlmsghdr& h) {
    if (h.nlmsg_seq != seq) return false;
    if (h.nlmsg_type == ((NFNL_SUBSYS_NFTABLES << 8) | NFT_MSG_NEWTABLE) &&
        h.nlmsg_len >= NLMSG_LENGTH(sizeof(nfgenmsg))) {
      const auto* attrs = static_cast<const uint8_t*>(NLMSG_DATA(&h)) + NLMSG_ALIGN(sizeof(nfgenmsg));
      comment = table_comment(attrs, h.nlmsg_len - NLMSG_LENGTH(NLMSG_ALIGN(sizeof(nfgenmsg))));
      return false;
    }
    if (h.nlmsg_type != NLMSG_ERROR) return false;
    if (const int err = error_of(h); err != 0) fail_errno(std::string(kStep) + ": list table inet " + table, err);
    return true;
  });
  return comment;
}

}  // namespace

std::optional<HeldNamespace> hold_network_namespace(pid_t pid) {
  const std::string path = "/proc/" + std::to_string(pid) + "/ns/net";
  UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (!fd) {
    const int err = errno;
    // Gone only if it has exited (a child of ours, not reaped here): else no rules would be no refusal.
    siginfo_t info{};
    if (err == ENOENT && ::waitid(P_PID, static_cast<id_t>(pid), &info, WEXITED | WNOHANG | WNOWAIT) == 0 &&
        info.si_pid == pid)
      return std::nullopt;
    fail_errno(std::string(kStep) + ": open " + path, err);
  }
  std::string held = "/proc/self/fd/" + std::to_string(fd.get());
  return HeldNamespace{std::move(fd), std::move(held)};
}

std::string install_table(const std::string& netns, const Table& table) {
  const UniqueFd s = socket_in(netns, kStep);
  // Acknowledgements without a copy of the request.
  const int one = 1;
  if (::setsockopt(s.get(), SOL_NETLINK, NETLINK_CAP_ACK, &one, sizeof one) != 0)
    fail_errno(std::string(kStep) + ": NETLINK_CAP_ACK", errno);
  // A new namespace, the usual case, takes the table in one exchange.
  const Batch create = table_batch(table, false, 1);
  Refusal r = apply(s.get(), create);
  if (r.errnum == 0) return "";
  if (r.errnum != EEXIST || r.step != create.steps.front().second) fail_errno(std::string(kStep) + ": " + r.step, r.errnum);
  const FoundTable found = judge_found_table(listed_comment(s.get(), table.name, 1000), table.comment);
  if (found.action == FoundTable::Action::share) return found.owner;
  if (found.action == FoundTable::Action::refuse) fail("network.egress: ruleset", found.reason);
  // Its own table, from before a restart: replaced in one transaction (a
  // deletion waits for an RCU grace period, which only this case pays).
  r = apply(s.get(), table_batch(table, true, 2000));
  if (r.errnum != 0) fail_errno(std::string(kStep) + ": " + r.step, r.errnum);
  return "";
}

UniqueFd bound_nflog_socket(const std::string& netns, uint16_t group) {
  const std::string step = "network.egress: bind log group " + std::to_string(group) + " in the container's network namespace";
  UniqueFd s = socket_in(netns, step);
  if (const auto e = nflog::bind_group(s.get(), group)) {
    if (e->errnum == 0) fail(step, e->what);
    fail_errno(step + ": " + e->what, e->errnum);
  }
  return s;
}

}  // namespace agentrun::nft
