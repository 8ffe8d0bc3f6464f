#pragma once
// `update` under the container's policy: the policy's pidsMax and memoryMax
// are ceilings that an update may neither raise nor remove. Pure, so that
// the decision is unit-tested without a container.
//
// Under strict a limit above the ceiling, or its removal, is refused
// (Failure naming the flag or field, the value and the policy's limit)
// before anything is written. Under best-effort it is lowered to the
// ceiling, with a warning. Everything else passes as requested.

#include <string>
#include <vector>

#include "runtime/policy/policy.hpp"
#include "spec/config.hpp"

namespace agentrun::policy {

// How `update` got the resources: names them in messages.
enum class UpdateSource { flags, resources_file };

struct LimitedUpdate {
  spec::Resources resources;          // what to apply: the request, with best-effort's clamps
  std::vector<std::string> warnings;  // one per clamped limit
};

LimitedUpdate limit_update(const Policy& policy, spec::Resources requested, UpdateSource source);

}  // namespace agentrun::policy
