#pragma once
// /dev in the container: the default device nodes and linux.devices (made
// with mknod, or bound from the host's node inside a user namespace, where
// mknod is not allowed), and the standard links (/dev/fd, /dev/stdin...,
// /dev/ptmx).

#include "runtime/init/rootfs_setup.hpp"

namespace agentrun {

Status setup_dev(RootfsSetup& s);

}  // namespace agentrun
