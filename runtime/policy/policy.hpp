#pragma once
// An agent policy (docs/policy.md), as plain data. A list or value that is
// absent means "this policy does not restrict it" (nullopt), which is what
// lets two policies merge so that the result is never weaker than either.

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace agentrun {

// What a policy can require (docs/policy.md, section 6.1), in the order
// preflight reports them; each has a probe there.
inline const std::vector<std::string>& feature_names() {
  static const std::vector<std::string> kNames = {
      "user-ns",     "pid-ns",        "net-ns",     "mount-ns", "ipc-ns",  "uts-ns",
      "cgroup-ns",   "time-ns",       "seccomp",    "no-new-privileges",   "landlock",
      "cgroup-pids", "cgroup-memory", "cgroup-cpu", "apparmor", "selinux"};
  return kNames;
}

}  // namespace agentrun

namespace agentrun::policy {

enum class Isolation { strict, best_effort };
enum class NetworkMode { inherit, none };
enum class EgressDefault { allow, deny };
enum class EgressLog { none, denied, all };

// Where the container may connect (policy/egress_entry.hpp has the grammar
// of the entries, kept as written).
struct Egress {
  EgressDefault fallback = EgressDefault::allow;  // "default"
  std::vector<std::string> allow;
  std::vector<std::string> deny;
  EgressLog log = EgressLog::denied;
};

struct Filesystem {
  std::optional<bool> readonlyRoot;
  // Repository hooks and direnv files under the writable paths stay
  // read-only: written by the agent, they would run later on the host.
  std::optional<bool> protectRepoHooks;
  std::optional<std::vector<std::string>> writable;  // nullopt: no Landlock write rules
  std::vector<std::string> denyRead;
  std::vector<std::string> denyExec;
  std::optional<std::vector<std::string>> execFrom;  // nullopt: no Landlock execute rules
};

struct ProcessRules {
  std::optional<bool> noNewPrivileges;
  std::optional<bool> allowRoot;
  std::optional<bool> allowPrivileged;
  std::optional<std::vector<std::string>> capabilities;  // capability names; nullopt: no restriction
};

struct SeccompRules {
  std::string baseline;            // built-in profile for configs without one; empty: none
  std::vector<std::string> plus;   // built-in default-allow filters stacked on top
};

struct Network {
  std::optional<NetworkMode> mode;
  std::optional<std::vector<uint16_t>> tcpConnect;  // with Landlock: only these ports; nullopt: any
  std::optional<std::vector<uint16_t>> tcpBind;
  std::optional<Egress> egress;  // nullopt: no egress rules
};

struct Resources {
  std::optional<int64_t> pidsMax;
  std::optional<int64_t> memoryMax;  // bytes
  std::optional<uint64_t> nofileMax;
};

struct Policy {
  std::string name;
  std::string file;  // what it was read from (an installed policy, --policy PATH); empty for a built-in
  std::string description;
  Isolation isolation = Isolation::strict;
  std::vector<std::string> require;  // feature names (preflight)
  Filesystem filesystem;
  ProcessRules process;
  SeccompRules seccomp;
  Network network;
  Resources resources;
};

const char* isolation_name(Isolation i);  // "strict", "best-effort"
const char* egress_log_name(EgressLog l);  // "none", "denied", "all"

// False for a policy that sets nothing (`oci`): config.json is applied as
// runc would. Any field set, even one that restricts nothing, makes it an
// agent policy, which also refuses what runc lets through (protected
// mounts, isolation this host cannot give).
bool has_rules(const Policy& p);

// The policy as messages name it: "team-build (/etc/agentrun/policies/team-build.json)".
inline std::string shown_name(const Policy& p) { return p.file.empty() ? p.name : p.name + " (" + p.file + ")"; }

}  // namespace agentrun::policy
