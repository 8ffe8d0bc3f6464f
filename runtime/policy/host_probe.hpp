#pragma once
// What the running host offers, read once per command from /proc and /sys.

#include "runtime/plan/plan.hpp"

namespace agentrun {

HostFacts probe_host();

}  // namespace agentrun
