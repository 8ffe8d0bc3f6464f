#pragma once
// The tighten-only merge: the result is at least as strict as each input
// (union of deny lists and requirements, intersection of capabilities,
// writable and executable paths and ports, the stricter isolation and
// network mode, the lower limits).

#include "runtime/policy/policy.hpp"

namespace agentrun::policy {

Policy merge_policies(const Policy& floor, const Policy& chosen);

// True when `path` is `base` or lies beneath it ("/a/b" beneath "/a").
bool path_within(const std::string& path, const std::string& base);

}  // namespace agentrun::policy
