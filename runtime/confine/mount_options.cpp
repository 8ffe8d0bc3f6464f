#include "runtime/confine/mount_options.hpp"

#include <linux/mount.h>

#include <algorithm>
#include <string_view>

#include "spec/error.hpp"

namespace agentrun {
namespace {

struct AttrOption {
  std::string_view name;
  uint64_t set;
  uint64_t clr;
};

constexpr uint64_t kAtime = MOUNT_ATTR__ATIME;

// Each changes the mount itself; with an "r" in front ("rro", "rnosuid") the
// whole tree.
constexpr AttrOption kAttrOptions[] = {
    {"ro", MOUNT_ATTR_RDONLY, 0},
    {"rw", 0, MOUNT_ATTR_RDONLY},
    {"nosuid", MOUNT_ATTR_NOSUID, 0},
    {"suid", 0, MOUNT_ATTR_NOSUID},
    {"nodev", MOUNT_ATTR_NODEV, 0},
    {"dev", 0, MOUNT_ATTR_NODEV},
    {"noexec", MOUNT_ATTR_NOEXEC, 0},
    {"exec", 0, MOUNT_ATTR_NOEXEC},
    {"nosymfollow", MOUNT_ATTR_NOSYMFOLLOW, 0},
    {"symfollow", 0, MOUNT_ATTR_NOSYMFOLLOW},
    {"noatime", MOUNT_ATTR_NOATIME, kAtime},
    {"strictatime", MOUNT_ATTR_STRICTATIME, kAtime},
    {"relatime", MOUNT_ATTR_RELATIME, kAtime},
    // Clearing noatime, relatime or strictatime leaves the kernel default.
    {"atime", MOUNT_ATTR_RELATIME, kAtime},
    {"norelatime", MOUNT_ATTR_RELATIME, kAtime},
    {"nostrictatime", MOUNT_ATTR_RELATIME, kAtime},
    {"nodiratime", MOUNT_ATTR_NODIRATIME, 0},
    {"diratime", 0, MOUNT_ATTR_NODIRATIME},
};

struct PropagationOption {
  std::string_view name;
  uint64_t propagation;
};

// Likewise "rprivate" and the others for the whole tree.
constexpr PropagationOption kPropagation[] = {
    {"private", MS_PRIVATE},
    {"shared", MS_SHARED},
    {"slave", MS_SLAVE},
    {"unbindable", MS_UNBINDABLE},
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

// The entry `opt` names and whether it is the recursive form ("rnosuid").
// No name in a table is another's recursive form ("ro" is not "r" + "o").
template <class T, size_t N>
std::pair<const T*, bool> find_option(const T (&table)[N], std::string_view opt) {
  if (const T* e = find_named(table, opt)) return {e, false};
  if (opt.size() > 1 && opt[0] == 'r') return {find_named(table, opt.substr(1)), true};
  return {nullptr, false};
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
    const auto [attr, attr_tree] = find_option(kAttrOptions, opt);
    const auto [propagation, propagation_tree] = find_option(kPropagation, opt);
    if (opt == "bind" || opt == "rbind") {
      out.bind = true;
      out.recursive = out.recursive || opt == "rbind";
    } else if (attr) {
      apply(attr_tree ? out.tree : out.top, attr->set, attr->clr);
    } else if (propagation) {
      (propagation_tree ? out.tree : out.top).propagation = propagation->propagation;
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
  for (const auto& a : kAttrOptions) out.push_back("r" + std::string(a.name));
  for (const auto& p : kPropagation) out.emplace_back(p.name);
  for (const auto& p : kPropagation) out.push_back("r" + std::string(p.name));
  for (auto s : kSuperblockFlags) out.emplace_back(s);
  for (auto s : kDefaults) out.emplace_back(s);
  return out;
}

}  // namespace agentrun
