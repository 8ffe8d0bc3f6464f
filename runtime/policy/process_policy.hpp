#pragma once
// What a policy asks of each process of a container, apart from its other
// rules: the translation applies it to the container's process at create,
// which stores it (process_policy()) so that every process `exec` starts
// later is confined the same way (confine_process.hpp) without the policy
// being read again. The rest of the policy concerns the container as a
// whole and was decided once, at create.

#include <optional>
#include <string>
#include <vector>

#include "runtime/policy/host_gap.hpp"
#include "runtime/policy/policy.hpp"
#include "runtime/policy/process_origin.hpp"
#include "spec/config.hpp"

namespace agentrun::policy {

// A broken rule: under strict a Failure naming the policy, what it refused
// and `fix`, what to change to have it started; under best-effort a warning
// (each once).
class Verdicts {
 public:
  Verdicts(std::string policy, Isolation isolation) : policy_(std::move(policy)), isolation_(isolation) {}
  void violation(const std::string& what, const std::string& fix);
  void warn(const std::string& warning);
  std::vector<std::string> take_warnings() { return std::move(warnings_); }

 private:
  std::string policy_;
  Isolation isolation_;
  std::vector<std::string> warnings_;
};

struct ProcessPolicy {
  std::string name;  // the policy's, for messages
  Isolation isolation = Isolation::strict;
  bool agent = false;  // has_rules(): a host gap that lessens isolation is a violation, not a warning
  ProcessRules rules;
  std::optional<uint64_t> nofile_max;   // RLIMIT_NOFILE for a process that sets none
  bool requires_no_new_privileges = false;
};

// The policy's process rules; under network.egress its capabilities leave
// out egress_withheld_capabilities().
ProcessPolicy process_policy(const Policy& p);

// Capabilities that would undo egress rules: CAP_NET_ADMIN changes them and
// marks packets as the guard's; CAP_NET_RAW sends past them (AF_PACKET).
const std::vector<std::string>& egress_withheld_capabilities();

// Capabilities that open the kernel to the container; a policy without
// allowPrivileged refuses them.
const std::vector<std::string>& privileged_capabilities();

// The steps, in the order translate() takes them:
// no_new_privs forced, root refused, capabilities kept within the policy's.
void apply_process_rules(const ProcessRules& rules, spec::Process& process, Verdicts& verdicts,
                         const ProcessOrigin& origin = {});
// Host gaps (host_gaps.hpp), refused by an agent policy when they lessen isolation.
void judge_host_gaps(const std::vector<HostGap>& gaps, bool agent, Verdicts& verdicts);
void default_nofile(std::optional<uint64_t> nofile_max, spec::Process& process);
// Why the process lacks the required no_new_privs, "" when it has it.
std::string no_new_privileges_shortfall(const spec::Process& process, const ProcessOrigin& origin = {});
std::string no_new_privileges_fix(const ProcessOrigin& origin = {});

}  // namespace agentrun::policy
