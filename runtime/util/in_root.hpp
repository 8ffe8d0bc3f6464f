#pragma once
// Paths inside a container's root, resolved as if that root were "/":
// symlinks and ".." never lead out of it (openat2 with RESOLVE_IN_ROOT), so
// an image whose /proc, /dev or mount targets are symlinks to host paths
// cannot redirect the runtime's mounts or device nodes out of the rootfs.
// The results are O_PATH descriptors: callers mount onto the descriptor,
// never onto a path string that could be swapped in between.

#include <sys/types.h>

#include <string>

#include "runtime/util/fd.hpp"
#include "spec/error.hpp"

namespace agentrun {

// openat2(root, path, flags, RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS | extra).
Result<UniqueFd> open_in_root(int root, const std::string& path, int flags,
                              uint64_t extra_resolve = 0);

enum class TargetKind { directory, file };

// Opens `path` inside root, creating it and its missing parents first
// (directories 0755, a final file 0644 and empty). A dangling symlink on the
// way is followed and its target created, still inside root. Returns an
// O_PATH descriptor of the result.
Result<UniqueFd> make_in_root(int root, const std::string& path, TargetKind kind);

// The same descriptor, only if no component of `path` is a symlink: for
// /proc, /sys and /dev, which must be real directories.
Result<UniqueFd> open_in_root_no_symlinks(int root, const std::string& path, int flags);

// Lexically clean an absolute path: collapses "//" and ".", and resolves
// ".." by name, never above "/" (as runc cleans mount destinations).
std::string clean_path(const std::string& path);

}  // namespace agentrun
