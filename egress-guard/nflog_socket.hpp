#pragma once
// The NFLOG group the ruleset logs to, read into the egress log. Bound in
// the network namespace the guard is in when it is made.

#include <cstdint>

#include "egress-guard/log_file.hpp"

namespace agentrun::egress {

class NflogSocket {
 public:
  static constexpr uint32_t kCopyRange = 128;  // enough for the IP and transport headers

  NflogSocket(uint16_t group, LogFile& log);  // throws GuardError
  ~NflogSocket();
  NflogSocket(const NflogSocket&) = delete;
  NflogSocket& operator=(const NflogSocket&) = delete;

  int fd() const { return fd_; }
  // Reads what is queued and logs it. Throws GuardError when the socket fails for good.
  void ready();

 private:
  int fd_ = -1;
  LogFile& log_;
};

}  // namespace agentrun::egress
