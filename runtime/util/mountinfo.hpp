#pragma once
// /proc/<pid>/mountinfo, parsed.

#include <string>
#include <string_view>
#include <vector>

#include "runtime/util/mount_entry.hpp"

namespace agentrun {

std::vector<MountInfo> parse_mountinfo(std::string_view text);
// Reads /proc/self/mountinfo; an empty list if it cannot be read.
std::vector<MountInfo> read_mountinfo();

}  // namespace agentrun
