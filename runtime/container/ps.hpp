#pragma once
// `ps`: runs the host's ps(1) with the user's options and keeps the header
// and the rows of the container's processes, as runc does.

#include <sys/types.h>

#include <string>
#include <vector>

namespace agentrun {

// Output of `ps <args>`; throws Failure when ps cannot run or fails.
std::string run_ps(const std::vector<std::string>& args);

// Keeps the header line and the rows whose PID column is one of `pids`.
// Throws Failure when the header has no PID column.
std::string filter_ps_output(const std::string& output, const std::vector<pid_t>& pids);

}  // namespace agentrun
