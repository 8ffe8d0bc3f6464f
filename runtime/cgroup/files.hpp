#pragma once
// Reading and writing cgroup interface files (through a CgroupFs), for every driver. Errors throw
// Failure naming the controller, the file, the directory and the errno.

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "runtime/cgroup/cgroup_fs.hpp"

namespace agentrun::cgroup_files {

// "/a/b" -> "/a"; "/a" -> "/".
std::string parent_of(const std::string& dir);
std::string trim(const std::string& s);

// The file's contents; nullopt when it does not exist (an absent controller
// or kernel feature, a removed cgroup) or `dir` is empty. Other errors throw.
std::optional<std::string> read_opt(CgroupFs& fs, const std::string& dir, const std::string& file);
// The same, but a missing file is an error naming `controller` ("" = core).
std::string read_req(CgroupFs& fs, const std::string& controller, const std::string& dir, const std::string& file);
void write(CgroupFs& fs, const std::string& controller, const std::string& dir, const std::string& file,
           const std::string& value);

// "key value" lines (memory.stat, cpu.stat, memory.events ...).
std::map<std::string, uint64_t> key_values(const std::string& text);
// A limit or counter file's number; "max" is UINT64_MAX; absent or unreadable is 0.
uint64_t number(const std::optional<std::string>& text);
// One key of a "key value" file; 0 if absent.
uint64_t value_of(const std::optional<std::string>& text, const std::string& key);
// Entry names of a directory ("." and ".." left out); empty if it cannot be read.
std::vector<std::string> entries(const std::string& dir, bool dirs_only);

}  // namespace agentrun::cgroup_files
