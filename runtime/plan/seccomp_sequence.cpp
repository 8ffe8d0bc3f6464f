#include "runtime/plan/seccomp_sequence.hpp"

#include <linux/capability.h>
#include <linux/seccomp.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>

#include "runtime/confine/seccomp_eval.hpp"

namespace agentrun {
namespace {

const SeccompFilter& filter_at(const Plan& plan, int index) {
  if (plan.seccomp) {
    if (index == 0) return *plan.seccomp;
    --index;
  }
  return plan.seccomp_stack.at(static_cast<size_t>(index));
}

std::string action_name(uint32_t verdict) {
  switch (verdict & SECCOMP_RET_ACTION_FULL) {
    case SECCOMP_RET_KILL_PROCESS: return "kills the process";
    case SECCOMP_RET_KILL_THREAD: return "kills the thread";
    case SECCOMP_RET_TRAP: return "traps";
    case SECCOMP_RET_ERRNO: return "fails with errno " + std::to_string(verdict & SECCOMP_RET_DATA);
    case SECCOMP_RET_TRACE: return "waits for a tracer";
  }
  return "refuses it";
}

}  // namespace

std::vector<InitCall> calls_after_filters(const Plan& plan) {
  std::vector<InitCall> calls;
  int index = 0;
  auto load = [&](const SeccompFilter& f) {
    calls.push_back({"seccomp(SECCOMP_SET_MODE_FILTER)",
                     native_call(SYS_seccomp, {SECCOMP_SET_MODE_FILTER, f.program.flags}), index++});
  };
  if (plan.seccomp) {
    load(*plan.seccomp);
    if (plan.seccomp->program.notify)
      calls.push_back({"sendmsg (the seccomp notify fd to the runtime)", native_call(SYS_sendmsg, {0, 0, MSG_NOSIGNAL})});
  }
  for (const auto& f : plan.seccomp_stack) load(f);
  if (index > 0 && !plan.process.no_new_privileges) {
    calls.push_back({"capset", native_call(SYS_capset)});
    calls.push_back({"prctl(PR_CAP_AMBIENT)", native_call(SYS_prctl, {PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL})});
    for (int cap = 0; cap <= plan.last_cap; ++cap)
      if ((plan.process.caps.ambient >> cap) & 1)
        calls.push_back({"prctl(PR_CAP_AMBIENT)",
                         native_call(SYS_prctl, {PR_CAP_AMBIENT, PR_CAP_AMBIENT_RAISE, static_cast<uint64_t>(cap)})});
  }
  if (index > 0) calls.push_back({"execve", native_call(SYS_execve)});
  return calls;
}

void check_calls_after_filters(const Plan& plan) {
  std::vector<int> loaded;
  for (const InitCall& call : calls_after_filters(plan)) {
    for (int index : loaded) {
      const SeccompFilter& f = filter_at(plan, index);
      const uint32_t verdict = seccomp_verdict(f.program.filter, call.data).or_throw();
      if (!verdict_admits(verdict))
        fail(f.name,
             "the profile refuses " + call.name + " (it " + action_name(verdict) +
                 "), which the runtime must make after loading it to start the container's process");
    }
    if (call.loads >= 0) loaded.push_back(call.loads);
  }
}

}  // namespace agentrun
