#pragma once
// Semantic rules on a parsed config: the ones that need more than one field,
// or that reject values the parser accepts by type (relative paths, ranges,
// features this runtime does not offer). Pure: no file-system access. What
// this host lacks is the policy's matter (runtime/policy/host_gaps.hpp).

#include <string>
#include <vector>

#include "spec/config.hpp"

namespace agentrun::spec {

// Throws Failure("<file>: <field path>: <reason>") on the first broken rule.
void validate_config(const Config& c, const std::string& file = "config.json");

// The rules on a process alone: what `exec` checks of the process it starts.
void validate_process(const Process& p, const std::string& file);

// What config.json writes into a namespace it joins by path: sysctls, the
// hostname and the domainname. Whether that namespace is the host's takes a
// look at the host (container/host_namespaces.hpp).
struct JoinedWrite {
  std::string field;  // "linux.sysctl.net.ipv4.ip_forward", "hostname"
  NamespaceType type;
  std::string path;
};
std::vector<JoinedWrite> writes_into_joined_namespaces(const Config& c);

}  // namespace agentrun::spec
