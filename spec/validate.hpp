#pragma once
// Semantic rules on a parsed config: the ones that need more than one field,
// or that reject values the parser accepts by type (relative paths, ranges,
// features this runtime does not offer). Pure: no file-system access. What
// this host lacks is the policy's matter (runtime/policy/host_gaps.hpp).

#include <optional>
#include <string>
#include <string_view>

#include "spec/config.hpp"

namespace agentrun::spec {

// Throws Failure("<file>: <field path>: <reason>") on the first broken rule.
void validate_config(const Config& c, const std::string& file = "config.json");

// The rules on a process alone: what `exec` checks of the process it starts.
void validate_process(const Process& p, const std::string& file);

// The namespace that isolates a sysctl ("net.ipv4.ip_forward": network),
// or nothing when it is global to the host.
std::optional<NamespaceType> sysctl_namespace(std::string_view key);

}  // namespace agentrun::spec
