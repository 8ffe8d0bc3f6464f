#pragma once
// What config.json asks for that this kernel or host cannot give, and that
// runc and crun run without (with a warning, or silently): unknown or
// unavailable capabilities, ambient capabilities that cannot be raised, an
// AppArmor profile or SELinux label without the LSM, net_cls/net_prio
// limits without their cgroup hierarchy. Each is taken out of the config and
// described, so that the init never meets it. Pure, like translate.

#include <string>
#include <vector>

#include "runtime/policy/host_gap.hpp"
#include "runtime/policy/process_origin.hpp"
#include "runtime/policy/translate_context.hpp"
#include "spec/config.hpp"

namespace agentrun::policy {

std::vector<HostGap> take_out_host_gaps(spec::Config& config, const TranslateContext& host);

// Those of the process alone (capabilities, security labels): what `exec` checks.
std::vector<HostGap> take_out_process_gaps(spec::Process& process, const TranslateContext& host,
                                           const ProcessOrigin& origin = {});

}  // namespace agentrun::policy
