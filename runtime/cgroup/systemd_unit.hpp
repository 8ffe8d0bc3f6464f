#pragma once
// The systemd unit that --systemd-cgroup puts a container in, from
// linux.cgroupsPath "slice:prefix:name" (parse_systemd_cgroup_path), with
// runc's rules.

#include <string>

namespace agentrun {

struct SystemdUnit {
  std::string slice;   // the parent slice: "system.slice" when the path leaves it empty
  std::string name;    // "prefix-name.scope", or `name` itself when it ends in ".slice"
  std::string cgroup;  // relative to the hierarchy's root: "/system.slice/docker-abc.scope"
  bool is_slice() const;
};

// An empty cgroupsPath is ":agentrun:<id>", as runc's is ":runc:<id>".
// Throws Failure naming linux.cgroupsPath when the path, a slice or the unit
// name is malformed.
SystemdUnit systemd_unit_for(const std::string& cgroups_path, const std::string& id);

// A slice's cgroup: systemd nests "a-b-c.slice" as
// "/a.slice/a-b.slice/a-b-c.slice"; "-.slice" is the root "/". Throws
// Failure naming linux.cgroupsPath for a name that is not NAME.slice,
// contains "/", or has a dash at either end of NAME or two in a row.
std::string expand_slice(const std::string& slice);

}  // namespace agentrun
