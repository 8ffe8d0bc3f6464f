#pragma once
// denyRead patterns with wildcards ("/workspace/**/.env*", "~/.*_history"),
// expanded at create over what the container will see. Pure: the caller
// lists the container's directories (apply.cpp: the rootfs and the bind
// mounts' sources).

#include <cstddef>
#include <functional>
#include <optional>
#include <string>
#include <vector>

namespace agentrun::policy {

// Whether `pattern` has a wildcard: "*", "?" or "[".
bool is_glob(const std::string& pattern);
// "/a//b/" -> {"a", "b"}.
std::vector<std::string> path_components(const std::string& path);

struct DirEntry {
  std::string name;
  bool directory = false;  // a real directory, not a link to one
};
// The entries of a directory of the container (an absolute path), or
// nothing when it has none to show at create (a tmpfs, a missing path).
using ListDir = std::function<std::optional<std::vector<DirEntry>>(const std::string& dir)>;

// "*", "?" and "[...]" match within one path component (dot files
// included); "**" alone as a component matches any number of directories,
// none included, but does not descend into directories named in
// kGlobPrunedDirs. At most `budget` entries are listed over all patterns
// of a create: `budget` is decremented, and `truncated` set when it ran out.
struct GlobExpansion {
  std::vector<std::string> matches;  // container paths, sorted
  bool truncated = false;
};
GlobExpansion expand_glob(const std::string& pattern, const ListDir& list, size_t& budget);

// Not searched by "**": version control internals and package trees, large
// and holding no credentials of the project's own.
extern const std::vector<std::string> kGlobPrunedDirs;

}  // namespace agentrun::policy
