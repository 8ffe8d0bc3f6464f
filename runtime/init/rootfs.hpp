#pragma once
// The container's file system: the rootfs as a mount point, the mounts of
// config.json, pivot_root, then readonly and masked paths. Every target is
// resolved inside the root (in_root.hpp) and mounted onto its descriptor
// with the new mount API, so nothing the image contains can redirect a
// mount to the host.

#include <string>
#include <vector>

#include "runtime/init/rootfs_setup.hpp"
#include "spec/error.hpp"

namespace agentrun {

// With a user namespace the init's credentials may not reach a bind source
// (a directory only the host's root may enter), so the runtime clones the
// sources first, as runc does: one detached tree per bind mount of the
// plan, in its order, an empty descriptor for the other mounts.
Result<std::vector<UniqueFd>> open_bind_sources(Sys& sys, const Plan& plan);

// Sets the propagation of "/", makes the rootfs a mount point and opens it.
Status prepare_rootfs(RootfsSetup& s);
Status mount_all(RootfsSetup& s);
// pivot_root (or MS_MOVE + chroot with --no-pivot); s.root becomes "/".
Status enter_rootfs(RootfsSetup& s);
// Without a mount namespace: chroot into `rootfs`, opened as a directory by
// descriptor; nothing is mounted.
Status chroot_into(Sys& sys, const std::string& rootfs);
// Policy rules: writable directories become mounts of their own (so that
// a read-only root leaves them writable), and each denyExec name in a
// PATH directory is covered (deny_exec.hpp).
Status apply_filesystem_policy(RootfsSetup& s);

// Readonly and masked paths, before pivot_root: masks (and denyExec covers)
// are clones of the host's verified /dev/null mount, which pivot_root detaches.
Status protect_paths(RootfsSetup& s);
// The read-only root, last, once nothing needs to create files in it.
Status seal_root(RootfsSetup& s);

}  // namespace agentrun
