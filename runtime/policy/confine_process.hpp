#pragma once
// `exec`: the policy's rules for each process (process_policy.hpp) applied
// to a process started in a running container, with what create learnt of
// the host, without the policy being read again.

#include <string>
#include <vector>

#include "runtime/plan/plan.hpp"
#include "runtime/policy/process_origin.hpp"
#include "runtime/policy/process_policy.hpp"
#include "spec/config.hpp"

namespace agentrun::policy {

// Every step of process_policy.hpp on `process`, and the host gaps of a
// process, judged. Throws under strict; returns the warnings.
std::vector<std::string> confine_process(const ProcessPolicy& policy, spec::Process& process, const HostFacts& host,
                                         const ProcessOrigin& origin);

}  // namespace agentrun::policy
