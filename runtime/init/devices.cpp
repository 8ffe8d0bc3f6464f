#include "runtime/init/devices.hpp"

#include <errno.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "runtime/init/mount_calls.hpp"
#include "runtime/util/in_root.hpp"

namespace agentrun {
namespace {

std::string dir_of(const std::string& path) { return path.substr(0, path.rfind('/')); }
std::string name_of(const std::string& path) { return path.substr(path.rfind('/') + 1); }

Status bind_host_node(RootfsSetup& s, const DeviceNode& d, const std::string& step) {
  AR_TRY_ASSIGN(UniqueFd target, make_in_root(s.root.get(), d.path, TargetKind::file));
  // The step is built only on failure: no allocation after fork that can be avoided.
  const int rc = s.sys.open_tree(AT_FDCWD, d.path.c_str(), OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC);
  if (rc < 0) return sys_error(step + ": bind the host's " + d.path, -rc);
  UniqueFd tree(rc);
  return attach(s.sys, tree.get(), target.get(), step);
}

Status make_node(RootfsSetup& s, const DeviceNode& d, const std::string& step) {
  AR_TRY_ASSIGN(UniqueFd parent, make_in_root(s.root.get(), dir_of(d.path), TargetKind::directory));
  const std::string name = name_of(d.path);
  // Whatever the image has at this name (a file, a symlink) is replaced.
  const auto make = [&] { return s.sys.mknodat(parent.get(), name.c_str(), d.type | (d.mode & 07777), d.dev); };
  int rc = make();
  if (rc == -EEXIST) {
    if (::unlinkat(parent.get(), name.c_str(), 0) < 0) return sys_error(step, errno);
    rc = make();
  }
  AR_TRY(sys_status(rc, step));
  if (::fchownat(parent.get(), name.c_str(), d.uid, d.gid, AT_SYMLINK_NOFOLLOW) < 0 ||
      ::fchmodat(parent.get(), name.c_str(), d.mode & 07777, 0) < 0)
    return sys_error(step + ": set owner and mode", errno);
  return {};
}

Status link(int dev, const char* target, const char* name) {
  if (::symlinkat(target, dev, name) < 0 && errno != EEXIST)
    return sys_error(std::string("link /dev/") + name + " to " + target, errno);
  return {};
}

}  // namespace

Status setup_dev(RootfsSetup& s) {
  if (!s.plan.setup_dev) return {};
  for (const auto& d : s.plan.devices) {
    const std::string step = "create device " + d.path;
    AR_TRY(s.plan.bind_devices ? bind_host_node(s, d, step) : make_node(s, d, step));
  }
  AR_TRY_ASSIGN(UniqueFd dev, make_in_root(s.root.get(), "/dev", TargetKind::directory));
  UniqueFd dir(::openat(dev.get(), ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (!dir) return sys_error("open /dev", errno);
  AR_TRY(link(dir.get(), "/proc/self/fd", "fd"));
  AR_TRY(link(dir.get(), "/proc/self/fd/0", "stdin"));
  AR_TRY(link(dir.get(), "/proc/self/fd/1", "stdout"));
  AR_TRY(link(dir.get(), "/proc/self/fd/2", "stderr"));
  // /dev/ptmx must open this container's devpts, whatever the image has there.
  if (::symlinkat("pts/ptmx", dir.get(), "ptmx") < 0) {
    if (errno != EEXIST || ::unlinkat(dir.get(), "ptmx", 0) < 0) return sys_error("replace /dev/ptmx", errno);
    AR_TRY(link(dir.get(), "pts/ptmx", "ptmx"));
  }
  for (const char* sub : {"pts", "shm"})
    if (::mkdirat(dir.get(), sub, 0755) < 0 && errno != EEXIST) return sys_error(std::string("create /dev/") + sub, errno);
  return {};
}

}  // namespace agentrun
