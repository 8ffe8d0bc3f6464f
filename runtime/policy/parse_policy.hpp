#pragma once
// Policy documents are parsed as strictly as config.json, and more: an
// unknown field is an error too (a typo must not silently weaken a policy).
//   policy agent-custom: filesystem.denyRaed: unknown field

#include <string>
#include <string_view>

#include "runtime/policy/policy.hpp"

namespace agentrun::policy {

// `label` names the document in errors ("policy /etc/agentrun/policies/x.json").
Policy parse_policy(std::string_view text, const std::string& label);

// The canonical JSON of a policy: what `inspect` shows and what its hash covers.
std::string policy_json(const Policy& p);

}  // namespace agentrun::policy
