#pragma once
// `agentrun preflight`: which named isolation features this host can give a
// container, each with the reason (the errno and what to do about it).

#include <string>
#include <vector>

#include "runtime/cgroup/layout.hpp"
#include "runtime/plan/plan.hpp"
#include "runtime/policy/policy.hpp"  // feature_names()

namespace agentrun {

struct FeatureProbe {
  std::string name;
  bool available = false;
  std::string reason;    // "ABI 7", "creating a user namespace failed with EPERM: ..."
  int landlock_abi = 0;  // set by the "landlock" probe
};

// Namespace probes unshare in a forked child, never in the caller. Throws
// Failure for a name not in feature_names().
FeatureProbe probe_feature(const std::string& name, const CgroupLayout& layout, const HostFacts& host);
// Every feature, in feature_names() order.
std::vector<FeatureProbe> probe_features(const CgroupLayout& layout, const HostFacts& host);

// Why unshare(flags) failed with errnum, in the words of the namespace
// probes. Of several namespaces, unshares them one at a time in the calling
// process to find the one the host refuses: only for a process that is about
// to give up.
Error namespace_error(int flags, int errnum);

// Aligned columns FEATURE, AVAILABLE (yes/no), REASON; one line each.
std::string preflight_table(const std::vector<FeatureProbe>& probes);
// [{"feature": ..., "available": ..., "reason": ...}, ...]
std::string preflight_json(const std::vector<FeatureProbe>& probes);

}  // namespace agentrun
