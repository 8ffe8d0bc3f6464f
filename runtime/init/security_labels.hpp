#pragma once
// The LSM attributes the init writes under /proc/<self>/attr: SELinux's
// label for the session keyring it is about to create, and what the
// process becomes at execve (SELinux's label, AppArmor's profile). Pure:
// the writes as data, in their order; container_init makes them.

#include <string>
#include <vector>

#include "runtime/plan/plan.hpp"

namespace agentrun {

struct AttrWrite {
  std::string file;  // below /proc/<self>/attr: "keycreate", "exec", "apparmor/exec"
  std::string value;
  std::string step;
};

std::vector<AttrWrite> keyring_label_writes(const ProcessPlan& process);
std::vector<AttrWrite> exec_label_writes(const ProcessPlan& process);

}  // namespace agentrun
