#include "runtime/confine/mount_options.hpp"

#include <linux/mount.h>

#include <algorithm>
#include <string_view>

#include "spec/error.hpp"

namespace agentrun {
namespace {

enum class Scope { top, tree };

struct AttrOption {
  std::string_view name;
  Scope scope;
  uint64_t set;
  uint64_t clr;
};

constexpr uint64_t kAtime = MOUNT_ATTR__ATIME;

// Plain options change the mount itself, "r" options the whole tree.
constexpr AttrOption kAttrOptions[] = {
    {"ro", Scope::top, MOUNT_ATTR_RDONLY, 0},
    {"rw", Scope::top, 0, MOUNT_ATTR_RDONLY},
    {"nosuid", Scope::top, MOUNT_ATTR_NOSUID, 0},
    {"suid", Scope::top, 0, MOUNT_ATTR_NOSUID},
    {"nodev", Scope::top, MOUNT_ATTR_NODEV, 0},
    {"dev", Scope::top, 0, MOUNT_ATTR_NODEV},
    {"noexec", Scope::top, MOUNT_ATTR_NOEXEC, 0},
    {"exec", Scope::top, 0, MOUNT_ATTR_NOEXEC},
    {"nosymfollow", Scope::top, MOUNT_ATTR_NOSYMFOLLOW, 0},
    {"symfollow", Scope::top, 0, MOUNT_ATTR_NOSYMFOLLOW},
    {"noatime", Scope::top, MOUNT_ATTR_NOATIME, kAtime},
    {"strictatime", Scope::top, MOUNT_ATTR_STRICTATIME, kAtime},
    {"relatime", Scope::top, MOUNT_ATTR_RELATIME, kAtime},
    // Clearing noatime, relatime or strictatime leaves the kernel default.
    {"atime", Scope::top, MOUNT_ATTR_RELATIME, kAtime},
    {"norelatime", Scope::top, MOUNT_ATTR_RELATIME, kAtime},
    {"nostrictatime", Scope::top, MOUNT_ATTR_RELATIME, kAtime},
    {"nodiratime", Scope::top, MOUNT_ATTR_NODIRATIME, 0},
    {"diratime", Scope::top, 0, MOUNT_ATTR_NODIRATIME},
    {"rro", Scope::tree, MOUNT_ATTR_RDONLY, 0},
    {"rrw", Scope::tree, 0, MOUNT_ATTR_RDONLY},
    {"rnosuid", Scope::tree, MOUNT_ATTR_NOSUID, 0},
    {"rsuid", Scope::tree, 0, MOUNT_ATTR_NOSUID},
    {"rnodev", Scope::tree, MOUNT_ATTR_NODEV, 0},
    {"rdev", Scope::tree, 0, MOUNT_ATTR_NODEV},
    {"rnoexec", Scope::tree, MOUNT_ATTR_NOEXEC, 0},
    {"rexec", Scope::tree, 0, MOUNT_ATTR_NOEXEC},
    {"rnosymfollow", Scope::tree, MOUNT_ATTR_NOSYMFOLLOW, 0},
    {"rsymfollow", Scope::tree, 0, MOUNT_ATTR_NOSYMFOLLOW},
    {"rnoatime", Scope::tree, MOUNT_ATTR_NOATIME, kAtime},
    {"rstrictatime", Scope::tree, MOUNT_ATTR_STRICTATIME, kAtime},
    {"rrelatime", Scope::tree, MOUNT_ATTR_RELATIME, kAtime},
    {"ratime", Scope::tree, MOUNT_ATTR_RELATIME, kAtime},
    {"rnorelatime", Scope::tree, MOUNT_ATTR_RELATIME, kAtime},
    {"rnostrictatime", Scope::tree, MOUNT_ATTR_RELATIME, kAtime},
    {"rnodiratime", Scope::tree, MOUNT_ATTR_NODIRATIME, 0},
    {"rdiratime", Scope::tree, 0, MOUNT_ATTR_NODIRATIME},
};

struct PropagationOption {
  std::string_view name;
  Scope scope;
  uint64_t propagation;
};

constexpr PropagationOption kPropagation[] = {
    {"private", Scope::top, MS_PRIVATE},      {"rprivate", Scope::tree, MS_PRIVATE},
    {"shared", Scope::top, MS_SHARED},        {"rshared", Scope::tree, MS_SHARED},
    {"slave", Scope::top, MS_SLAVE},          {"rslave", Scope::tree, MS_SLAVE},
    {"unbindable", Scope::top, MS_UNBINDABLE}, {"runbindable", Scope::tree, MS_UNBINDABLE},
};

// Superblock flags a new file system takes as parameters.
constexpr std::string_view kSuperblockFlags[] = {"sync", "dirsync", "mand", "lazytime", "silent"};
// The defaults of a new mount: accepted and nothing to do.
constexpr std::string_view kDefaults[] = {"async", "nomand", "nolazytime", "loud", "defaults"};

template <size_t N>
bool listed(const std::string_view (&table)[N], std::string_view name) {
  return std::find(std::begin(table), std::end(table), name) != std::end(table);
}

template <class T, size_t N>
const T* find_named(const T (&table)[N], std::string_view name) {
  for (const auto& e : table)
    if (e.name == name) return &e;
  return nullptr;
}

// A later option overrides an earlier one ("rw" after "ro").
void apply(MountAttrs& attrs, uint64_t set, uint64_t clr) {
  attrs.set = (attrs.set & ~clr) | set;
  attrs.clr = (attrs.clr & ~set) | clr;
}

}  // namespace

MountOptions parse_mount_options(const std::vector<std::string>& options, bool bind_type,
                                 const std::string& field) {
  MountOptions out;
  out.bind = bind_type;
  for (size_t i = 0; i < options.size(); ++i) {
    const std::string& opt = options[i];
    std::string where = field + "[" + std::to_string(i) + "]";
    auto scope_of = [&out](Scope s) -> MountAttrs& { return s == Scope::top ? out.top : out.tree; };
    if (opt == "bind" || opt == "rbind") {
      out.bind = true;
      out.recursive = out.recursive || opt == "rbind";
    } else if (auto* a = find_named(kAttrOptions, opt)) {
      apply(scope_of(a->scope), a->set, a->clr);
    } else if (auto* p = find_named(kPropagation, opt)) {
      scope_of(p->scope).propagation = p->propagation;
    } else if (listed(kSuperblockFlags, opt)) {
      out.sb_flags.push_back(opt);
    } else if (listed(kDefaults, opt)) {
      // nothing to do
    } else if (opt == "tmpcopyup") {
      out.copy_up = true;
    } else if (opt == "idmap" || opt == "ridmap") {
      out.idmap = true;
    } else if (opt == "remount") {
      fail(where, "option \"remount\" is not supported: a container mount is always a new mount");
    } else if (opt.empty()) {
      fail(where, "empty mount option");
    } else {
      auto eq = opt.find('=');
      FsParameter p{opt.substr(0, eq), std::nullopt};
      if (eq != std::string::npos) p.value = opt.substr(eq + 1);
      out.data.push_back(std::move(p));
    }
  }
  if (out.bind && !out.data.empty())
    fail(field, "unknown mount option \"" + out.data.front().key +
                    (out.data.front().value ? "=" + *out.data.front().value : "") +
                    "\" for a bind mount");
  if (out.bind && !out.sb_flags.empty())
    fail(field, "option \"" + out.sb_flags.front() +
                    "\" changes the file system and is not supported on a bind mount");
  if (out.bind && out.copy_up) fail(field, "option \"tmpcopyup\" applies to tmpfs mounts only");
  return out;
}

std::vector<std::string> known_mount_options() {
  // idmap and ridmap are recognised (to refuse them clearly) but not offered.

  std::vector<std::string> out = {"bind", "rbind", "tmpcopyup"};
  for (const auto& a : kAttrOptions) out.emplace_back(a.name);
  for (const auto& p : kPropagation) out.emplace_back(p.name);
  for (auto s : kSuperblockFlags) out.emplace_back(s);
  for (auto s : kDefaults) out.emplace_back(s);
  return out;
}

}  // namespace agentrun
