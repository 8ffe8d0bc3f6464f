#pragma once
// The receiving end of --console-socket: a unix socket that gets the pty
// master by SCM_RIGHTS, as docker -t and podman -t receive it.

#include <string>

namespace test {

// A unix stream socket listening at `path`; throws when it cannot.
int listen_at(const std::string& path);

// Accepts one connection on `listener` within `timeout_seconds` and returns
// the file descriptor it sends, or -1 when none came.
int receive_fd(int listener, int timeout_seconds = 30);

// Reads `fd` until the text holds `end`, a read fails, or nothing comes for
// 10 seconds; returns what it read.
std::string read_until(int fd, const std::string& end);

}  // namespace test
