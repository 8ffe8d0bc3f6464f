#pragma once
// The config.json `agentrun spec` writes: a container with its own
// namespaces, a read-only busybox-style rootfs at ./rootfs, few
// capabilities and no_new_privs, ready to edit.

#include <string>

namespace agentrun {

// `rootless`: with a user namespace mapping the caller's uid and gid to
// root, and without the mounts an unprivileged user cannot make.
std::string default_spec_json(bool rootless, unsigned uid, unsigned gid);

}  // namespace agentrun
