#pragma once
// A container's cgroup settings as this host's layout spells them, so that
// one test checks the behaviour on cgroup v1 and v2 alike: a controller with
// a v1 hierarchy uses the v1 file and value, any other the cgroup2 ones.

#include <cstdint>
#include <map>
#include <string>

#include "support/harness.hpp"

namespace test::cgroup {

using Dirs = std::map<std::string, std::string>;  // controller ("" for cgroup2) -> directory

// A container's cgroup directories, from its state file.
Dirs dirs_of(const Sandbox& s, const std::string& id);
// The directory that holds a controller's files.
std::string dir_for(const Dirs& dirs, const std::string& controller);

struct Setting {
  std::string controller, file, value;
};
Setting memory_limit(uint64_t bytes);
Setting memory_reservation(uint64_t bytes);
Setting memory_and_swap(uint64_t limit, uint64_t limit_with_swap);  // OCI's memory.swap is memory + swap
Setting cpu_shares(uint64_t shares);
Setting cpu_quota(int64_t quota, uint64_t period);
Setting cpuset_cpus(const std::string& cpus);
Setting pids_max(int64_t limit);

// The setting's file as the container has it, without the trailing newline.
std::string read(const Dirs& dirs, const Setting& s);
// A controller's file (cgroup.procs, ...) as the container has it, without the trailing newline.
std::string read(const Dirs& dirs, const std::string& controller, const std::string& file);

}  // namespace test::cgroup
