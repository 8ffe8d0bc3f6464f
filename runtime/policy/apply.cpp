#include "runtime/policy/apply.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <climits>
#include <map>
#include <optional>
#include <cstdlib>

#include <rapidjson/document.h>
#include <rapidjson/prettywriter.h>
#include <rapidjson/stringbuffer.h>

#include "runtime/cgroup/layout.hpp"
#include "runtime/confine/builtin_filters.hpp"
#include "runtime/confine/landlock.hpp"
#include "runtime/confine/seccomp_cache.hpp"
#include "runtime/confine/seccomp_compile.hpp"
#include "runtime/policy/container_listing.hpp"
#include "runtime/policy/git_credentials.hpp"
#include "runtime/policy/parse_policy.hpp"
#include "runtime/policy/preflight.hpp"
#include "runtime/util/file_io.hpp"
#include "runtime/util/in_root.hpp"
#include "runtime/util/sha256.hpp"
#include "spec/json_write.hpp"
#include "spec/names.hpp"

namespace agentrun::policy {
namespace {

using Writer = spec::PrettyWriter;

std::string read_in_rootfs(const std::string& rootfs, const std::string& path) {
  UniqueFd root(::open(rootfs.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC));
  if (!root) return "";
  auto fd = open_in_root(root.get(), path, O_RDONLY | O_NONBLOCK);
  if (!fd) return "";
  auto text = read_regular(fd->get(), path, kMaxInputBytes);
  return text ? *text : "";
}

bool needs_landlock(const Policy& p) {
  return p.filesystem.execFrom || p.filesystem.writable || p.network.tcpConnect || p.network.tcpBind;
}

void capability_names(Writer& w, const char* key, uint64_t bits, int last_cap) {
  std::vector<std::string> names;
  for (int c = 0; c <= last_cap; ++c)
    if (bits & (uint64_t{1} << c)) names.push_back(spec::capability_name(c));
  spec::write_string_list(w, key, names);
}

void raw(Writer& w, const char* key, const std::string& json) {
  w.Key(key);
  w.RawValue(json.c_str(), json.size(), rapidjson::kObjectType);
}

// Where a covered name stays reachable: the other names of the same file.
std::string reachable_through(const std::string& rootfs, const std::string& path) {
  UniqueFd root(::open(rootfs.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC));
  if (!root) return "";
  auto entry = open_in_root(root.get(), path, O_PATH | O_NOFOLLOW);
  if (!entry) return "";
  struct stat st;
  if (::fstatat(entry->get(), "", &st, AT_EMPTY_PATH) < 0) return "";
  const std::string name = path.substr(path.rfind('/') + 1);
  if (S_ISLNK(st.st_mode)) {
    char target[4096];
    ssize_t n = ::readlinkat(entry->get(), "", target, sizeof target - 1);
    if (n <= 0) return "";
    std::string t(target, static_cast<size_t>(n));
    const std::string base = t.substr(t.rfind('/') + 1);
    if (base != name) return "a link to " + t + ": if that is a multi-call binary, `" + base + " " + name + "` still runs it";
  } else if (st.st_nlink > 1) {
    return "the file has " + std::to_string(st.st_nlink) + " hard links: its other names stay executable";
  }
  return "";
}

// What the policy's hardening leaves open on purpose (docs/policy.md says why).
std::vector<std::string> not_defended(const Policy& p) {
  std::vector<std::string> out;
  if (std::find(p.seccomp.plus.begin(), p.seccomp.plus.end(), "agent-hardening") != p.seccomp.plus.end())
    out.push_back("/proc/PID/mem of the container's processes of the same uid and Landlock domain: ptrace and "
                  "process_vm_readv/writev are refused, but seccomp sees no paths and procfs has no per-process "
                  "mask");
  return out;
}

}  // namespace

SelectionInput selection_input(const std::optional<std::string>& flag,
                               const std::map<std::string, std::string>& annotations) {
  SelectionInput in;
  if (const char* dir = std::getenv("AGENTRUN_CONFIG_DIR"); dir && *dir) in.config_dir = dir;
  in.flag = flag;
  if (const char* env = std::getenv("AGENTRUN_POLICY"); env && *env) in.env = env;
  in.annotations = annotations;
  return in;
}

Applied apply_policy(const Selected& selected, spec::Config& config, const std::string& rootfs,
                     const std::vector<std::string>& protected_paths, const HostFacts& host,
                     const CgroupLayout& layout) {
  Applied a{selected.policy, selected.origin, {}, {}};
  TranslateContext ctx;
  ctx.passwd = read_in_rootfs(rootfs, "/etc/passwd");
  ctx.protected_paths = protected_paths;
  for (const auto& m : config.mounts) {
    char real[PATH_MAX];
    if (!m.source.empty() && m.source[0] == '/' && ::realpath(m.source.c_str(), real)) ctx.resolved_sources[m.source] = real;
  }
  // Only what the policy needs is probed; namespaces are proven by their
  // creation instead (a probe would cost a fork and an unshare each).
  for (const auto& feature : a.policy.require) {
    if (namespace_features().count(feature)) continue;
    FeatureProbe probe = probe_feature(feature, layout, host);
    ctx.host[feature] = FeatureState{probe.available, probe.reason};
  }
  if (needs_landlock(a.policy)) ctx.landlock_abi = a.landlock_abi = landlock_abi();
  ctx.last_cap = host.last_cap;
  ctx.apparmor = host.apparmor;
  ctx.selinux = host.selinux;
  ctx.net_cls = layout.v1.count("net_cls") > 0;
  ctx.net_prio = layout.v1.count("net_prio") > 0;
  if (config.process) {
    // At most this many directory entries are visited for all patterns of a
    // create; each directory is read once.
    size_t budget = 20000;
    std::map<std::string, std::optional<std::vector<DirEntry>>> listed;
    const ListDir list = [&](const std::string& dir) {
      auto it = listed.find(dir);
      if (it == listed.end()) it = listed.emplace(dir, list_container_dir(config, rootfs, dir)).first;
      return it->second;
    };
    std::vector<std::string> patterns = deny_read_patterns(a.policy, *config.process, ctx.passwd);
    for (auto& p : repo_hook_patterns(a.policy)) patterns.push_back(std::move(p));
    for (const auto& pattern : patterns)
      if (is_glob(pattern)) ctx.globs[pattern] = expand_glob(pattern, list, budget);
  }
  a.translation = translate(a.policy, config, ctx);
  for (const auto& path : a.translation.repo_hooks)
    if (path.ends_with("/.git/config"))
      if (auto text = read_container_file(config, rootfs, path))
        if (auto kept = without_git_credentials(*text)) a.without_credentials[path] = std::move(*kept);
  // The translation names a baseline only for a config.json without a profile.
  const std::string& baseline = a.translation.seccomp_baseline;
  const BuiltinFilter* builtin = baseline.empty() ? nullptr : &builtin_filter(baseline);
  if (builtin) a.seccomp_profiles.push_back({baseline, "container", std::string(builtin->sha256)});
  if (config.linux.seccomp)
    a.seccomp_profiles.push_back({"config.json", "container", seccomp_profile_hash(*config.linux.seccomp)});
  bool native_only_above = false;
  for (const auto& name : a.translation.seccomp_plus) {
    const BuiltinFilter& stacked = builtin_filter(name);
    native_only_above = native_only_above || stacked.native_only;
    a.stacked.push_back(builtin_program(stacked, false));
    a.seccomp_profiles.push_back({name, "stacked", std::string(stacked.sha256)});
  }
  if (builtin) a.baseline = builtin_program(*builtin, native_only_above);
  if (config.linux.seccomp) drop_unreachable_architectures(*config.linux.seccomp, native_only_above);
  return a;
}

void complete_plan(Plan& plan, const Applied& applied) {
  const Translation& t = applied.translation;
  if (applied.baseline) plan.seccomp = SeccompFilter{"seccomp profile " + t.seccomp_baseline, {}, *applied.baseline};
  for (size_t i = 0; i < applied.stacked.size(); ++i)
    plan.seccomp_stack.push_back({"seccomp profile " + t.seccomp_plus[i], {}, applied.stacked[i]});
  if (t.landlock) plan.landlock = landlock_ruleset(*t.landlock, applied.landlock_abi);
  plan.deny_exec = t.deny_exec;
  plan.deny_exec_dirs = t.path_dirs;
  plan.writable_binds = t.writable_binds;
}

std::string isolation_record(const Applied& applied, const Plan& plan, const std::vector<std::string>& blocked,
                             const std::string& egress) {
  return spec::pretty_json([&](spec::PrettyWriter& w) {
    w.StartObject();
    spec::write_string(w, "id", plan.id);
    const std::string document = policy_json(applied.policy);
    w.Key("policy");
    w.StartObject();
    spec::write_string(w, "name", applied.policy.name);
    spec::write_string(w, "origin", applied.origin);
    spec::write_string(w, "sha256", sha256_hex(document));
    raw(w, "document", document);
    w.EndObject();
    spec::write_string(w, "isolation", isolation_name(applied.policy.isolation));
    w.Key("features");
    w.StartArray();
    for (const auto& f : applied.translation.features) {
      w.StartObject();
      spec::write_string(w, "feature", f.name);
      w.Key("required");
      w.Bool(f.required);
      w.Key("effective");
      w.Bool(f.effective);
      if (!f.reason.empty()) spec::write_string(w, "reason", f.reason);
      w.EndObject();
    }
    w.EndArray();
    std::vector<std::string> warnings = applied.translation.warnings;
    warnings.insert(warnings.end(), plan.warnings.begin(), plan.warnings.end());
    spec::write_string_list(w, "warnings", warnings);
    w.Key("seccomp");
    w.StartArray();
    auto profile = [&w](const std::string& name, const std::string& hash, const char* role) {
      w.StartObject();
      spec::write_string(w, "name", name);
      spec::write_string(w, "role", role);
      spec::write_string(w, "sha256", hash);
      w.EndObject();
    };
    for (const auto& p : applied.seccomp_profiles) profile(p.name, p.sha256, p.role.c_str());
    w.EndArray();
    if (plan.landlock) raw(w, "landlock", landlock_ruleset_json(*plan.landlock));
    if (!egress.empty()) raw(w, "egress", egress);
    spec::write_string_list(w, "notDefended", not_defended(applied.policy));
    w.Key("process");
    w.StartObject();
    w.Key("uid");
    w.Uint(plan.process.uid);
    w.Key("gid");
    w.Uint(plan.process.gid);
    w.Key("noNewPrivileges");
    w.Bool(plan.process.no_new_privileges);
    w.Key("capabilities");
    w.StartObject();
    capability_names(w, "bounding", plan.process.caps.bounding, plan.last_cap);
    capability_names(w, "effective", plan.process.caps.effective, plan.last_cap);
    capability_names(w, "permitted", plan.process.caps.permitted, plan.last_cap);
    capability_names(w, "inheritable", plan.process.caps.inheritable, plan.last_cap);
    capability_names(w, "ambient", plan.process.caps.ambient, plan.last_cap);
    w.EndObject();
    w.EndObject();
    w.Key("readonlyRoot");
    w.Bool(plan.readonly_root);
    spec::write_string_list(w, "maskedPaths", plan.masked_paths);
    spec::write_string_list(w, "deniedRead", applied.translation.denied_read);
    spec::write_string_list(w, "denyReadUnmatched", applied.translation.deny_unmatched);
    spec::write_string_list(w, "readonlyRepoHooks", applied.translation.repo_hooks);
    w.Key("gitCredentialsHidden");
    w.StartArray();
    for (const auto& [path, text] : applied.without_credentials) w.String(path.c_str());
    w.EndArray();
    spec::write_string_list(w, "writable", plan.writable_binds);
    spec::write_string_list(w, "noexecMounts", applied.translation.noexec_mounts);
    w.Key("blockedExecutables");
    w.StartArray();
    for (const auto& path : blocked) {
      w.StartObject();
      spec::write_string(w, "path", path);
      const std::string caveat = reachable_through(plan.rootfs, path);
      if (!caveat.empty()) spec::write_string(w, "caveat", caveat);
      w.EndObject();
    }
    w.EndArray();
    w.EndObject();
  });
}

}  // namespace agentrun::policy
