#pragma once
// Asks the configured resolvers, in order, for the answer to one query: the
// query's own bytes, over UDP or TCP as the client asked, from a new socket
// each time (made in the guard's current network namespace, marked so that
// the ruleset lets it out) and at most `timeout` per resolver.

#include <chrono>
#include <cstdint>
#include <optional>
#include <span>
#include <vector>

#include "egress-guard/config.hpp"

namespace agentrun::egress {

// The first reply that carries the query's id (`query` must hold a header),
// or nullopt when no resolver gave one in time.
std::optional<std::vector<uint8_t>> ask_upstream(const DnsConfig& dns, std::span<const uint8_t> query, bool tcp,
                                                 std::chrono::milliseconds timeout);

}  // namespace agentrun::egress
