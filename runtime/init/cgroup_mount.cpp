#include "runtime/init/cgroup_mount.hpp"

#include <errno.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "runtime/init/mount_calls.hpp"
#include "runtime/util/fd.hpp"
#include "runtime/util/mountinfo.hpp"
#include "runtime/util/text_lines.hpp"

namespace agentrun {
namespace {

struct OwnCgroup {
  std::vector<std::string> controllers;  // {"cpu","cpuacct"}, {"name=systemd"}, {} for v2
  std::string path;
};

// The non-empty items of a comma-separated list.
std::vector<std::string> items(std::string_view list) {
  std::vector<std::string> out;
  for (std::string_view item : text_fields(list, ','))
    if (!item.empty()) out.emplace_back(item);
  return out;
}

std::vector<OwnCgroup> parse_own_cgroups(const std::string& text) {
  std::vector<OwnCgroup> out;
  for (std::string_view line : text_lines(text)) {
    auto first = line.find(':');
    auto second = line.find(':', first + 1);
    if (first == std::string::npos || second == std::string::npos) continue;
    out.push_back({items(line.substr(first + 1, second - first - 1)), std::string(line.substr(second + 1))});
  }
  return out;
}

bool has_option(const std::string& options, const std::string& name) {
  for (const auto& o : items(options))
    if (o == name) return true;
  return false;
}

// The directory of this process's cgroup in the hierarchy mounted by `mi`.
Result<std::string> own_directory(const MountInfo& mi, const std::vector<OwnCgroup>& own) {
  for (const auto& c : own) {
    bool v2 = mi.fstype == "cgroup2";
    bool match = v2 ? c.controllers.empty() : !c.controllers.empty();
    for (const auto& name : c.controllers) match = match && has_option(mi.super_options, name);
    if (!match) continue;
    std::string rel = c.path;
    if (mi.root != "/" && rel.compare(0, mi.root.size(), mi.root) == 0) rel = rel.substr(mi.root.size());
    return mi.mount_point + (rel == "/" ? "" : rel);
  }
  return plain_error("find this process's cgroup in " + mi.mount_point, "not in /proc/self/cgroup");
}

std::string base_name(const std::string& path) { return path.substr(path.rfind('/') + 1); }

Status bind_hierarchy(Sys& sys, int parent, const std::string& name, const std::string& source,
                      const MountStep& m) {
  const std::string step = "mount cgroup " + source + " on " + m.destination + "/" + name;
  if (::mkdirat(parent, name.c_str(), 0755) < 0 && errno != EEXIST) return sys_error(step, errno);
  UniqueFd dir(::openat(parent, name.c_str(), O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
  if (!dir) return sys_error(step, errno);
  AR_TRY_ASSIGN(UniqueFd tree, sys_fd(sys.open_tree(AT_FDCWD, source.c_str(), OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC), step));
  MountAttrs attrs = m.options.top;
  attrs.set |= m.options.tree.set;
  attrs.clr |= m.options.tree.clr;
  AR_TRY(set_mount_attrs(sys, tree.get(), attrs, true, step));
  return attach(sys, tree.get(), dir.get(), step);
}

Result<UniqueFd> fresh_mount(Sys& sys, const char* type, const char* key, const char* value,
                             unsigned attrs, const std::string& step) {
  AR_TRY_ASSIGN(UniqueFd fs, sys_fd(sys.fsopen(type, FSOPEN_CLOEXEC), step));
  if (key) AR_TRY(sys_status(sys.fsconfig(fs.get(), FSCONFIG_SET_STRING, key, value, 0), step));
  AR_TRY(sys_status(sys.fsconfig(fs.get(), FSCONFIG_CMD_CREATE, nullptr, nullptr, 0), step));
  return sys_fd(sys.fsmount(fs.get(), FSMOUNT_CLOEXEC, attrs), step);
}

}  // namespace

Status mount_cgroups(Sys& sys, int target, const MountStep& m, bool own_cgroup_ns, const std::string& own_cgroups,
                     const std::vector<MountInfo>& host_mounts) {
  const std::string step = "mount cgroup on " + m.destination;
  const auto own = parse_own_cgroups(own_cgroups);
  std::vector<const MountInfo*> v1, v2;
  for (const auto& mi : host_mounts) {
    if (mi.mount_point.compare(0, 14, "/sys/fs/cgroup") != 0) continue;
    if (mi.fstype == "cgroup") v1.push_back(&mi);
    if (mi.fstype == "cgroup2") v2.push_back(&mi);
  }
  if (v1.empty() && v2.empty()) return plain_error(step, "the host has no cgroup file system mounted");
  const unsigned attrs = static_cast<unsigned>(m.options.top.set | m.options.tree.set);

  if (v1.empty()) {  // cgroup v2 only
    if (own_cgroup_ns) {
      AR_TRY_ASSIGN(UniqueFd mnt, fresh_mount(sys, "cgroup2", nullptr, nullptr, attrs, step));
      return attach(sys, mnt.get(), target, step);
    }
    AR_TRY_ASSIGN(std::string source, own_directory(*v2.front(), own));
    // The step is built only on failure: no allocation after fork that can be avoided.
    const int rc = sys.open_tree(AT_FDCWD, source.c_str(), OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC);
    if (rc < 0) return sys_error(step + ": bind " + source, -rc);
    UniqueFd tree(rc);
    AR_TRY(set_mount_attrs(sys, tree.get(), MountAttrs{attrs, 0, 0}, true, step));
    return attach(sys, tree.get(), target, step);
  }

  // v1 or hybrid: a tmpfs holding one directory per hierarchy.
  AR_TRY_ASSIGN(UniqueFd tmpfs, fresh_mount(sys, "tmpfs", "mode", "755",
                                            MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV | MOUNT_ATTR_NOEXEC, step));
  AR_TRY(attach(sys, tmpfs.get(), target, step));
  UniqueFd top(::openat(tmpfs.get(), ".", O_PATH | O_DIRECTORY | O_CLOEXEC));
  if (!top) return sys_error(step, errno);
  for (const MountInfo* mi : v1) {
    std::string name = base_name(mi->mount_point);
    AR_TRY_ASSIGN(std::string source, own_directory(*mi, own));
    AR_TRY(bind_hierarchy(sys, top.get(), name, source, m));
    // Co-mounted controllers ("cpu,cpuacct") are reachable by each name.
    auto parts = items(name);
    for (size_t i = 0; parts.size() > 1 && i < parts.size(); ++i)
      if (::symlinkat(name.c_str(), top.get(), parts[i].c_str()) < 0 && errno != EEXIST)
        return sys_error(step + ": link " + parts[i], errno);
  }
  for (const MountInfo* mi : v2) {
    AR_TRY_ASSIGN(std::string source, own_directory(*mi, own));
    AR_TRY(bind_hierarchy(sys, top.get(), base_name(mi->mount_point), source, m));
  }
  MountAttrs final_attrs = m.options.top;
  return set_mount_attrs(sys, tmpfs.get(), final_attrs, false, step);
}

}  // namespace agentrun
