#pragma once
// How the guard reports what failed: "<step>: <message>", the errno text
// and number appended for a failed system call. Before the guard has said
// "ok" on fd 3 this is the line the runtime refuses the container with.

#include <stdexcept>
#include <string>

namespace agentrun::egress {

struct GuardError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

[[noreturn]] void fail(const std::string& step, const std::string& message);
// "<step>: <what>: <strerror> (errno N)"; `what` names the call and its path.
[[noreturn]] void fail_errno(const std::string& step, const std::string& what, int errnum);

}  // namespace agentrun::egress
