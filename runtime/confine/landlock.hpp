#pragma once
// Landlock: execute only beneath execFrom, write only beneath writable,
// optionally TCP ports, and scoping of signals and abstract unix sockets.
// The ruleset is decided on the CLI side (pure, testable); the container's
// init applies it after pivot_root, so its paths are the container's.

#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "runtime/util/sys.hpp"
#include "spec/error.hpp"

namespace agentrun {

// The kernel's Landlock ABI version, 0 when unavailable (errno then says
// why: ENOSYS not built in, EOPNOTSUPP not enabled at boot).
int landlock_abi();

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

// Creates the ruleset, adds the rules and restricts the calling thread; the
// caller has set no_new_privs (or holds CAP_SYS_ADMIN). A rule path that does
// not exist is skipped: there is nothing to grant. Safe between fork and exec
// (allocates only to report an error).
Status apply_landlock(Sys& sys, const LandlockRuleset& ruleset);

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

}  // namespace agentrun
