#include "runtime/policy/confine_process.hpp"

#include "runtime/policy/host_gaps.hpp"

namespace agentrun::policy {

std::vector<std::string> confine_process(const ProcessPolicy& policy, spec::Process& process, const HostFacts& host,
                                         const ProcessOrigin& origin) {
  Verdicts verdicts(policy.name, policy.isolation);
  apply_process_rules(policy.rules, process, verdicts, origin);
  TranslateContext ctx;
  ctx.last_cap = host.last_cap;
  ctx.apparmor = host.apparmor;
  ctx.selinux = host.selinux;
  judge_host_gaps(take_out_process_gaps(process, ctx, origin), policy.agent, verdicts);
  default_nofile(policy.nofile_max, process);
  if (policy.requires_no_new_privileges)
    if (const std::string why = no_new_privileges_shortfall(process, origin); !why.empty())
      verdicts.violation("requires no-new-privileges: " + why, no_new_privileges_fix(origin));
  return verdicts.take_warnings();
}

}  // namespace agentrun::policy
