#include "runtime/policy/translate.hpp"

#include <algorithm>

#include "runtime/policy/host_gaps.hpp"
#include "runtime/policy/merge.hpp"
#include "runtime/policy/process_policy.hpp"
#include "runtime/util/in_root.hpp"
#include "runtime/util/text_lines.hpp"
#include "spec/error.hpp"
#include "spec/names.hpp"

namespace agentrun::policy {
namespace {

bool contains(const std::vector<std::string>& v, const std::string& x) {
  return std::find(v.begin(), v.end(), x) != v.end();
}

const spec::Namespace* find_namespace(const spec::Config& c, spec::NamespaceType t) {
  for (const auto& ns : c.linux.namespaces)
    if (ns.type == t) return &ns;
  return nullptr;
}

// Host paths no container under a policy with rules may see, beside the
// runtime's own: the kernel's views of the host (a bind of its /proc or /sys;
// the container has procfs and sysfs of its own) and the sockets through
// which container engines and the kubelet take orders. "*" stands for one
// path component.
struct HostOnlyPath {
  const char* path;
  const char* what;
};
constexpr HostOnlyPath kHostOnlyPaths[] = {
    {"/proc", "the host's /proc"},
    {"/sys", "the host's /sys"},
    {"/run/docker.sock", "docker's API socket"},
    {"/run/docker", "docker's runtime directory"},
    {"/run/containerd", "containerd's sockets"},
    {"/run/podman", "podman's API socket"},
    {"/run/crio", "CRI-O's socket"},
    {"/run/user/*/docker.sock", "rootless docker's API socket"},
    {"/run/user/*/podman", "rootless podman's API socket"},
    {"/var/lib/kubelet/pod-resources", "the kubelet's pod-resources socket"},
    {"/var/lib/kubelet/device-plugins", "the kubelet's device-plugin socket"},
};

// Whether one of `source` and `pattern` holds the other, "*" in `pattern` matching any component.
bool overlaps(const std::string& source, const std::string& pattern) {
  const auto s = path_components(clean_path(source)), p = path_components(pattern);
  for (size_t i = 0; i < std::min(s.size(), p.size()); ++i)
    if (p[i] != "*" && p[i] != s[i]) return false;
  return true;
}

class Translator {
 public:
  Translator(const Policy& p, spec::Config& c, const TranslateContext& ctx)
      : p_(p), c_(c), ctx_(ctx), verdicts_(shown_name(p), p.isolation) {}

  Translation run() {
    if (!c_.process) fail("config.json: process", "missing: there is nothing to run");
    if (has_rules(p_)) check_protected_mounts();
    apply_process_rules(process_policy(p_).rules, *c_.process, verdicts_);
    judge_host_gaps(take_out_host_gaps(c_, ctx_), has_rules(p_), verdicts_);
    filesystem_rules();
    seccomp_rules();
    network_rules();
    resource_rules();
    landlock_rules();
    requirements();
    if (out_.landlock) landlock_shortfalls();
    egress_rules();
    out_.warnings = verdicts_.take_warnings();
    return std::move(out_);
  }

 private:
  // Under strict the container does not start; under best-effort the rule is recorded as given up.
  void violation(const std::string& what, const std::string& fix) { verdicts_.violation(what, fix); }

  void check_protected_mounts() {
    for (size_t i = 0; i < c_.mounts.size(); ++i) {
      const auto& m = c_.mounts[i];
      if (m.source.empty() || m.source[0] != '/') continue;
      // As spelled (cleaned) and as the host resolves it (symlinks).
      std::vector<std::string> sources = {clean_path(m.source)};
      if (auto r = ctx_.resolved_sources.find(m.source); r != ctx_.resolved_sources.end()) sources.push_back(r->second);
      // /var/run is /run on every current distribution, link or not.
      if (path_within(sources.front(), "/var/run")) sources.push_back("/run" + sources.front().substr(8));
      const std::string field = "config.json: mounts[" + std::to_string(i) + "].source " + m.source;
      for (const auto& source : sources) {
        for (const auto& dir : ctx_.protected_paths)
          if (path_within(source, dir) || path_within(dir, source))
            fail("policy " + shown_name(p_), field + " would make the runtime's own " + dir + " visible in the container");
        for (const auto& host_only : kHostOnlyPaths)
          if (overlaps(source, host_only.path))
            fail("policy " + shown_name(p_), field + " would hand the container " + host_only.what + " (" + host_only.path +
                                          "); only a policy without rules (oci) binds it");
      }
    }
  }

  void filesystem_rules() {
    const auto& fs = p_.filesystem;
    if (fs.readonlyRoot.value_or(false)) c_.root.readonly = true;
    for (const auto& pattern : deny_read_patterns(p_, *c_.process, ctx_.passwd)) {
      if (!is_glob(pattern)) {
        deny_read(pattern);
        continue;
      }
      const GlobExpansion& e = found_by(pattern);
      for (const auto& path : e.matches) {
        // A pattern never hides a mount config.json asks for (root's
        // /home/* over a workspace bound to /home/dev/project).
        const auto mount = std::find_if(c_.mounts.begin(), c_.mounts.end(), [&](const spec::Mount& m) {
          return path_within(clean_path(m.destination), path);
        });
        if (mount == c_.mounts.end()) deny_read(path);
        else out_.deny_unmatched.push_back(path + " (kept: it holds the mount " + mount->destination + ")");
      }
      if (e.truncated) out_.deny_unmatched.push_back(pattern + " (the search stopped at its bound of entries)");
      else if (e.matches.empty()) out_.deny_unmatched.push_back(pattern);
    }
    if (fs.writable)
      for (const auto& path : *fs.writable) writable(path);
    for (const auto& pattern : repo_hook_patterns(p_))
      for (const auto& path : found_by(pattern).matches)
        if (!contains(c_.linux.readonlyPaths, path)) {
          c_.linux.readonlyPaths.push_back(path);
          out_.repo_hooks.push_back(path);
        }
    if (fs.execFrom) writable_mounts_noexec(*fs.execFrom);
    out_.deny_exec = fs.denyExec;
    for (const auto& e : c_.process->env)
      if (e.rfind("PATH=", 0) == 0) {
        for (std::string_view d : text_fields(std::string_view(e).substr(5), ':'))
          if (d.starts_with('/') && !contains(out_.path_dirs, std::string(d))) out_.path_dirs.emplace_back(d);
      }
  }

  // Landlock's execute right covers execve only: the dynamic loader maps a
  // program from anywhere (ld.so /dev/shm/copy). So every writable mount
  // outside execFrom is noexec too, which the kernel also applies to mmap
  // with PROT_EXEC; a recursive bind, its whole tree.
  void writable_mounts_noexec(const std::vector<std::string>& exec_from) {
    for (auto& m : c_.mounts) {
      const auto has = [&m](const char* opt) { return contains(m.options, opt); };
      const std::string dest = clean_path(m.destination);
      if (has("ro") || has("rro") || has("noexec") || has("rnoexec")) continue;
      if (std::any_of(exec_from.begin(), exec_from.end(), [&](const std::string& d) { return path_within(dest, d); }))
        continue;
      m.options.push_back(has("rbind") ? "rnoexec" : "noexec");
      if (!contains(out_.noexec_mounts, dest)) out_.noexec_mounts.push_back(dest);
    }
  }

  const GlobExpansion& found_by(const std::string& pattern) const {
    static const GlobExpansion none;
    const auto it = ctx_.globs.find(pattern);
    return it == ctx_.globs.end() ? none : it->second;
  }

  void deny_read(const std::string& path) {
    if (contains(c_.linux.maskedPaths, path)) return;
    c_.linux.maskedPaths.push_back(path);
    out_.denied_read.push_back(path);
  }

  // A writable path keeps its mount (made nosuid, nodev, noexec: what is
  // written there is not run) or becomes a mount of its own, so that the
  // read-only root does not cover it.
  void writable(const std::string& path) {
    bool mounted = false;
    for (auto& m : c_.mounts)
      if (clean_path(m.destination) == path) {  // every one: the last one is what the container sees
        for (const char* opt : {"nosuid", "nodev", "noexec"})
          if (!contains(m.options, opt)) m.options.push_back(opt);
        mounted = true;
      }
    if (!mounted) out_.writable_binds.push_back(path);
  }

  void seccomp_rules() {
    if (!c_.linux.seccomp && !p_.seccomp.baseline.empty()) out_.seccomp_baseline = p_.seccomp.baseline;
    out_.seccomp_plus = p_.seccomp.plus;
  }

  // Last: where the host's network namespace is shared, what else the
  // policy refuses of it says more.
  void egress_rules() {
    // Rules in the host's namespace would confine the host, not the container.
    if (p_.network.egress && !find_namespace(c_, spec::NamespaceType::network))
      violation("network.egress needs a network namespace of the container's own; config.json shares the host's "
                "(linux.namespaces has no network entry)",
                "add {\"type\": \"network\"} to linux.namespaces (docker and podman: leave out --network host), "
                "or use a policy without network.egress");
  }

  void network_rules() {
    if (p_.network.mode != NetworkMode::none) return;
    const spec::Namespace* ns = find_namespace(c_, spec::NamespaceType::network);
    if (!ns)
      violation("network mode none needs a network namespace of its own; config.json shares the host's "
                "(linux.namespaces has no network entry)",
                "add {\"type\": \"network\"} to linux.namespaces, or use a policy whose network.mode is inherit");
    else if (!ns->path.empty())
      violation("network mode none needs a new network namespace; config.json joins " + ns->path +
                    " (linux.namespaces, the network entry's path)",
                "leave out that path so that a new namespace is made, or use a policy whose network.mode is inherit");
  }

  void resource_rules() {
    const auto& r = p_.resources;
    if (r.pidsMax || r.memoryMax) {
      if (!c_.linux.resources) c_.linux.resources = spec::Resources{};
      auto& res = *c_.linux.resources;
      if (r.pidsMax && (!res.pidsLimit || *res.pidsLimit <= 0)) res.pidsLimit = *r.pidsMax;
      if (r.memoryMax) {
        if (!res.memory) res.memory = spec::MemoryResources{};
        if (!res.memory->limit || *res.memory->limit <= 0) res.memory->limit = *r.memoryMax;
      }
    }
    default_nofile(r.nofileMax, *c_.process);
  }

  void landlock_rules() {
    const auto& fs = p_.filesystem;
    const auto& net = p_.network;
    if (!fs.execFrom && !fs.writable && !net.tcpConnect && !net.tcpBind) return;
    if (ctx_.landlock_abi <= 0) {
      violation("Landlock is not available on this host, so execFrom and writable cannot be enforced",
                "run it on a kernel with Landlock enabled (\"landlock\" in the lsm= boot parameter), or use a policy "
                "without filesystem.execFrom, filesystem.writable and network TCP rules");
      return;
    }
    LandlockPolicy l;
    l.exec_from = fs.execFrom.value_or(std::vector<std::string>{"/"});
    l.writable = fs.writable.value_or(std::vector<std::string>{"/"});
    l.device_paths = {"/dev/null", "/dev/zero", "/dev/full", "/dev/random", "/dev/urandom", "/dev/tty",
                      "/dev/console", "/dev/pts", "/dev/ptmx", "/dev/shm"};
    l.tcp_connect = net.tcpConnect;
    l.tcp_bind = net.tcpBind;
    if ((l.tcp_connect || l.tcp_bind) && ctx_.landlock_abi < 4)
      violation("TCP rules need Landlock ABI 4; this host has ABI " + std::to_string(ctx_.landlock_abi),
                "run it on Linux 6.7 or later, or use a policy without network.tcpConnect and network.tcpBind");
    out_.landlock = std::move(l);
  }

  // What the ruleset asks for and this kernel's ABI cannot handle, made up
  // for or refused (landlock_shortfall says the same to preflight). Device
  // ioctls below ABI 5 stay as open as without Landlock: no policy rule names them.
  void landlock_shortfalls() {
    const int abi = ctx_.landlock_abi;
    const std::string abi_here = "this host has Landlock ABI " + std::to_string(abi);
    // Before the policy's own filters: agent-hardening, loaded last, refuses
    // the seccomp() that would load another.
    if (p_.filesystem.writable && abi < kLandlockTruncateAbi && !contains(out_.seccomp_plus, kTruncateFilter))
      out_.seccomp_plus.insert(out_.seccomp_plus.begin(), kTruncateFilter);
    if (abi >= kLandlockScopeAbi) return;
    // A namespace the policy requires was refused (or warned about) by requirements().
    if (!find_namespace(c_, spec::NamespaceType::network) && !contains(p_.require, "net-ns"))
      violation("config.json shares the host's network namespace, whose abstract unix sockets only Landlock ABI 6 "
                "(Linux 6.12) keeps out of the container's reach; " + abi_here,
                "add {\"type\": \"network\"} to linux.namespaces, or run it on Linux 6.12 or later");
    if (!find_namespace(c_, spec::NamespaceType::pid) && !contains(p_.require, "pid-ns"))
      violation("config.json shares the host's pid namespace, whose processes only Landlock ABI 6 (Linux 6.12) "
                "keeps the container from signalling; " + abi_here,
                "add {\"type\": \"pid\"} to linux.namespaces, or run it on Linux 6.12 or later");
  }

  FeatureState host(const std::string& feature) const {
    auto it = ctx_.host.find(feature);
    return it == ctx_.host.end() ? FeatureState{false, "not probed"} : it->second;
  }

  // Why a required feature would not hold in this container, and what to
  // change; an empty reason when it holds.
  struct Shortfall {
    std::string reason, fix;
  };
  Shortfall shortfall(const std::string& feature) const {
    if (auto ns = namespace_features().find(feature); ns != namespace_features().end()) {
      const std::string name = spec::namespace_name(ns->second);
      const spec::Namespace* n = find_namespace(c_, ns->second);
      // One the container creates is proven by its creation, which stops
      // the container when it fails (launch names the errno and the cause).
      if (!n)
        return {"config.json shares the host's " + name + " namespace",
                "add {\"type\": \"" + name + "\"} to linux.namespaces" +
                    (ns->second == spec::NamespaceType::user ? " with uidMappings and gidMappings" : "")};
      // The root file system would be set up, and pivot_root done, where others live.
      if (!n->path.empty() && ns->second == spec::NamespaceType::mount)
        return {"config.json joins the mount namespace " + n->path + ", which is not the container's own",
                "leave out the path of the mount entry in linux.namespaces"};
      if (!n->path.empty() && ns->second == spec::NamespaceType::uts &&
          (!c_.hostname.empty() || !c_.domainname.empty()))
        return {"config.json names the uts namespace it joins (" + n->path + "), which is not the container's own",
                "leave out hostname and domainname, or the path of the uts entry in linux.namespaces"};
      return {};
    }
    const std::string elsewhere = ", or use a policy that does not require " + feature;
    if (const FeatureState h = host(feature); !h.available)
      return {h.reason, "run it on a host where " + feature + " is available" + elsewhere};
    if (feature == "seccomp" && !c_.linux.seccomp && out_.seccomp_baseline.empty() && out_.seccomp_plus.empty())
      return {"config.json has no seccomp profile and the policy adds none",
              "give config.json a linux.seccomp profile or the policy a seccomp.baseline"};
    if (feature == "no-new-privileges" && !c_.process->noNewPrivileges)
      return {no_new_privileges_shortfall(*c_.process), no_new_privileges_fix()};
    const auto& res = c_.linux.resources;
    if (feature == "cgroup-pids" && !(res && res->pidsLimit && *res->pidsLimit > 0))
      return {"no pids limit is set (linux.resources.pids or the policy's resources.pidsMax)",
              "set linux.resources.pids.limit in config.json or resources.pidsMax in the policy"};
    if (feature == "cgroup-memory" && !(res && res->memory && res->memory->limit))
      return {"no memory limit is set (linux.resources.memory or the policy's resources.memoryMax)",
              "set linux.resources.memory.limit in config.json or resources.memoryMax in the policy"};
    if (feature == "landlock" && !out_.landlock)
      return {"the policy has no execFrom, writable or network rules for Landlock to enforce",
              "give the policy filesystem.execFrom, filesystem.writable or network TCP rules" + elsewhere};
    return {};
  }

  // Each required feature must be attainable here and asked for by the config.
  void requirements() {
    for (const auto& feature : p_.require) {
      const Shortfall s = shortfall(feature);
      out_.features.push_back({feature, true, s.reason.empty(), s.reason});
      if (!s.reason.empty()) violation("requires " + feature + ": " + s.reason, s.fix);
    }
  }

  const Policy& p_;
  spec::Config& c_;
  const TranslateContext& ctx_;
  Verdicts verdicts_;
  Translation out_;
};

std::string passwd_home(const std::string& passwd, uint32_t uid) {
  for (std::string_view line : text_lines(passwd)) {
    const std::vector<std::string_view> f = text_fields(line, ':');
    if (f.size() >= 6 && f[2] == std::to_string(uid) && f[5].starts_with('/')) return std::string(f[5]);
  }
  return "";
}

}  // namespace

const std::map<std::string, spec::NamespaceType>& namespace_features() {
  static const std::map<std::string, spec::NamespaceType> kMap = {
      {"user-ns", spec::NamespaceType::user},   {"pid-ns", spec::NamespaceType::pid},
      {"net-ns", spec::NamespaceType::network}, {"mount-ns", spec::NamespaceType::mount},
      {"ipc-ns", spec::NamespaceType::ipc},     {"uts-ns", spec::NamespaceType::uts},
      {"cgroup-ns", spec::NamespaceType::cgroup}, {"time-ns", spec::NamespaceType::time}};
  return kMap;
}

std::vector<std::string> expand_home(const std::string& path, const spec::Process& process, const std::string& passwd) {
  if (path.rfind("~/", 0) != 0) return {path};
  std::vector<std::string> homes;
  const std::string from_passwd = passwd_home(passwd, process.user.uid);
  homes.push_back(!from_passwd.empty() ? from_passwd : process.user.uid == 0 ? "/root" : "/");
  for (const auto& e : process.env)
    if (e.rfind("HOME=", 0) == 0 && e.size() > 6 && e[5] == '/' && !contains(homes, e.substr(5))) homes.push_back(e.substr(5));
  std::vector<std::string> out;
  for (auto home : homes) {
    if (home.size() > 1 && home.back() == '/') home.pop_back();
    out.push_back((home == "/" ? "" : home) + path.substr(1));
  }
  return out;
}

std::vector<std::string> deny_read_patterns(const Policy& policy, const spec::Process& process, const std::string& passwd) {
  std::vector<std::string> out;
  for (const auto& path : policy.filesystem.denyRead)
    for (auto& resolved : expand_home(path, process, passwd))
      if (!contains(out, resolved)) out.push_back(std::move(resolved));
  if (process.user.uid == 0 && !out.empty() && !contains(out, "/home/*")) out.push_back("/home/*");
  return out;
}

std::vector<std::string> repo_hook_patterns(const Policy& policy) {
  std::vector<std::string> out;
  if (!policy.filesystem.protectRepoHooks.value_or(false) || !policy.filesystem.writable) return out;
  for (const auto& dir : *policy.filesystem.writable)
    for (const char* tail : {"/**/.git/hooks", "/**/.git/config", "/**/.envrc"})
      out.push_back((dir == "/" ? "" : dir) + tail);
  return out;
}

Translation translate(const Policy& policy, spec::Config& config, const TranslateContext& ctx) {
  return Translator(policy, config, ctx).run();
}

}  // namespace agentrun::policy
