#pragma once
// Small whole-file reads and writes that return errors instead of throwing:
// usable between fork and exec.

#include <sys/types.h>

#include <cstddef>
#include <cstdint>
#include <string>

#include "spec/error.hpp"

namespace agentrun {

Result<std::string> read_whole_file(int dirfd, const std::string& path);
// Every file the runtime keeps (under the state root, a pid file): `data`
// goes to a temporary file beside `path` (relative to `dirfd`), flushed to
// disk, renamed over `path`, then the directory is flushed. A reader sees
// the old file or the new one, never a part, and so does the next boot
// after a crash: a rename not flushed may come back as an empty file or as
// none. `dir_name` names dirfd's directory in errors; `mode` is the new file's.
Status replace_file(int dirfd, const std::string& path, const std::string& data, const std::string& dir_name = "",
                    mode_t mode = 0644);

// The rest of an open file, refused past `limit` bytes; `what` names it in errors.
Result<std::string> read_all(int fd, const std::string& what, size_t limit = SIZE_MAX);
Status write_whole_file(int dirfd, const std::string& path, const std::string& data, int flags);

// The most the runtime reads of a file whose content it does not control:
// config.json, policies, what the state root holds, an image's /etc/passwd.
constexpr size_t kMaxInputBytes = size_t{16} << 20;

// A regular file's contents, up to `limit` bytes. Opened without blocking,
// so that a FIFO cannot hang the caller; anything but a regular file (a
// FIFO, a device such as /dev/zero, a directory) and anything longer is
// refused. `flags` adds open flags (O_NOFOLLOW).
Result<std::string> read_regular_file(int dirfd, const std::string& path, size_t limit, int flags = 0);
// The same of a file opened with O_NONBLOCK; `what` names it in errors.
Result<std::string> read_regular(int fd, const std::string& what, size_t limit);
// read_regular_file(path) within kMaxInputBytes; throws Failure
// ("read LABEL PATH: ...").
std::string read_input_file(const std::string& path, const std::string& label);

}  // namespace agentrun
