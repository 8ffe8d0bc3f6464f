#pragma once
// Files compiled into the binary at build time: seccomp-profiles/*.json and
// policies/*.json (see CMakeLists.txt). Paths are relative to the source
// tree: "seccomp-profiles/docker-baseline.json".

#include <optional>
#include <span>
#include <string_view>
#include <vector>

namespace agentrun {

struct EmbeddedFile {
  std::string_view path;
  std::string_view data;
};

// Every embedded file, sorted by path. Defined in the generated source.
std::span<const EmbeddedFile> embedded_file_table();

inline std::optional<std::string_view> embedded_file(std::string_view relative_path) {
  for (const EmbeddedFile& f : embedded_file_table())
    if (f.path == relative_path) return f.data;
  return std::nullopt;
}

// The paths of the files directly in `folder` ("policies" or "policies/"), sorted.
inline std::vector<std::string_view> embedded_files_under(std::string_view folder) {
  while (folder.ends_with('/')) folder.remove_suffix(1);
  std::vector<std::string_view> paths;
  for (const EmbeddedFile& f : embedded_file_table()) {
    const std::string_view p = f.path;
    if (p.size() > folder.size() + 1 && p.starts_with(folder) && p[folder.size()] == '/' &&
        p.find('/', folder.size() + 1) == std::string_view::npos)
      paths.push_back(p);
  }
  return paths;
}

}  // namespace agentrun
