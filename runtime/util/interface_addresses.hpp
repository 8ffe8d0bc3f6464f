#pragma once
// The IPv4 and IPv6 addresses of this network namespace's interfaces, from
// one rtnetlink dump of addresses. getifaddrs(3) dumps every link with its
// statistics first: on a node with a few hundred veths (one per pod) that
// took 2.4 ms, on every start under a policy that denies `host`.

#include <string>
#include <vector>

#include "spec/error.hpp"

namespace agentrun {

// Each address as inet_ntop writes it (an interface's own for IPv4, not a
// point-to-point peer's), in the kernel's order, repeats included.
Result<std::vector<std::string>> interface_addresses();

}  // namespace agentrun
