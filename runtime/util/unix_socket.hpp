#pragma once
// Unix sockets: connecting and listening by path (the runtime's side; these
// throw Failure), and packets that may carry a descriptor by SCM_RIGHTS
// (errors are values: the init sends its pty master and seccomp fd).

#include <cstddef>
#include <span>
#include <string>
#include <vector>

#include "runtime/util/fd.hpp"
#include "spec/error.hpp"

namespace agentrun {

// Also when the path is longer than sun_path allows (through /proc/self/fd).
UniqueFd connect_unix(const std::string& path, int type, const std::string& step);
// A listening SOCK_SEQPACKET socket bound to `path`.
UniqueFd listen_unix(const std::string& path, const std::string& step);

// One packet, with `fd_to_pass` when it is not -1.
Status send_packet(int socket, const void* data, size_t len, int fd_to_pass);
// One packet into `buf`; a descriptor passed with it goes to `fd`. A closed
// peer is an Error with errnum EPIPE and reason "closed".
Result<size_t> receive_packet(int socket, std::span<char> buf, UniqueFd& fd);

// SCM_RIGHTS on any connected unix socket (console sockets, listeners).
Status send_fd(int socket, int fd, const std::string& payload);
Result<UniqueFd> receive_fd(int socket);

}  // namespace agentrun
