#include "runtime/init/rootfs.hpp"

#include <errno.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/xattr.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include <algorithm>

#include "runtime/init/cgroup_mount.hpp"
#include "runtime/init/deny_exec.hpp"
#include "runtime/init/mount_calls.hpp"
#include "runtime/util/copy_tree.hpp"
#include "runtime/util/in_root.hpp"
#include "runtime/util/mount_root.hpp"

namespace agentrun {
namespace {

constexpr unsigned kRecursive = AT_RECURSIVE;



// The file-system context's own messages ("e tmpfs: Bad value for 'mode'").
std::string fs_log(int fs) {
  std::string out;
  char buf[512];
  ssize_t n;
  while ((n = ::read(fs, buf, sizeof buf - 1)) > 0) {
    std::string line(buf, static_cast<size_t>(n));
    if (line.size() > 2 && line[1] == ' ') line = line.substr(2);
    if (!out.empty()) out += "; ";
    out += line;
  }
  return out;
}

Status fs_error(int fs, int rc, const std::string& step) {
  Error e = sys_error(step, -rc);
  e.reason = fs_log(fs);
  return e;
}

Status set_propagation(Sys& sys, int tree, uint64_t propagation, bool recursive,
                       const std::string& step) {
  if (propagation == 0) return {};
  mount_attr attr{};
  attr.propagation = propagation;
  return sys_status(sys.mount_setattr(tree, "", AT_EMPTY_PATH | (recursive ? kRecursive : 0), attr),
                    step + ": set propagation");
}

// /proc, /sys and /dev, and whatever proc or sysfs is mounted on, must be
// real directories: a symlink there is how runc was tricked (CVE-2019-19921,
// CVE-2023-27561, CVE-2026-41579).
bool must_be_real_directory(const MountStep& m) {
  static const std::string kPaths[] = {"/proc", "/sys", "/dev"};
  return m.type == "proc" || m.type == "sysfs" ||
         std::find(std::begin(kPaths), std::end(kPaths), m.destination) != std::end(kPaths);
}

Result<UniqueFd> mount_target(RootfsSetup& s, const MountStep& m, TargetKind kind) {
  AR_TRY_ASSIGN(UniqueFd target, make_in_root(s.root.get(), m.destination, kind));
  if (must_be_real_directory(m))
    AR_TRY(open_in_root_no_symlinks(s.root.get(), m.destination, O_PATH | O_DIRECTORY));
  return target;
}

std::string bind_step(const MountStep& m) { return "bind-mount " + m.source + " on " + m.destination; }

// A detached copy of the source with the mount's attributes; `propagation`
// (0: as cloned) for a copy made outside the container's mount namespace.
Result<UniqueFd> clone_bind_source(Sys& sys, const MountStep& m, uint64_t propagation) {
  const std::string step = bind_step(m);
  AR_TRY_ASSIGN(UniqueFd tree,
                sys_fd(sys.open_tree(AT_FDCWD, m.source.c_str(),
                                     OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC | (m.options.recursive ? kRecursive : 0)),
                       step));
  AR_TRY(set_propagation(sys, tree.get(), propagation, true, step));
  AR_TRY(set_mount_attrs(sys, tree.get(), m.options.top, false, step));
  AR_TRY(set_mount_attrs(sys, tree.get(), m.options.tree, true, step));
  return tree;
}

Status mount_bind(RootfsSetup& s, const MountStep& m, UniqueFd tree) {
  const std::string step = bind_step(m);
  if (!tree) {
    AR_TRY_ASSIGN(tree, clone_bind_source(s.sys, m, 0));
  }
  struct stat st;
  if (::fstat(tree.get(), &st) < 0) return sys_error(step, errno);
  TargetKind kind = S_ISDIR(st.st_mode) ? TargetKind::directory : TargetKind::file;
  AR_TRY_ASSIGN(UniqueFd target, mount_target(s, m, kind));
  AR_TRY(attach(s.sys, tree.get(), target.get(), step));
  AR_TRY(set_propagation(s.sys, tree.get(), m.options.top.propagation, false, step));
  return set_propagation(s.sys, tree.get(), m.options.tree.propagation, true, step);
}

Result<UniqueFd> new_filesystem(Sys& sys, const MountStep& m, const std::string& step) {
  AR_TRY_ASSIGN(UniqueFd fs, sys_fd(sys.fsopen(m.type.c_str(), FSOPEN_CLOEXEC), step));
  int rc = sys.fsconfig(fs.get(), FSCONFIG_SET_STRING, "source", m.source.c_str(), 0);
  if (rc < 0) return fs_error(fs.get(), rc, step + ": source \"" + m.source + "\"").error();
  for (const auto& flag : m.options.sb_flags) {
    rc = sys.fsconfig(fs.get(), FSCONFIG_SET_FLAG, flag.c_str(), nullptr, 0);
    if (rc < 0) return fs_error(fs.get(), rc, step + ": option \"" + flag + "\"").error();
  }
  for (const auto& p : m.options.data) {
    rc = p.value ? sys.fsconfig(fs.get(), FSCONFIG_SET_STRING, p.key.c_str(), p.value->c_str(), 0)
                 : sys.fsconfig(fs.get(), FSCONFIG_SET_FLAG, p.key.c_str(), nullptr, 0);
    if (rc < 0)
      return fs_error(fs.get(), rc, step + ": option \"" + p.key + (p.value ? "=" + *p.value : "") + "\"")
          .error();
  }
  rc = sys.fsconfig(fs.get(), FSCONFIG_CMD_CREATE, nullptr, nullptr, 0);
  if (rc < 0) return fs_error(fs.get(), rc, step).error();
  unsigned attrs = static_cast<unsigned>(m.options.top.set | m.options.tree.set);
  return sys_fd(sys.fsmount(fs.get(), FSMOUNT_CLOEXEC, attrs), step);
}

// Without a network namespace of its own a container may not mount sysfs
// (EPERM in a user namespace); runc then binds the host's /sys, read-only
// as asked. The view is the same: the host's network devices are the ones
// the container already shares.
Result<UniqueFd> sysfs_fallback(Sys& sys, const MountStep& m, const std::string& step) {
  AR_TRY_ASSIGN(UniqueFd tree, sys_fd(sys.open_tree(AT_FDCWD, "/sys",
                                                    OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC | kRecursive),
                                      step + ": bind the host's /sys"));
  MountAttrs all = m.options.top;
  all.set |= m.options.tree.set;
  all.clr |= m.options.tree.clr;
  AR_TRY(set_mount_attrs(sys, tree.get(), all, true, step));
  return tree;
}

Status mount_filesystem(RootfsSetup& s, const MountStep& m) {
  const std::string step = "mount " + m.type + " on " + m.destination;
  auto made = new_filesystem(s.sys, m, step);
  if (!made && made.error().errnum == EPERM && m.type == "sysfs" &&
      !s.plan.creates(spec::NamespaceType::network))
    made = sysfs_fallback(s.sys, m, step);
  if (!made) return std::move(made).error();
  UniqueFd mnt = std::move(*made);
  AR_TRY_ASSIGN(UniqueFd target, mount_target(s, m, TargetKind::directory));
  UniqueFd below;  // what the tmpfs will cover, for tmpcopyup
  if (m.options.copy_up) {
    AR_TRY_ASSIGN(below, open_in_root(s.root.get(), m.destination, O_RDONLY | O_DIRECTORY));
  }
  AR_TRY(attach(s.sys, mnt.get(), target.get(), step));
  AR_TRY(set_propagation(s.sys, mnt.get(), m.options.top.propagation, false, step));
  AR_TRY(set_propagation(s.sys, mnt.get(), m.options.tree.propagation, true, step));
  if (!m.root_label.empty()) {
    UniqueFd top(::openat(mnt.get(), ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC));
    if (!top || ::fsetxattr(top.get(), "security.selinux", m.root_label.data(), m.root_label.size(), 0) < 0)
      return sys_error(step + ": label its root " + m.root_label, errno);
  }
  if (below) {
    UniqueFd top(::openat(mnt.get(), ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC));
    if (!top) return sys_error(step + ": tmpcopyup", errno);
    AR_TRY(copy_tree(below.get(), top.get(), step + ": tmpcopyup"));
  }
  return {};
}

Status mount_one(RootfsSetup& s, const MountStep& m, UniqueFd bind_source) {
  switch (m.kind) {
    case MountKind::bind:
      return mount_bind(s, m, std::move(bind_source));
    case MountKind::cgroup: {
      AR_TRY_ASSIGN(UniqueFd target, mount_target(s, m, TargetKind::directory));
      return mount_cgroups(s.sys, target.get(), m, s.plan.creates(spec::NamespaceType::cgroup), s.own_cgroups,
                           s.plan.host_cgroup_mounts);
    }
    case MountKind::filesystem:
      return mount_filesystem(s, m);
  }
  return {};
}

Result<UniqueFd> open_verified_dev_null() {
  UniqueFd fd(::open("/dev/null", O_PATH | O_NOFOLLOW | O_CLOEXEC));
  if (!fd) return sys_error("open the host's /dev/null", errno);
  struct stat st;
  if (::fstat(fd.get(), &st) < 0) return sys_error("stat the host's /dev/null", errno);
  if (!S_ISCHR(st.st_mode) || st.st_rdev != makedev(1, 3))
    return plain_error("open the host's /dev/null", "it is not the null device (char 1:3)");
  return fd;
}

Status mask_path(RootfsSetup& s, const std::string& path) {
  const std::string step = "mask " + path;
  auto target = open_in_root(s.root.get(), path, O_PATH);
  if (!target && target.error().errnum == ENOENT) return {};  // nothing to hide
  if (!target) return Error{step, target.error().reason, target.error().errnum};
  struct stat st;
  if (::fstat(target->get(), &st) < 0) return sys_error(step, errno);
  UniqueFd cover;
  if (S_ISDIR(st.st_mode)) {
    MountStep empty{MountKind::filesystem, "", "tmpfs", path, "tmpfs", {}};
    empty.options.top.set = MOUNT_ATTR_RDONLY | MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV | MOUNT_ATTR_NOEXEC;
    AR_TRY_ASSIGN(cover, new_filesystem(s.sys, empty, step));
  } else {
    AR_TRY_ASSIGN(cover, clone_mount(s.sys, s.dev_null.get(), false, step));
    MountAttrs locked;  // reads stay empty, writes vanish; nothing else
    locked.set = MOUNT_ATTR_RDONLY | MOUNT_ATTR_NOSUID | MOUNT_ATTR_NOEXEC;
    AR_TRY(set_mount_attrs(s.sys, cover.get(), locked, false, step));
  }
  return attach(s.sys, cover.get(), target->get(), step);
}

Status make_readonly(RootfsSetup& s, const std::string& path) {
  const std::string step = "make " + path + " read-only";
  auto target = open_in_root(s.root.get(), path, O_PATH);
  if (!target && target.error().errnum == ENOENT) return {};
  if (!target) return Error{step, target.error().reason, target.error().errnum};
  AR_TRY_ASSIGN(UniqueFd tree, clone_mount(s.sys, target->get(), true, step));
  MountAttrs ro;
  ro.set = MOUNT_ATTR_RDONLY;
  AR_TRY(set_mount_attrs(s.sys, tree.get(), ro, true, step));
  return attach(s.sys, tree.get(), target->get(), step);
}

Status make_writable(RootfsSetup& s, const std::string& path) {
  const std::string step = "keep " + path + " writable";
  // No symlinks: a /workspace -> /etc in the image must not make /etc writable.
  auto dir = open_in_root(s.root.get(), path, O_PATH | O_DIRECTORY, RESOLVE_NO_SYMLINKS);
  if (!dir && (dir.error().errnum == ENOENT || dir.error().errnum == ENOTDIR)) return {};  // nothing to keep
  if (!dir && dir.error().errnum == ELOOP)
    return plain_error(step, "it is a symlink in the container's root; a writable path must be a real directory");
  if (!dir) return Error{step, dir.error().reason, dir.error().errnum};
  AR_TRY_ASSIGN(UniqueFd tree, clone_mount(s.sys, dir->get(), true, step));
  MountAttrs attrs;
  attrs.set = MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV | MOUNT_ATTR_NOEXEC;
  AR_TRY(set_mount_attrs(s.sys, tree.get(), attrs, true, step));
  return attach(s.sys, tree.get(), dir->get(), step);
}

// Before pivot_root the propagation applies to this namespace's copies of
// the host's mounts, which are still bind sources: an unbindable source
// could not be bound. They are private meanwhile; the new root gets the
// configured propagation once it is "/".
unsigned long propagation_before_pivot(unsigned long propagation) {
  if (!(propagation & MS_UNBINDABLE)) return propagation;
  return (propagation & ~MS_UNBINDABLE) | MS_PRIVATE;
}

// The mount holding the rootfs must not be shared: pivot_root refuses that,
// and the rootfs bound onto itself would propagate to the host's peers. It
// stays a slave when the root is to be one, as runc does, so that the host's
// later mounts still reach it.
Status make_parent_mount_unshared(Sys& sys, const std::string& rootfs, unsigned long propagation) {
  AR_TRY_ASSIGN(UniqueFd parent, open_mount_root(rootfs));
  const bool slave = propagation & MS_SLAVE;
  mount_attr attr{};
  attr.propagation = slave ? MS_SLAVE : MS_PRIVATE;
  return sys_status(sys.mount_setattr(parent.get(), "", AT_EMPTY_PATH, attr),
                    "make the mount holding " + rootfs + (slave ? " a slave mount" : " private") + " for the rootfs");
}

}  // namespace

Status prepare_rootfs(RootfsSetup& s) {
  const std::string& rootfs = s.plan.rootfs;
  AR_TRY(sys_status(s.sys.mount(nullptr, "/", nullptr, propagation_before_pivot(s.plan.rootfs_propagation), nullptr),
                    "set the propagation of / in the container's mount namespace"));
  AR_TRY(make_parent_mount_unshared(s.sys, rootfs, s.plan.rootfs_propagation));
  // A classic bind, not an open_tree clone: the clone would be private,
  // and rootfsPropagation (rslave by default, rshared for bidirectional
  // volumes) must hold for the root as well.
  AR_TRY(sys_status(s.sys.mount(rootfs.c_str(), rootfs.c_str(), nullptr, MS_BIND | MS_REC, nullptr),
                    "bind-mount the rootfs " + rootfs + " onto itself"));
  s.root.reset(::open(rootfs.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC));
  if (!s.root) return sys_error("open the rootfs " + rootfs, errno);
  AR_TRY_ASSIGN(s.dev_null, open_verified_dev_null());
  return {};
}

Status mount_all(RootfsSetup& s) {
  for (size_t i = 0; i < s.plan.mounts.size(); ++i)
    AR_TRY(mount_one(s, s.plan.mounts[i], i < s.bind_sources.size() ? std::move(s.bind_sources[i]) : UniqueFd()));
  return {};
}

Result<std::vector<UniqueFd>> open_bind_sources(Sys& sys, const Plan& plan) {
  // A copy in the container's namespace would be a slave of a shared host
  // mount (it belongs to a less privileged user namespace), or private
  // with a private rootfsPropagation.
  const uint64_t propagation = (plan.rootfs_propagation & (MS_PRIVATE | MS_UNBINDABLE)) ? MS_PRIVATE : MS_SLAVE;
  std::vector<UniqueFd> out;
  for (const auto& m : plan.mounts) {
    out.emplace_back();
    if (m.kind == MountKind::bind) {
      AR_TRY_ASSIGN(out.back(), clone_bind_source(sys, m, propagation));
    }
  }
  return out;
}

Status enter_rootfs(RootfsSetup& s) {
  if (::fchdir(s.root.get()) < 0) return sys_error("enter the rootfs", errno);
  if (s.plan.no_pivot) {
    AR_TRY(sys_status(s.sys.mount(s.plan.rootfs.c_str(), "/", nullptr, MS_MOVE, nullptr),
                      "move the rootfs to / (--no-pivot)"));
    AR_TRY(sys_status(s.sys.chroot("."), "chroot into the rootfs (--no-pivot)"));
  } else {
    UniqueFd old_root(::open("/", O_PATH | O_DIRECTORY | O_CLOEXEC));
    if (!old_root) return sys_error("open the old root", errno);
    AR_TRY(sys_status(s.sys.pivot_root(".", "."), "pivot_root into " + s.plan.rootfs));
    // The old root is now stacked under the new one at "."; detach it without
    // letting the unmount propagate to the host.
    if (::fchdir(old_root.get()) < 0) return sys_error("enter the old root", errno);
    AR_TRY(sys_status(s.sys.mount(nullptr, ".", nullptr, MS_SLAVE | MS_REC, nullptr),
                      "make the old root a slave mount"));
    AR_TRY(sys_status(s.sys.umount2(".", MNT_DETACH), "detach the old root"));
  }
  if (::chdir("/") < 0) return sys_error("chdir to the new root", errno);
  // Again on the new root: before pivot_root it could not be shared.
  AR_TRY(sys_status(s.sys.mount(nullptr, "/", nullptr, s.plan.rootfs_propagation, nullptr),
                    "set the propagation of the container's root"));
  s.root.reset(::open("/", O_PATH | O_DIRECTORY | O_CLOEXEC));
  if (!s.root) return sys_error("open the new root", errno);
  return {};
}

Status chroot_into(Sys& sys, const std::string& rootfs) {
  UniqueFd root(::open(rootfs.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC));
  if (!root) return sys_error("open the rootfs " + rootfs, errno);
  if (::fchdir(root.get()) < 0) return sys_error("enter the rootfs " + rootfs, errno);
  AR_TRY(sys_status(sys.chroot("."), "chroot into " + rootfs));
  if (::chdir("/") < 0) return sys_error("chdir to the new root", errno);
  return {};
}

Status apply_filesystem_policy(RootfsSetup& s) {
  for (const auto& path : s.plan.writable_binds) AR_TRY(make_writable(s, path));
  return block_denied_executables({s.sys, s.root.get(), s.dev_null.get()}, s.plan, s.blocked);
}

Status protect_paths(RootfsSetup& s) {
  for (const auto& p : s.plan.readonly_paths) AR_TRY(make_readonly(s, p));
  for (const auto& p : s.plan.masked_paths) AR_TRY(mask_path(s, p));
  return {};
}

Status seal_root(RootfsSetup& s) {
  if (s.plan.readonly_root) {
    MountAttrs ro;
    ro.set = MOUNT_ATTR_RDONLY;
    AR_TRY(set_mount_attrs(s.sys, s.root.get(), ro, false, "make the root file system read-only"));
  }
  return {};
}

}  // namespace agentrun
