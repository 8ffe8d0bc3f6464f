#include "runtime/init/credentials.hpp"

#include <sys/prctl.h>

#include "spec/names.hpp"

namespace agentrun {
namespace {

bool has(uint64_t set, int cap) { return (set >> cap) & 1; }

}  // namespace

Status apply_credentials(Sys& sys, const ProcessPlan& p, int last_cap, uint64_t held) {
  for (int cap = 0; cap <= last_cap; ++cap)
    if (!has(p.caps.bounding, cap))
      AR_TRY(sys_status(sys.prctl(PR_CAPBSET_DROP, static_cast<unsigned long>(cap)),
                        "drop " + spec::capability_name(cap) + " from the bounding set"));
  AR_TRY(sys_status(sys.prctl(PR_SET_KEEPCAPS, 1), "keep capabilities across the user change"));
  AR_TRY(sys_status(sys.setgroups(p.groups), "set additional groups"));
  AR_TRY(sys_status(sys.setresgid(p.gid), "set gid " + std::to_string(p.gid)));
  AR_TRY(sys_status(sys.setresuid(p.uid), "set uid " + std::to_string(p.uid)));
  AR_TRY(sys_status(sys.prctl(PR_SET_KEEPCAPS, 0), "stop keeping capabilities"));
  if (!held) return set_capabilities(sys, p.caps, last_cap);
  CapSets interim = p.caps;
  interim.effective |= held;
  interim.permitted |= held;
  interim.ambient = 0;
  return set_capabilities(sys, interim, last_cap);
}

Status set_capabilities(Sys& sys, const CapSets& caps, int last_cap) {
  AR_TRY(sys_status(sys.capset(caps), "set capabilities"));
  AR_TRY(sys_status(sys.prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL), "clear ambient capabilities"));
  for (int cap = 0; cap <= last_cap; ++cap)
    if (has(caps.ambient, cap))
      AR_TRY(sys_status(sys.prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_RAISE, static_cast<unsigned long>(cap)),
                        "raise ambient " + spec::capability_name(cap)));
  return {};
}

}  // namespace agentrun
