#pragma once
// `agentrun features`: what this build supports, in the runtime-spec's
// features format, so that callers can check before they ask.

#include <string>

#include "runtime/plan/plan.hpp"

namespace agentrun {

std::string features_json(const HostFacts& host);

}  // namespace agentrun
