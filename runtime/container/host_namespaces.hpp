#pragma once
// config.json may join a namespace by path and write into it (sysctls, the
// hostname): when that namespace is the runtime's own, the write would
// change the host. Refused as runc refuses it, under every policy.

#include <string>

#include "spec/config.hpp"

namespace agentrun {

// Throws Failure naming the field and the path. `own_ns_dir` is where the
// runtime's namespaces are ("/proc/self/ns"; tests give another).
void refuse_writes_into_host_namespaces(const spec::Config& config, const std::string& file,
                                        const std::string& own_ns_dir = "/proc/self/ns");

}  // namespace agentrun
