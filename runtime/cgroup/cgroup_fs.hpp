#pragma once
// The cgroup file system as the drivers use it: directories made and
// removed, interface files read and written. Each returns 0 or an errno and
// throws nothing, so that the callers name the step. The host's is
// HostCgroupFs (host_cgroup_fs.hpp); tests substitute an imitation (a
// directory tree standing in for the hierarchies, a cgroup that vanishes
// mid-read, a recording of the writes).

#include <string>

namespace agentrun {

class CgroupFs {
 public:
  virtual ~CgroupFs() = default;
  // cgroupfs differs from a plain file system here: mkdir populates the
  // interface files, rmdir removes a directory that still shows them.
  virtual int make_dir(const std::string& path) = 0;
  virtual int remove_dir(const std::string& path) = 0;
  virtual int read_file(const std::string& path, std::string& out) = 0;
  virtual int write_file(const std::string& path, const std::string& value) = 0;
};

}  // namespace agentrun
