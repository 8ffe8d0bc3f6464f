#pragma once
// The NFLOG group the ruleset logs to, read into the egress log: bound by
// the guard in the network namespace it is in, or by the runtime in the
// container's before the container's process ran (--nflog-fd).

#include <cstdint>

#include "egress-guard/log_file.hpp"

namespace agentrun::egress {

class NflogSocket {
 public:
  // A socket the runtime bound to the group: the guard owns it from now on.
  struct Bound {
    int fd;
  };

  NflogSocket(uint16_t group, LogFile& log);  // throws GuardError
  NflogSocket(Bound bound, LogFile& log);     // throws GuardError
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
