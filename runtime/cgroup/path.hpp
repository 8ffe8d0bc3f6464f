#pragma once
// linux.cgroupsPath, resolved to a directory within one hierarchy.

#include <string>

namespace agentrun {

// The container's cgroup in one hierarchy, relative to the hierarchy's
// root ("/a/b"). `own` is the caller's cgroup there (from
// /proc/self/cgroup). Absolute paths are taken as they are; relative paths
// are under `own`; an empty path is "<own>/agentrun/<id>". Throws Failure
// for "..", ".", empty components, a trailing "/" or the root itself.
std::string resolve_cgroup_path(const std::string& cgroups_path, const std::string& id, const std::string& own);

// --systemd-cgroup form "slice:prefix:name" ("system.slice:docker:abc").
struct SystemdPath {
  std::string slice, prefix, name;
};
// Throws Failure naming linux.cgroupsPath when malformed.
SystemdPath parse_systemd_cgroup_path(const std::string& path);

}  // namespace agentrun
