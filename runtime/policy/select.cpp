#include "runtime/policy/select.hpp"

#include <unistd.h>

#include <algorithm>
#include <set>

#include "runtime/policy/merge.hpp"
#include "runtime/policy/parse_policy.hpp"
#include "runtime/util/embedded_files.hpp"
#include "runtime/util/file_io.hpp"
#include "spec/error.hpp"
#include "spec/json_reader.hpp"

namespace agentrun::policy {
namespace {

bool valid_policy_name(const std::string& name) {
  return !name.empty() && std::all_of(name.begin(), name.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' || c == '_' || c == '.';
  }) && name[0] != '.';
}

std::string joined(const std::vector<std::string>& names) {
  std::string out;
  for (const auto& n : names) out += (out.empty() ? "" : ", ") + n;
  return out;
}

Policy from_file(const std::string& path) {
  Policy p = parse_policy(read_input_file(path, "policy"), "policy " + path);
  p.file = path;
  return p;
}

}  // namespace

std::vector<std::string> builtin_policy_names() { return {"agent-default", "agent-strict", "oci"}; }

OperatorConfig parse_operator_config(const std::string& text, const std::string& label) {
  spec::JsonDocument doc(text, label);
  const auto n = doc.root();
  n.allow_only({"defaultPolicy", "allowedPolicies", "floor"});
  OperatorConfig c;
  if (auto d = n.get("defaultPolicy")) c.defaultPolicy = d->str();
  if (auto a = n.get("allowedPolicies")) c.allowedPolicies = a->strings();
  if (auto f = n.get("floor")) c.floor = f->str();
  return c;
}

OperatorConfig load_operator_config(const std::string& config_dir) {
  const std::string path = config_dir + "/config.json";
  if (::access(path.c_str(), F_OK) != 0) return {};
  return parse_operator_config(read_input_file(path, "operator config"), path);
}

Policy load_policy(const std::string& name_or_path, const std::string& config_dir) {
  if (name_or_path.find('/') != std::string::npos)
    return from_file(name_or_path);
  if (!valid_policy_name(name_or_path)) fail("policy \"" + name_or_path + "\"", "not a valid policy name");
  const std::string installed = config_dir + "/policies/" + name_or_path + ".json";
  const auto builtin = embedded_file("policies/" + name_or_path + ".json");
  const bool is_installed = ::access(installed.c_str(), F_OK) == 0;
  // Whoever asks for agent-strict gets the built-in, never a file that
  // happens to carry its name.
  if (builtin && is_installed)
    fail("policy " + installed, "\"" + name_or_path +
                                    "\" is a built-in policy's name, and those are reserved: name the file otherwise "
                                    "(config.json's defaultPolicy can make it the default)");
  if (is_installed) return from_file(installed);
  if (builtin) return parse_policy(*builtin, "policy " + name_or_path);
  fail("policy \"" + name_or_path + "\"",
       "unknown (built-in: " + joined(builtin_policy_names()) + "; installed ones live in " + config_dir + "/policies)");
}

Selected select_policy(const SelectionInput& in) {
  const OperatorConfig op = load_operator_config(in.config_dir);
  Selected out;
  out.origin = in.flag ? "--policy" : in.env ? "AGENTRUN_POLICY" : "default";
  out.policy = load_policy(in.flag ? *in.flag : in.env ? *in.env : op.defaultPolicy, in.config_dir);
  const std::optional<Policy> floor =
      op.floor.empty() ? std::nullopt : std::optional(load_policy(op.floor, in.config_dir));
  if (floor) out.policy = merge_policies(*floor, out.policy);

  // A misspelt annotation of ours would leave the container under another
  // policy than its author meant: refused, not ignored.
  for (const auto& [key, value] : in.annotations)
    if (key.rfind("io.agentrun.", 0) == 0 && key != kPolicyAnnotation && key != kIsolationAnnotation)
      fail("annotation " + key, std::string("unknown (agentrun reads ") + kPolicyAnnotation + " and " +
                                    kIsolationAnnotation + "); correct or remove it");
  if (auto it = in.annotations.find(kPolicyAnnotation); it != in.annotations.end()) {
    // Whoever writes annotations names a policy; only the operator names files.
    if (!valid_policy_name(it->second))
      fail(std::string("annotation ") + kPolicyAnnotation + "=" + it->second, "must be a policy name, not a path");
    if (op.allowedPolicies && std::find(op.allowedPolicies->begin(), op.allowedPolicies->end(), it->second) ==
                                  op.allowedPolicies->end())
      fail(std::string("annotation ") + kPolicyAnnotation + "=" + it->second,
           "this policy is not among those the operator allows (" + joined(*op.allowedPolicies) + ")");
    // Merged with what the operator chose (the floor included): never weaker.
    out.policy = merge_policies(out.policy, load_policy(it->second, in.config_dir));
    out.origin = std::string("annotation ") + kPolicyAnnotation;
  }
  if (auto it = in.annotations.find(kIsolationAnnotation); it != in.annotations.end()) {
    const std::string& v = it->second;
    const std::string where = std::string("annotation ") + kIsolationAnnotation + "=" + v;
    if (v == "strict") {
      out.policy.isolation = Isolation::strict;
    } else if (v == "best-effort") {
      if (out.policy.isolation == Isolation::strict)
        fail(where, "an annotation can only tighten, and policy " + out.policy.name + " is strict");
    } else {
      fail(where, "unknown isolation (strict or best-effort)");
    }
  }
  // A unit property from an annotation (--systemd-cgroup) overrides what the
  // policy set: TasksMax over pidsMax, MemoryMax, DevicePolicy, DeviceAllow.
  // Under a policy with rules annotations only tighten, so only properties
  // that govern how the scope is stopped and named pass (podman sets
  // KillSignal and TimeoutStopUSec, CRI-O Delegate, which the scope has).
  static const std::set<std::string> kHarmless = {
      "KillSignal",      "FinalKillSignal", "RestartKillSignal", "SendSIGKILL", "SendSIGHUP",
      "TimeoutStopSec",  "TimeoutStopUSec", "CollectMode",       "Description", "Delegate"};
  const std::string prefix = "org.systemd.property.";
  if (has_rules(out.policy))
    for (const auto& [key, value] : in.annotations)
      if (key.rfind(prefix, 0) == 0 && !kHarmless.count(key.substr(prefix.size())))
        fail("annotation " + key, "this systemd unit property could undo the limits and device rules of policy " +
                                      shown_name(out.policy) + "; only a policy without rules (oci) takes it");
  return out;
}

}  // namespace agentrun::policy
