#pragma once
// OCI mount options ("ro", "rbind", "rnosuid", "mode=755"...) turned into
// what the new mount API needs: attributes for the mount itself, attributes
// for the whole tree (the "r" options of runtime-spec 1.1), propagation,
// and file-system parameters. An option that is neither a known flag nor
// (on a file-system mount) a file-system parameter is an error.

#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace agentrun {

struct MountAttrs {
  uint64_t set = 0;          // MOUNT_ATTR_* to set
  uint64_t clr = 0;          // MOUNT_ATTR_* to clear
  uint64_t propagation = 0;  // MS_PRIVATE, MS_SLAVE, MS_SHARED, MS_UNBINDABLE or 0

  bool empty() const { return set == 0 && clr == 0 && propagation == 0; }
};

struct FsParameter {
  std::string key;
  std::optional<std::string> value;  // "mode=755" has one, "newinstance" does not
};

struct MountOptions {
  bool bind = false;       // "bind" or "rbind" (or type "bind")
  bool recursive = false;  // "rbind"
  MountAttrs top;          // applies to the mount itself
  MountAttrs tree;         // applies to the mount and everything below it
  std::vector<std::string> sb_flags;  // superblock flags: sync, dirsync, mand, lazytime, silent
  std::vector<FsParameter> data;      // file-system parameters
  bool copy_up = false;               // "tmpcopyup": copy the directory's content into the tmpfs
  bool idmap = false;                 // "idmap" / "ridmap"
};

// `field` names the options in errors, e.g. "config.json: mounts[2].options".
// Throws Failure.
MountOptions parse_mount_options(const std::vector<std::string>& options, bool bind_type,
                                 const std::string& field);

// Every option name parse_mount_options accepts, for `agentrun features`.
std::vector<std::string> known_mount_options();

}  // namespace agentrun
