#pragma once
// One `runc events --stats` record, in runc's JSON shape, from the v1
// controllers' files where a controller is mounted as v1 and from the
// unified hierarchy's files otherwise.

#include <map>
#include <string>

namespace agentrun {

class CgroupFs;

// Read through `fs`. `v1_dirs`: controller -> the container's directory in its v1 hierarchy;
// `unified`: the container's cgroup2 directory, or "".
std::string cgroup_stats_json(CgroupFs& fs, const std::string& id, const std::map<std::string, std::string>& v1_dirs,
                              const std::string& unified);

}  // namespace agentrun
