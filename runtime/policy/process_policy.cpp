#include "runtime/policy/process_policy.hpp"

#include <algorithm>
#include <map>

#include "spec/error.hpp"
#include "spec/names.hpp"

namespace agentrun::policy {
namespace {

bool contains(const std::vector<std::string>& v, const std::string& x) {
  return std::find(v.begin(), v.end(), x) != v.end();
}

}  // namespace

void Verdicts::violation(const std::string& what, const std::string& fix) {
  if (isolation_ == Isolation::strict) fail("policy " + policy_, what + "; " + fix);
  warn("policy " + policy_ + " (best-effort): " + what);
}

void Verdicts::warn(const std::string& warning) {
  if (!contains(warnings_, warning)) warnings_.push_back(warning);
}

const std::vector<std::string>& egress_withheld_capabilities() {
  static const std::vector<std::string> kCaps = {"CAP_NET_ADMIN", "CAP_NET_RAW"};
  return kCaps;
}

ProcessPolicy process_policy(const Policy& p) {
  ProcessRules rules = p.process;
  if (p.network.egress) {
    if (!rules.capabilities) {
      rules.capabilities.emplace();
      for (int cap = 0; cap <= spec::last_known_capability(); ++cap)
        rules.capabilities->push_back(spec::capability_name(cap));
    }
    std::erase_if(*rules.capabilities, [](const std::string& name) { return contains(egress_withheld_capabilities(), name); });
  }
  return {shown_name(p), p.isolation, has_rules(p), std::move(rules), p.resources.nofileMax,
          contains(p.require, "no-new-privileges")};
}

const std::vector<std::string>& privileged_capabilities() {
  static const std::vector<std::string> kCaps = {
      "CAP_SYS_ADMIN",   "CAP_SYS_MODULE", "CAP_SYS_RAWIO", "CAP_SYS_PTRACE",  "CAP_SYS_BOOT",
      "CAP_SYS_TIME",    "CAP_MAC_ADMIN",  "CAP_MAC_OVERRIDE", "CAP_BPF",      "CAP_PERFMON",
      "CAP_DAC_READ_SEARCH", "CAP_NET_ADMIN", "CAP_SYSLOG",   "CAP_CHECKPOINT_RESTORE", "CAP_SYS_RESOURCE"};
  return kCaps;
}

void apply_process_rules(const ProcessRules& rules, spec::Process& proc, Verdicts& verdicts,
                         const ProcessOrigin& origin) {
  if (rules.noNewPrivileges.value_or(false)) proc.noNewPrivileges = true;
  if (!rules.allowRoot.value_or(true) && proc.user.uid == 0)
    verdicts.violation(origin.name("user.uid") + " is 0, and the policy does not allow root (allowRoot: false)",
                       "set " + origin.where("user.uid") + " to a uid other than 0, or use a policy that allows root");
  if (!proc.capabilities) return;
  auto& caps = *proc.capabilities;
  const bool privileged_ok = rules.allowPrivileged.value_or(true);
  const std::pair<const char*, std::vector<int>*> sets[] = {{"bounding", &caps.bounding},
                                                           {"effective", &caps.effective},
                                                           {"permitted", &caps.permitted},
                                                           {"inheritable", &caps.inheritable},
                                                           {"ambient", &caps.ambient}};
  // Each refused capability once, naming every set that asks for it.
  std::map<std::string, std::string> refused;
  for (const auto& set : sets)
    std::erase_if(*set.second, [&](int cap) {
      const std::string name = spec::capability_name(cap);
      if (privileged_ok || !contains(privileged_capabilities(), name))
        return rules.capabilities && !contains(*rules.capabilities, name);
      refused[name] += (refused[name].empty() ? "" : ", ") + std::string(set.first);
      return true;
    });
  const bool by_flag = origin.from_flag("capabilities");
  for (const auto& [name, in_sets] : refused) {
    const std::string source = by_flag ? "exec --cap" : origin.name("capabilities") + " (" + in_sets + ")";
    const std::string change = by_flag ? "leave out exec --cap " + name
                                       : "remove " + name + " from every set of " + origin.where("capabilities");
    verdicts.violation(source + " asks for " + name + ", which the policy does not allow (allowPrivileged: false)",
                       change + ", or use a policy that allows privileged capabilities");
  }
}

// What runc would run without is run without here too, with a warning; an
// agent policy refuses to lose isolation that way.
void judge_host_gaps(const std::vector<HostGap>& gaps, bool agent, Verdicts& verdicts) {
  for (const auto& gap : gaps)
    if (gap.lessens_isolation && agent) verdicts.violation(gap.refusal, gap.fix);
    else verdicts.warn(gap.what);
}

void default_nofile(std::optional<uint64_t> nofile_max, spec::Process& process) {
  if (!nofile_max) return;
  auto& rl = process.rlimits;
  const bool set = std::any_of(rl.begin(), rl.end(), [](const spec::Rlimit& x) { return x.type == "RLIMIT_NOFILE"; });
  if (!set) rl.push_back(spec::Rlimit{*spec::rlimit_from_name("RLIMIT_NOFILE"), "RLIMIT_NOFILE", *nofile_max, *nofile_max});
}

std::string no_new_privileges_shortfall(const spec::Process& process, const ProcessOrigin& origin) {
  if (process.noNewPrivileges) return "";
  return origin.name("noNewPrivileges") + " is not set, and the policy does not force it";
}

std::string no_new_privileges_fix(const ProcessOrigin& origin) {
  const std::string change = origin.kind == ProcessOrigin::Kind::flags
                                 ? std::string("pass exec --no-new-privs")
                                 : "set " + origin.where("noNewPrivileges") + " to true";
  return change + ", or give the policy process.noNewPrivileges: true";
}

}  // namespace agentrun::policy
