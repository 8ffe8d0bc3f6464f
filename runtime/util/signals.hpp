#pragma once
// Signal state handed to a program we execute: nothing blocked, nothing
// ignored, every handler back to its default.

namespace agentrun {

void reset_signals_for_exec();

}  // namespace agentrun
