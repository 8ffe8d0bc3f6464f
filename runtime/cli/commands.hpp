#pragma once
// One function per command of the command line; each returns the exit code.

#include "runtime/cli/command_line.hpp"

namespace agentrun {

int run_command(const CommandLine& cl);

}  // namespace agentrun
