#pragma once
// Semantic rules on a parsed config: the ones that need more than one field,
// or that reject values the parser accepts by type (relative paths, ranges,
// features this runtime does not offer). Pure: no file-system access; what
// it needs to know about the host comes in HostSupport.

#include <string>

#include "spec/config.hpp"

namespace agentrun::spec {

struct HostSupport {
  bool apparmor = false;
  bool selinux = false;
};

// Throws Failure("<file>: <field path>: <reason>") on the first broken rule.
void validate_config(const Config& c, const HostSupport& host,
                     const std::string& file = "config.json");

}  // namespace agentrun::spec
