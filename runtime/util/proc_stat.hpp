#pragma once
// /proc/<pid>/stat: enough to tell whether a pid is still the process we
// started (pids are reused; the start time is not) and whether it is a zombie.

#include <sys/types.h>

#include <cstdint>
#include <optional>

namespace agentrun {

struct ProcStat {
  char state = '?';         // R, S, D, Z, T, ...
  uint64_t start_time = 0;  // clock ticks after boot (field 22)
};

// Nothing when the process does not exist (or its stat cannot be read).
std::optional<ProcStat> read_proc_stat(pid_t pid);

// Parses the text of a stat file; exposed for tests.
std::optional<ProcStat> parse_proc_stat(const char* text);

}  // namespace agentrun
