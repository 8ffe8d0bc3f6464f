#pragma once
// The policy in `create` and `exec`: chosen, checked against this host
// (the preflight probes of the features it requires), translated into the
// config, and what the config cannot say added to the plan. Also the
// record `agentrun inspect` prints.

#include <optional>
#include <string>
#include <vector>

#include "runtime/cgroup/layout.hpp"
#include "runtime/plan/plan.hpp"
#include "runtime/policy/select.hpp"
#include "runtime/policy/translate.hpp"

namespace agentrun::policy {

// Operator-level inputs: --policy, AGENTRUN_POLICY, AGENTRUN_CONFIG_DIR.
SelectionInput selection_input(const std::optional<std::string>& flag,
                               const std::map<std::string, std::string>& annotations);

struct AppliedProfile {
  std::string name;  // "config.json" or a built-in profile's name
  std::string role;  // "container" (the config's filter) or "stacked"
  std::string sha256;
};

struct Applied {
  Policy policy;
  std::string origin;
  Translation translation;
  std::vector<AppliedProfile> seccomp_profiles;
  std::optional<SeccompProgram> baseline;  // the built-in filter of seccomp_baseline, compiled
  std::vector<SeccompProgram> stacked;     // the built-in filters of seccomp_plus, compiled
  int landlock_abi = 0;
  // protectRepoHooks' .git/config files that hold credentials: container
  // path -> the text without them (git_credentials.hpp), which the caller
  // keeps and binds over the file read-only.
  std::map<std::string, std::string> without_credentials;
};

// Changes `config` in place. `rootfs` is the absolute host path of the
// container's root (its /etc/passwd gives the user's home); `host` and
// `layout` are what the caller probed already.
Applied apply_policy(const Selected& selected, spec::Config& config, const std::string& rootfs,
                     const std::vector<std::string>& protected_paths, const HostFacts& host,
                     const CgroupLayout& layout);

// The built-in seccomp filters, Landlock, denyExec and writable directories.
void complete_plan(Plan& plan, const Applied& applied);

// What `agentrun inspect` prints: the policy, requested versus effective
// features, seccomp profiles and hashes, Landlock, capabilities, hidden
// paths and blocked executables (with where they stay reachable), and
// `egress`, the egress record (JSON) when there is one.
std::string isolation_record(const Applied& applied, const Plan& plan, const std::vector<std::string>& blocked,
                             const std::string& egress = "");

}  // namespace agentrun::policy
