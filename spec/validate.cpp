#include "spec/validate.hpp"

#include <algorithm>
#include <charconv>
#include <set>
#include <string_view>
#include <utility>

#include "spec/error.hpp"
#include "spec/names.hpp"

namespace agentrun::spec {
namespace {

std::string at_index(const std::string& base, size_t i) {
  return base + "[" + std::to_string(i) + "]";
}

std::string quoted(std::string_view s) { return "\"" + std::string(s) + "\""; }

bool take_number(std::string_view& s, unsigned& out) {
  auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), out);
  if (ec != std::errc()) return false;
  s.remove_prefix(static_cast<size_t>(end - s.data()));
  return true;
}

bool take_dot(std::string_view& s) {
  if (!s.starts_with('.')) return false;
  s.remove_prefix(1);
  return true;
}

// "1.<minor>.<patch>" with minor <= 2, optionally followed by a semver
// pre-release or build suffix ("1.0.2-dev").
bool supported_version(std::string_view v) {
  unsigned major = 0, minor = 0, patch = 0;
  if (!take_number(v, major) || !take_dot(v) || !take_number(v, minor) || !take_dot(v) ||
      !take_number(v, patch))
    return false;
  bool suffix_ok = v.empty() || (v.size() > 1 && (v[0] == '-' || v[0] == '+'));
  return major == 1 && minor <= 2 && suffix_ok;
}

// Strictly below /dev, with no "." or ".." component that could lead out.
bool under_dev(std::string_view p) {
  if (!p.starts_with("/dev/")) return false;
  p.remove_prefix(5);
  bool named = false;
  while (!p.empty()) {
    size_t end = std::min(p.find('/'), p.size());
    std::string_view part = p.substr(0, end);
    if (part == "." || part == "..") return false;
    named = named || !part.empty();
    p.remove_prefix(std::min(end + 1, p.size()));
  }
  return named;
}

// Dot-separated, non-empty words. The sysctl is written to /proc/sys with
// dots turned into slashes, so a '/' or an empty word could walk out of it.
bool well_formed_sysctl(std::string_view key) {
  return !key.empty() && key.find('/') == std::string_view::npos && key.front() != '.' &&
         key.back() != '.' && key.find("..") == std::string_view::npos;
}


constexpr std::string_view kPropagations[] = {
    "", "private", "rprivate", "slave", "rslave", "shared", "rshared", "unbindable", "runbindable",
};

class Validator {
 public:
  Validator(const Config& c, const std::string& file) : c_(c), l_(c.linux), file_(file) {}

  void process(const Process& p) const {
    require(!p.args.empty(), "process.args", "must not be empty");
    absolute(p.cwd, "process.cwd");
    require(!p.user.umask || *p.user.umask <= 0777, "process.user.umask", "must be at most 0777");
    rlimits(p.rlimits);
    if (p.ioPriority) in_range(p.ioPriority->priority, 0, 7, "process.ioPriority.priority");
    if (p.oomScoreAdj) in_range(*p.oomScoreAdj, -1000, 1000, "process.oomScoreAdj");
  }

  void run() const {
    require(supported_version(c_.ociVersion), "ociVersion",
            "unsupported version " + quoted(c_.ociVersion) + " (supported: 1.0.x to 1.2.x)");
    if (c_.process) process(*c_.process);
    mounts();
    hooks();
    namespaces();
    user_namespace();
    uts();
    time_offsets();
    sysctls();
    paths();
    seccomp();
    features();
  }

 private:
  [[noreturn]] void fail(const std::string& path, const std::string& reason) const {
    agentrun::fail(file_ + ": " + path, reason);
  }

  void require(bool ok, const std::string& path, const std::string& reason) const {
    if (!ok) fail(path, reason);
  }

  void absolute(const std::string& value, const std::string& path) const {
    require(value.starts_with('/'), path, "must be an absolute path, not " + quoted(value));
  }

  void in_range(int64_t v, int64_t lo, int64_t hi, const std::string& path) const {
    require(
        v >= lo && v <= hi, path,
        std::to_string(v) + " is out of range " + std::to_string(lo) + ".." + std::to_string(hi));
  }

  const Namespace* ns(NamespaceType t) const {
    auto it = std::find_if(l_.namespaces.begin(), l_.namespaces.end(),
                           [t](const Namespace& n) { return n.type == t; });
    return it == l_.namespaces.end() ? nullptr : &*it;
  }

  // A namespace the container creates (listed, with no path to join).
  bool new_ns(NamespaceType t) const {
    const Namespace* n = ns(t);
    return n && n->path.empty();
  }

  void rlimits(const std::vector<Rlimit>& limits) const {
    std::set<int> seen;
    for (size_t i = 0; i < limits.size(); ++i) {
      const Rlimit& r = limits[i];
      std::string path = at_index("process.rlimits", i);
      require(seen.insert(r.resource).second, path + ".type", "duplicate rlimit " + quoted(r.type));
      require(
          r.soft <= r.hard, path,
          "soft limit " + std::to_string(r.soft) + " exceeds hard limit " + std::to_string(r.hard));
    }
  }

  void id_mappings(const std::vector<IdMapping>& maps, const std::string& base) const {
    constexpr uint64_t kIdSpace = uint64_t{1} << 32;
    for (size_t i = 0; i < maps.size(); ++i) {
      const IdMapping& m = maps[i];
      std::string path = at_index(base, i);
      require(m.size > 0, path + ".size", "must be greater than zero");
      require(uint64_t{m.containerID} + m.size <= kIdSpace, path,
              "containerID + size exceeds 2^32");
      require(uint64_t{m.hostID} + m.size <= kIdSpace, path, "hostID + size exceeds 2^32");
    }
  }

  void mounts() const {
    for (size_t i = 0; i < c_.mounts.size(); ++i) {
      const Mount& m = c_.mounts[i];
      std::string path = at_index("mounts", i);
      // runc lets old configs use relative destinations; we do not guess.
      absolute(m.destination, path + ".destination");
      id_mappings(m.uidMappings, path + ".uidMappings");
      id_mappings(m.gidMappings, path + ".gidMappings");
    }
  }

  void hooks() const {
    const Hooks& h = c_.hooks;
    const std::pair<const std::vector<Hook>*, const char*> stages[] = {
        {&h.prestart, "prestart"},
        {&h.createRuntime, "createRuntime"},
        {&h.createContainer, "createContainer"},
        {&h.startContainer, "startContainer"},
        {&h.poststart, "poststart"},
        {&h.poststop, "poststop"},
    };
    for (const auto& [list, name] : stages)
      for (size_t i = 0; i < list->size(); ++i)
        absolute((*list)[i].path, at_index(std::string("hooks.") + name, i) + ".path");
  }

  void namespaces() const {
    std::set<NamespaceType> seen;
    for (size_t i = 0; i < l_.namespaces.size(); ++i) {
      const Namespace& n = l_.namespaces[i];
      std::string path = at_index("linux.namespaces", i);
      require(seen.insert(n.type).second, path + ".type",
              "duplicate namespace " + quoted(namespace_name(n.type)));
      if (!n.path.empty()) absolute(n.path, path + ".path");
    }
  }

  // Mappings are needed to create a user namespace and meaningless without
  // one; joining an existing one takes its mappings as they are.
  void user_namespace() const {
    const std::pair<const std::vector<IdMapping>*, const char*> kinds[] = {
        {&l_.uidMappings, "linux.uidMappings"},
        {&l_.gidMappings, "linux.gidMappings"},
    };
    for (const auto& [maps, path] : kinds) {
      id_mappings(*maps, path);
      if (new_ns(NamespaceType::user))
        require(!maps->empty(), path, "required when creating a user namespace");
      else if (!ns(NamespaceType::user))
        require(maps->empty(), path, "set without a user namespace");
    }
  }

  // Without a uts namespace these would rename the host. In a joined one
  // they rename that namespace, as runc and crun do; launch refuses to join
  // the runtime's own for them.
  void uts() const {
    for (const auto& [value, path] :
         {std::pair{&c_.hostname, "hostname"}, std::pair{&c_.domainname, "domainname"}})
      require(value->empty() || ns(NamespaceType::uts), path, "requires a uts namespace (created or joined)");
  }

  void time_offsets() const {
    if (l_.timeOffsets.empty()) return;
    require(new_ns(NamespaceType::time), "linux.timeOffsets", "requires a new time namespace");
    for (const auto& [clock, offset] : l_.timeOffsets) {
      std::string path = "linux.timeOffsets." + clock;
      require(clock == "monotonic" || clock == "boottime", path,
              "unknown clock " + quoted(clock) + " (expected \"monotonic\" or \"boottime\")");
      require(offset.nanosecs < 1'000'000'000, path + ".nanosecs", "must be less than 1000000000");
    }
  }

  void sysctls() const {
    for (const auto& [key, value] : l_.sysctl) {
      std::string path = "linux.sysctl." + key;
      require(well_formed_sysctl(key), path, "invalid sysctl name");
      auto type = sysctl_namespace(key);
      require(type.has_value(), path, "not namespaced, refusing to set it on the host");
      require(ns(*type) != nullptr, path,
              std::string("requires an isolated ") + namespace_name(*type) + " namespace");
    }
  }

  void paths() const {
    for (size_t i = 0; i < l_.devices.size(); ++i)
      require(under_dev(l_.devices[i].path), at_index("linux.devices", i) + ".path",
              "must be a path under /dev, not " + quoted(l_.devices[i].path));
    const std::pair<const std::vector<std::string>*, const char*> lists[] = {
        {&l_.maskedPaths, "linux.maskedPaths"},
        {&l_.readonlyPaths, "linux.readonlyPaths"},
    };
    for (const auto& [list, base] : lists)
      for (size_t i = 0; i < list->size(); ++i) absolute((*list)[i], at_index(base, i));
  }

  void errno_ret(SeccompAction action, bool set, const std::string& path) const {
    require(!set || action == SeccompAction::errno_ || action == SeccompAction::trace, path,
            std::string("only allowed with SCMP_ACT_ERRNO or SCMP_ACT_TRACE, not ") +
                seccomp_action_name(action));
  }

  void seccomp() const {
    if (!l_.seccomp) return;
    const Seccomp& s = *l_.seccomp;
    const std::string base = "linux.seccomp";
    // A notify default would hand every syscall, including those of the
    // runtime's own setup, to a listener that is not connected yet.
    require(s.defaultAction != SeccompAction::notify, base + ".defaultAction",
            "SCMP_ACT_NOTIFY cannot be the default action");
    errno_ret(s.defaultAction, s.defaultErrnoRet.has_value(), base + ".defaultErrnoRet");
    bool notify = false;
    for (size_t i = 0; i < s.syscalls.size(); ++i) {
      const SeccompSyscall& sc = s.syscalls[i];
      std::string path = at_index(base + ".syscalls", i);
      require(!sc.names.empty(), path + ".names", "must name at least one syscall");
      for (size_t j = 0; j < sc.names.size(); ++j)
        require(!sc.names[j].empty(), at_index(path + ".names", j), "must not be empty");
      errno_ret(sc.action, sc.errnoRet.has_value(), path + ".errnoRet");
      for (size_t k = 0; k < sc.args.size(); ++k)
        require(sc.args[k].index < 6, at_index(path + ".args", k) + ".index",
                "must be less than 6 (a syscall has at most 6 arguments)");
      notify = notify || sc.action == SeccompAction::notify;
    }
    // A listenerPath without a notifying rule is allowed: there is then no fd to send.
    if (notify)
      require(!s.listenerPath.empty(), base + ".listenerPath",
              "required when a syscall uses SCMP_ACT_NOTIFY");
  }

  // Fields this runtime cannot honour: refuse rather than run the
  // container without them.
  void features() const {
    require(!l_.intelRdt, "linux.intelRdt", "intelRdt is not supported");
    require(l_.netDevices.empty(), "linux.netDevices", "netDevices are not supported yet");
    require(!l_.personality || l_.personality->flags.empty(), "linux.personality.flags",
            "no personality flags are supported");
    require(std::find(std::begin(kPropagations), std::end(kPropagations), l_.rootfsPropagation) !=
                std::end(kPropagations),
            "linux.rootfsPropagation", "unknown propagation " + quoted(l_.rootfsPropagation));
  }

  const Config& c_;
  const Linux& l_;
  const std::string& file_;
};

}  // namespace

void validate_config(const Config& c, const std::string& file) {
  Validator(c, file).run();
}

void validate_process(const Process& p, const std::string& file) {
  const Config none;
  Validator(none, file).process(p);
}

std::optional<NamespaceType> sysctl_namespace(std::string_view key) {
  if (key.starts_with("kernel.msg") || key.starts_with("kernel.shm") || key == "kernel.sem" ||
      key.starts_with("fs.mqueue."))
    return NamespaceType::ipc;
  if (key.starts_with("net.")) return NamespaceType::network;
  if (key == "kernel.hostname" || key == "kernel.domainname") return NamespaceType::uts;
  return std::nullopt;
}

}  // namespace agentrun::spec
