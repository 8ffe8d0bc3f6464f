#pragma once
// What the translation of a policy knows of the host and the rootfs, probed
// by `create` and `exec` and passed in, so that translate and host_gaps
// stay pure.

#include <map>
#include <string>
#include <vector>

#include "runtime/policy/deny_globs.hpp"

namespace agentrun::policy {

struct FeatureState {
  bool available = false;
  std::string reason;
};

struct TranslateContext {
  std::string passwd;                           // the rootfs's /etc/passwd, "" if it has none
  std::vector<std::string> protected_paths;     // the runtime's state and config: never mounted in
  std::map<std::string, std::string> resolved_sources;  // mount source -> its real path on the host
  std::map<std::string, FeatureState> host;     // preflight results by feature name
  int landlock_abi = 0;
  int last_cap = 40;                            // the kernel's highest capability
  bool apparmor = false, selinux = false;       // enabled on this host
  bool net_cls = false, net_prio = false;       // their cgroup v1 hierarchies are mounted
  // patterns with wildcards (deny_read_patterns, repo_hook_patterns) -> what they matched in the container
  std::map<std::string, GlobExpansion> globs;
};

}  // namespace agentrun::policy
