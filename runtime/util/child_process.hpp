#pragma once
// Running a helper program with a request on its stdin and its output
// collected, bounded in time and size: OCI hooks and agentrun-systemd.
// Usable between fork and exec (hooks run in the container init): errors
// are values.

#include <cstdint>
#include <string>
#include <vector>

#include "spec/error.hpp"

namespace agentrun {

struct ChildResult {
  int status = 0;      // as waitpid gives it
  std::string output;  // stdout and stderr together, at most max_output bytes
};

// CLOCK_MONOTONIC in milliseconds, for deadlines.
int64_t monotonic_ms();

// Runs `path` with `argv` and exactly `env`, no shell, no descriptor but
// 0, 1, 2 open and default signal handling; writes `input` to its stdin and
// waits for it until `deadline_ms` (monotonic_ms; 0: none). At the deadline
// it is killed and reaped and the error says "timed out". A child that
// cannot be executed exits 127 with "cannot execute: REASON" as its output.
Result<ChildResult> run_child(const std::string& path, const std::vector<std::string>& argv,
                              const std::vector<std::string>& env, const std::string& input, int64_t deadline_ms,
                              size_t max_output, const std::string& step);

// "exit status 1", "killed by signal KILL".
std::string describe_wait_status(int status);

}  // namespace agentrun
