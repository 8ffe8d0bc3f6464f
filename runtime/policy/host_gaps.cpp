#include "runtime/policy/host_gaps.hpp"

#include <algorithm>
#include <set>

#include "spec/names.hpp"

namespace agentrun::policy {
namespace {

std::string joined(const std::vector<std::string>& names) {
  std::string out;
  for (const auto& n : names) out += (out.empty() ? "" : ", ") + n;
  return out;
}

bool in(const std::vector<int>& set, int cap) { return std::find(set.begin(), set.end(), cap) != set.end(); }

// As runc: one warning naming every capability the kernel or this runtime
// does not know, each dropped from every set.
void unknown_capabilities(spec::Capabilities& caps, int last_cap, const ProcessOrigin& origin,
                          std::vector<HostGap>& out) {
  std::set<std::string> names(caps.unknown.begin(), caps.unknown.end());
  for (auto* set : {&caps.bounding, &caps.effective, &caps.permitted, &caps.inheritable, &caps.ambient})
    std::erase_if(*set, [&](int cap) {
      if (cap <= last_cap) return false;
      names.insert(spec::capability_name(cap));
      return true;
    });
  caps.unknown.clear();
  if (!names.empty())
    out.push_back({origin.name("capabilities") + ": ignoring unknown or unavailable capabilities: " +
                   joined({names.begin(), names.end()})});
}

// The kernel raises an ambient capability only when it is also permitted
// and inheritable; runc warns and crun says nothing when the raise fails.
// Decided here from the sets, so the init still fails on any other error.
void unraisable_ambient(spec::Capabilities& caps, const ProcessOrigin& origin, std::vector<HostGap>& out) {
  std::vector<std::string> names;
  std::erase_if(caps.ambient, [&](int cap) {
    if (in(caps.permitted, cap) && in(caps.inheritable, cap)) return false;
    const std::string name = spec::capability_name(cap);
    if (std::find(names.begin(), names.end(), name) == names.end()) names.push_back(name);
    return true;
  });
  if (!names.empty())
    out.push_back({origin.name("capabilities.ambient") + ": cannot raise " + joined(names) +
                   ": an ambient capability must also be permitted and inheritable; left out, as runc and crun do"});
}

// One that lessens isolation, in the words of a warning and of a refusal.
HostGap lessening(const std::string& source, const std::string& missing, const std::string& fix) {
  return {source + ": ignored: " + missing, true, source + ": " + missing, fix};
}

// crun skips a label or profile for an LSM the host has not enabled.
// `source` and `where` name the field (ProcessOrigin::name, ::where).
void security_label(std::string& value, bool enabled, const std::string& source, const std::string& where,
                    const std::string& lsm, std::vector<HostGap>& out) {
  if (value.empty() || enabled) return;
  value.clear();
  out.push_back(lessening(source, lsm + " is not enabled on this host",
                          "remove " + where + ", or run it on a host with " + lsm + " enabled"));
}

// cgroup v2 has no net_cls or net_prio; runc's v2 driver passes these
// limits over. Where the v1 hierarchy is mounted they are applied.
void network_limits(std::optional<spec::Resources>& resources, const TranslateContext& host,
                    std::vector<HostGap>& out) {
  if (!resources || !resources->network) return;
  auto& net = *resources->network;
  const auto gap = [](const std::string& field, const std::string& controller) {
    return lessening("config.json: " + field, "this host has no " + controller + " cgroup hierarchy",
                     "remove " + field + " from config.json, or mount the " + controller + " hierarchy");
  };
  if (net.classID && !host.net_cls) {
    net.classID.reset();
    out.push_back(gap("linux.resources.network.classID", "net_cls"));
  }
  if (!net.priorities.empty() && !host.net_prio) {
    net.priorities.clear();
    out.push_back(gap("linux.resources.network.priorities", "net_prio"));
  }
}

}  // namespace

std::vector<HostGap> take_out_process_gaps(spec::Process& process, const TranslateContext& host,
                                           const ProcessOrigin& origin) {
  std::vector<HostGap> out;
  if (auto& caps = process.capabilities) {
    unknown_capabilities(*caps, host.last_cap, origin, out);
    unraisable_ambient(*caps, origin, out);
  }
  security_label(process.apparmorProfile, host.apparmor, origin.name("apparmorProfile"),
                 origin.where("apparmorProfile"), "AppArmor", out);
  security_label(process.selinuxLabel, host.selinux, origin.name("selinuxLabel"), origin.where("selinuxLabel"),
                 "SELinux", out);
  return out;
}

std::vector<HostGap> take_out_host_gaps(spec::Config& config, const TranslateContext& host) {
  std::vector<HostGap> out;
  if (config.process) out = take_out_process_gaps(*config.process, host);
  security_label(config.linux.mountLabel, host.selinux, "config.json: linux.mountLabel",
                 "linux.mountLabel in config.json", "SELinux", out);
  network_limits(config.linux.resources, host, out);
  return out;
}

}  // namespace agentrun::policy
