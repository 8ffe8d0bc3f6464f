#pragma once
// Signal state handed to a program we execute: nothing blocked, nothing
// ignored, every handler back to its default.

#include <cstdint>
#include <optional>
#include <string_view>

namespace agentrun {

void reset_signals_for_exec();

// The SigIgn mask of a /proc/PID/status text (bit N-1: signal N), if it has one.
std::optional<uint64_t> ignored_signals(std::string_view status);

}  // namespace agentrun
