#pragma once
// What `create` decides for the processes `exec` will start in the
// container, kept in its state directory as plan.json: exec loads it
// instead of deriving it again from config.json and the policy, so that
// each exec'd process is confined exactly as create decided, with no
// config, policy or seccomp profile read again. The file is versioned
// ("agentrunPlan"); a version this binary does not know is refused.

#include <string>
#include <string_view>
#include <vector>

#include "runtime/plan/plan.hpp"
#include "runtime/policy/process_policy.hpp"
#include "spec/config.hpp"

namespace agentrun {

constexpr int kStoredPlanVersion = 1;

struct StoredPlan {
  // exec_base() of the container's plan: namespaces, seccomp filters (each
  // its name and compiled program; the profile is not kept), Landlock. Not
  // the container's identity (id, OCI version, bundle, rootfs,
  // annotations): state.json holds it.
  Plan base;
  policy::ProcessPolicy process_policy;
  HostFacts host;            // as create probed it; its last_cap is the base's
  std::string process_json;  // config.json's process as given: what exec's flags start from
};

std::string stored_plan_json(const StoredPlan& plan);

// Throws Failure naming `file` for a document that is not a plan of
// kStoredPlanVersion.
StoredPlan parse_stored_plan(std::string_view text, const std::string& file);

// The container's own process, which `exec` without --process starts from.
spec::Process container_process(const StoredPlan& plan, const std::string& file);

}  // namespace agentrun
