#pragma once
// Which policy a container gets, strongest first:
//   1. the operator's <config dir>/config.json: the default policy, the
//      policies containers may ask for, and a floor;
//   2. --policy NAME|PATH (docker's runtimeArgs) or AGENTRUN_POLICY;
//   3. the annotations io.agentrun.policy and io.agentrun.isolation.
// The operator's floor is merged into the policy of steps 1-2, and what an
// annotation selects is merged into that, so an annotation can only tighten. The config dir is
// /etc/agentrun unless AGENTRUN_CONFIG_DIR names another (operator-level,
// like the flags: containers cannot set the runtime's environment).

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "runtime/policy/policy.hpp"

namespace agentrun::policy {

struct OperatorConfig {
  std::string defaultPolicy = "agent-default";
  std::optional<std::vector<std::string>> allowedPolicies;  // for annotations; nullopt: any
  std::string floor;                                        // empty: none
};

struct SelectionInput {
  std::string config_dir = "/etc/agentrun";
  std::optional<std::string> flag;  // --policy
  std::optional<std::string> env;   // AGENTRUN_POLICY
  std::map<std::string, std::string> annotations;
};

struct Selected {
  Policy policy;
  std::string origin;  // how it was chosen, for inspect: "default", "--policy", "annotation", ...
};

OperatorConfig parse_operator_config(const std::string& text, const std::string& label);
OperatorConfig load_operator_config(const std::string& config_dir);  // a missing file: the defaults

// A built-in name (agent-default, agent-strict, oci), an installed name
// (<config dir>/policies/NAME.json) or a path (anything with a "/").
Policy load_policy(const std::string& name_or_path, const std::string& config_dir);
std::vector<std::string> builtin_policy_names();

Selected select_policy(const SelectionInput& in);

inline constexpr const char* kPolicyAnnotation = "io.agentrun.policy";
inline constexpr const char* kIsolationAnnotation = "io.agentrun.isolation";

}  // namespace agentrun::policy
