#pragma once
// The container's terminal. The init allocates a pty from the container's
// own devpts, hands the master to the console socket (SCM_RIGHTS: how
// docker -t and podman -t receive it), makes the peer its controlling
// terminal and stdio, and binds it over /dev/console. The peer is obtained
// by descriptor (TIOCGPTPEER), never by re-opening a path the container
// could swap (runc CVE-2025-52565).

#include <optional>

#include "runtime/init/rootfs_setup.hpp"
#include "spec/config.hpp"

namespace agentrun {

Status setup_console(RootfsSetup& s, int console_socket, const std::optional<spec::ConsoleSize>& size);

// For a process `exec` starts: the same pty, without /dev/console.
Status setup_exec_console(int console_socket, const std::optional<spec::ConsoleSize>& size);

// Without a mount namespace (Plan::chroot) nothing may be bound or created:
// a pty of the host's devpts, allocated before the chroot (the rootfs may
// have no /dev at all). Returns the peer for make_controlling_terminal.
Result<UniqueFd> host_console(int console_socket, const std::optional<spec::ConsoleSize>& size);
// A new session with `peer` as its controlling terminal and stdio.
Status make_controlling_terminal(int peer);

}  // namespace agentrun
