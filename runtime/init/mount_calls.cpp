#include "runtime/init/mount_calls.hpp"

#include <fcntl.h>

namespace agentrun {
namespace {

constexpr unsigned kRecursive = AT_RECURSIVE;

}  // namespace

Status attach(Sys& sys, int tree, int target, const std::string& step) {
  return sys_status(sys.move_mount(tree, "", target, "", MOVE_MOUNT_F_EMPTY_PATH | MOVE_MOUNT_T_EMPTY_PATH),
                    step);
}

Status set_mount_attrs(Sys& sys, int tree, const MountAttrs& attrs, bool recursive,
                       const std::string& step) {
  if (attrs.set == 0 && attrs.clr == 0) return {};
  mount_attr attr{};
  attr.attr_set = attrs.set;
  attr.attr_clr = attrs.clr;
  return sys_status(sys.mount_setattr(tree, "", AT_EMPTY_PATH | (recursive ? kRecursive : 0), attr),
                    step + ": set mount attributes");
}

Result<UniqueFd> clone_mount(Sys& sys, int fd, bool recursive, const std::string& step) {
  return sys_fd(sys.open_tree(fd, "", OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC | AT_EMPTY_PATH |
                                          (recursive ? kRecursive : 0)),
                step);
}

}  // namespace agentrun
