#pragma once
// The cgroup file system of this host, as the drivers use it (cgroup_fs.hpp).

#include "runtime/cgroup/cgroup_fs.hpp"

namespace agentrun {

class HostCgroupFs : public CgroupFs {
 public:
  int make_dir(const std::string& path) override;
  int remove_dir(const std::string& path) override;
  int read_file(const std::string& path, std::string& out) override;
  int write_file(const std::string& path, const std::string& value) override;
};

}  // namespace agentrun
