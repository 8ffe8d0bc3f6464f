#pragma once
// Small whole-file reads and writes that return errors instead of throwing:
// usable between fork and exec.

#include <string>

#include "spec/error.hpp"

namespace agentrun {

Result<std::string> read_whole_file(int dirfd, const std::string& path);
// Writes `data` beside `path` (relative to `dirfd`) and renames it over
// `path`, so that a reader never sees the file half written.
Status replace_file(int dirfd, const std::string& path, const std::string& data);

// The rest of an open file; `what` names it in errors.
Result<std::string> read_all(int fd, const std::string& what);
Status write_whole_file(int dirfd, const std::string& path, const std::string& data, int flags);

}  // namespace agentrun
