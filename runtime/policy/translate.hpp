#pragma once
// Policy + config.json -> the config the runtime applies, plus what the
// config cannot express (Landlock, stacked seccomp filters, denyExec,
// writable self-binds). Pure: everything it needs from the host and the
// rootfs comes in the context, so it is unit-tested without root.
//
// A rule the config breaks is refused under `strict` (Failure naming the
// policy, the rule and the config field) and recorded as a warning under
// `best-effort`, never silently dropped.

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "runtime/confine/landlock_rules.hpp"
#include "runtime/policy/policy.hpp"
#include "runtime/policy/translate_context.hpp"
#include "spec/config.hpp"

namespace agentrun::policy {

struct FeatureOutcome {
  std::string name;
  bool required = false;
  bool effective = false;
  std::string reason;
};

struct Translation {
  std::vector<std::string> writable_binds;  // rootfs directories that become their own writable mounts
  std::vector<std::string> deny_exec;       // command names, resolved against the PATH in the rootfs
  std::vector<std::string> path_dirs;       // the process's PATH directories
  std::vector<std::string> denied_read;     // resolved paths (also in linux.maskedPaths)
  std::vector<std::string> deny_unmatched;  // denyRead patterns that matched nothing (and why, when cut short)
  std::vector<std::string> repo_hooks;      // made read-only by protectRepoHooks (also in linux.readonlyPaths)
  std::vector<std::string> noexec_mounts;   // writable mounts made noexec (outside execFrom)
  std::vector<std::string> seccomp_plus;    // built-in filters stacked on top of the config's
  std::string seccomp_baseline;             // set when the baseline replaced a missing profile
  std::optional<LandlockPolicy> landlock;
  std::vector<FeatureOutcome> features;
  std::vector<std::string> warnings;        // what best-effort gave up, and what this host lacks (host_gaps)
};

Translation translate(const Policy& policy, spec::Config& config, const TranslateContext& ctx);

// The namespace features of `require` ("pid-ns", ...) and their namespaces.
const std::map<std::string, spec::NamespaceType>& namespace_features();

// "~/.ssh" -> "<home>/.ssh" for the process's user (from passwd, and from
// HOME in its environment when that differs).
std::vector<std::string> expand_home(const std::string& path, const spec::Process& process, const std::string& passwd);

// The policy's denyRead for this process, homes expanded; for a process
// running as root, also every home under /home (other users' homes).
std::vector<std::string> deny_read_patterns(const Policy& policy, const spec::Process& process, const std::string& passwd);
// With protectRepoHooks, what stays read-only under each writable path:
// git hooks and config (core.hooksPath, core.fsmonitor run commands) and
// direnv's .envrc, at any depth.
std::vector<std::string> repo_hook_patterns(const Policy& policy);

}  // namespace agentrun::policy
