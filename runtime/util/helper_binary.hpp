#pragma once
// Where the runtime finds a helper executable of its own (agentrun-systemd,
// agentrun-egress): $ENV_VAR when set (then it must be there), else beside
// the installed runtime binary (`installed`: installed_binary_path(),
// sealed_exec.hpp),
// else /usr/local/libexec/agentrun/NAME, else /usr/libexec/agentrun/NAME.

#include <string>

namespace agentrun {

// Throws Failure (`step`) naming the places looked at when none is an
// executable file.
std::string find_helper_binary(const std::string& name, const char* env_var, const std::string& installed,
                               const std::string& step);

}  // namespace agentrun
