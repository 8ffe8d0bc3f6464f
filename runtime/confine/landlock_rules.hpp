#pragma once
// Landlock rulesets as data: execute only beneath execFrom, write only
// beneath writable, optionally TCP ports, and scoping of signals and
// abstract unix sockets, with the rights each ABI knows. Pure: decided on
// the CLI side; landlock.hpp applies a ruleset in the container's init,
// after pivot_root, so its paths are the container's.

#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace agentrun {

struct LandlockPolicy {
  std::vector<std::string> exec_from;
  std::vector<std::string> writable;
  // /dev/null, /dev/zero, /dev/tty, /dev/pts, /dev/ptmx, /dev/shm...: written
  // to and, for character devices, ioctl-ed (terminals); a directory gets the
  // writable rights beneath it.
  std::vector<std::string> device_paths;
  // TCP ports a direction is limited to; nullopt leaves that direction open.
  std::optional<std::vector<uint16_t>> tcp_bind, tcp_connect;
  bool scope_signals = true;
  bool scope_abstract_unix = true;
};

struct LandlockRuleset {
  int abi = 0;
  uint64_t handled_fs = 0;
  uint64_t handled_net = 0;
  uint64_t scoped = 0;
  // One entry per path, rights as for a directory: apply_landlock keeps only
  // the file rights when the path turns out not to be a directory.
  std::vector<std::pair<std::string, uint64_t>> path_rules;
  std::vector<std::pair<uint16_t, uint64_t>> port_rules;
};

// Pure. Handles every right `abi` knows; grants reading everywhere (other
// layers hide paths), execute beneath exec_from, writing beneath writable,
// device access on device_paths; never creating device nodes. `abi` is the
// running kernel's (landlock_abi()): a right it does not know fails the apply.
LandlockRuleset landlock_ruleset(const LandlockPolicy& policy, int abi);

// The ruleset plus the right to execute `path` itself (a file rule): the
// process's own program, which may live outside execFrom (/pause, /catatonit).
LandlockRuleset with_executable(LandlockRuleset ruleset, const std::string& path);

// The signal scope bit (ABI 6), for callers that must leave signals open.
uint64_t landlock_signal_scope();

// What older ABIs lack of what the ruleset above asks for (docs/policy.md,
// section 9). The ruleset handles only what the ABI knows; the policy's
// translation makes up for truncate and refuses what the scopes guard.
constexpr int kLandlockTruncateAbi = 3;  // Linux 6.2: below it a stacked filter refuses truncate(2)
constexpr int kLandlockIoctlAbi = 5;     // Linux 6.10: below it device ioctls are not restricted
constexpr int kLandlockScopeAbi = 6;     // Linux 6.12: below it no signal or abstract unix socket scope
// The built-in seccomp profile stacked when the ABI cannot handle truncate.
constexpr const char* kTruncateFilter = "landlock-truncate";

// "" from kLandlockScopeAbi on; otherwise what `abi` lacks and what agentrun
// does about it, for preflight's reason.
std::string landlock_shortfall(int abi);

// For `agentrun inspect`: the ABI, handled rights, rules and scopes by name.
std::string landlock_ruleset_json(const LandlockRuleset& ruleset);

// For apply_landlock: the rights landlock_add_rule accepts for a path that
// is not a directory, and rights in words for its errors ("execute, write";
// "bind, connect" for a port rule's).
uint64_t landlock_file_rights();
std::string landlock_rights_summary(uint64_t fs_rights);
std::string landlock_port_rights_summary(uint64_t net_rights);

}  // namespace agentrun
