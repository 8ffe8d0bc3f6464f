#pragma once
// /proc/<pid>/mountinfo, parsed.

#include <string>
#include <string_view>
#include <vector>

namespace agentrun {

struct MountInfo {
  int id = 0;
  int parent = 0;
  std::string root;         // path of the mounted directory within its file system
  std::string mount_point;  // as seen by the reading process
  std::string fstype;
  std::string source;
  std::string super_options;  // "rw,cpu" for a v1 cgroup hierarchy
};

std::vector<MountInfo> parse_mountinfo(std::string_view text);
// Reads /proc/self/mountinfo; an empty list if it cannot be read.
std::vector<MountInfo> read_mountinfo();

// The mount that contains `path` (the last, i.e. topmost, of the longest
// matching mount points), or nullptr.
const MountInfo* mount_containing(const std::vector<MountInfo>& mounts, const std::string& path);

}  // namespace agentrun
