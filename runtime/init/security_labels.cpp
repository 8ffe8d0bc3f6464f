#include "runtime/init/security_labels.hpp"

namespace agentrun {

std::vector<AttrWrite> keyring_label_writes(const ProcessPlan& p) {
  if (p.selinux_label.empty()) return {};
  return {{"keycreate", p.selinux_label, "set the SELinux label of the session keyring to " + p.selinux_label}};
}

std::vector<AttrWrite> exec_label_writes(const ProcessPlan& p) {
  std::vector<AttrWrite> out;
  if (!p.selinux_label.empty())
    out.push_back({"exec", p.selinux_label, "set SELinux label " + p.selinux_label});
  if (!p.apparmor_profile.empty())
    out.push_back({"apparmor/exec", "exec " + p.apparmor_profile, "set AppArmor profile " + p.apparmor_profile});
  return out;
}

}  // namespace agentrun
