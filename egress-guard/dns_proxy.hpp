#pragma once
// The DNS side of the guard: listens on 127.0.0.1 and ::1 (UDP and TCP) in
// the container's network namespace, where the ruleset redirects the
// container's DNS; refuses names the policy does not allow; forwards the
// rest and, before an answer reaches the client, puts its addresses in the
// ruleset's sets (SERVFAIL when that fails: an address the client learns is
// always one the ruleset lets through).
//
// The poll loop stays in the caller; each forwarded query (UDP) or client
// connection (TCP) is served on a thread of its own, at most kMaxClients of
// each at a time: beyond that a UDP query is dropped (the client retries)
// and a TCP connection closed.

#include <atomic>
#include <mutex>
#include <span>
#include <string>
#include <vector>

#include "egress-guard/config.hpp"
#include "egress-guard/dns_message.hpp"
#include "egress-guard/log_file.hpp"
#include "egress-guard/nft.hpp"
#include "egress-guard/set_update.hpp"

namespace agentrun::egress {

class DnsProxy {
 public:
  static constexpr int kMaxClients = 64;

  // `log` may be null. Opens the sockets in the current network namespace;
  // throws GuardError.
  DnsProxy(const DnsConfig& dns, const std::string& table, Nft& nft, LogFile* log);
  ~DnsProxy();
  DnsProxy(const DnsProxy&) = delete;
  DnsProxy& operator=(const DnsProxy&) = delete;

  const std::vector<int>& fds() const { return fds_; }
  // `fd` (one of fds()) is readable. Throws GuardError when a socket fails for good.
  void ready(int fd);

 private:
  void udp_query(int fd);
  void tcp_client(int fd);
  void serve_tcp(int client);
  // The reply to `query`, or empty to drop it.
  std::vector<uint8_t> answer(std::span<const uint8_t> query, bool tcp);
  std::vector<uint8_t> resolve(std::span<const uint8_t> query, const dns::Question& q, bool tcp);
  void log_line(const std::string& line);

  const DnsConfig& dns_;
  Nft& nft_;
  LogFile* log_;
  std::mutex nft_mutex_;  // the nft context and the set bookkeeping
  SetUpdates sets_;
  std::vector<int> fds_;
  std::vector<int> udp_;  // the UDP ones among fds_
  std::atomic<int> udp_busy_{0};
  std::atomic<int> tcp_busy_{0};
};

}  // namespace agentrun::egress
