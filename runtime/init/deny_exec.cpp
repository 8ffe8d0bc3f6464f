#include "runtime/init/deny_exec.hpp"

#include <fcntl.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>

#include <cstdint>
#include <string>
#include <vector>

#include "runtime/init/mount_calls.hpp"
#include "runtime/util/in_root.hpp"

namespace agentrun {
namespace {

// The cover is a clone of the host's verified /dev/null, read-only, nodev and
// noexec: it can be neither run nor opened. Not a file of a tmpfs made for
// it: that tmpfs would be a detached mount, and open_tree(OPEN_TREE_CLONE)
// clones from a mount outside the caller's namespace only since Linux 6.15
// (before, EINVAL: the step that failed on 6.1 and 6.12).
Status block_entry(const CoverSource& at, int entry, const std::string& path, std::vector<std::string>& blocked) {
  const std::string step = "block " + path;
  struct stat st;
  if (::fstatat(entry, "", &st, AT_EMPTY_PATH) < 0) return sys_error(step, errno);
  if (S_ISDIR(st.st_mode)) return {};
  AR_TRY_ASSIGN(UniqueFd cover, clone_mount(at.sys, at.dev_null, false, step));
  MountAttrs inert;
  inert.set = MOUNT_ATTR_RDONLY | MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV | MOUNT_ATTR_NOEXEC;
  AR_TRY(set_mount_attrs(at.sys, cover.get(), inert, false, step));
  AR_TRY(attach(at.sys, cover.get(), entry, step));
  blocked.push_back(path);
  return {};
}

// A PATH directory whose entries are covered. The same mount and inode
// reached again by another path (a merged /usr: /bin -> usr/bin) has them
// covered already; another mount of the directory (a bind) does not.
struct CoveredDir {
  uint64_t mount = 0;
  dev_t dev = 0;
  ino_t ino = 0;
  std::vector<std::string> names;
};

// The directory is resolved in the root once, and each name, a bare command
// name (the policy checks it), looked up in it.
Status block_in_directory(const CoverSource& at, const Plan& plan, const std::string& dir,
                          std::vector<CoveredDir>& covered, std::vector<std::string>& blocked) {
  auto d = open_in_root(at.root, dir, O_PATH | O_DIRECTORY);
  if (!d && d.error().errnum == ENOENT) return {};
  if (!d) return Error{"block " + dir + "/" + plan.deny_exec.front(), d.error().reason, d.error().errnum};
  struct statx stx {};
  if (::statx(d->get(), "", AT_EMPTY_PATH, STATX_INO | STATX_MNT_ID, &stx) < 0)
    return sys_error("block in " + dir, errno);
  CoveredDir here{stx.stx_mnt_id, makedev(stx.stx_dev_major, stx.stx_dev_minor), stx.stx_ino, {}};
  const bool known_mount = stx.stx_mask & STATX_MNT_ID;
  if (known_mount)
    for (const CoveredDir& c : covered)
      if (c.mount == here.mount && c.dev == here.dev && c.ino == here.ino) {
        for (const auto& name : c.names) blocked.push_back(dir + "/" + name);
        return {};
      }
  for (const auto& name : plan.deny_exec) {
    const std::string path = dir + "/" + name;
    // O_NOFOLLOW: the entry itself, even when it is a symlink to a multi-call binary.
    auto entry = open_in_root(d->get(), name, O_PATH | O_NOFOLLOW);
    if (!entry && entry.error().errnum == ENOENT) continue;
    if (!entry) return Error{"block " + path, "open " + path + " in the container's root", entry.error().errnum};
    const size_t before = blocked.size();
    AR_TRY(block_entry(at, entry->get(), path, blocked));
    if (blocked.size() > before) here.names.push_back(name);
  }
  if (known_mount) covered.push_back(std::move(here));
  return {};
}

}  // namespace

Status block_denied_executables(const CoverSource& at, const Plan& plan, std::vector<std::string>& blocked) {
  if (plan.deny_exec.empty()) return {};
  std::vector<CoveredDir> covered;
  for (const auto& dir : plan.deny_exec_dirs) AR_TRY(block_in_directory(at, plan, dir, covered, blocked));
  return {};
}

}  // namespace agentrun
