#pragma once
// One line of /proc/<pid>/mountinfo (mountinfo.hpp reads them): plain data.

#include <string>

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

}  // namespace agentrun
