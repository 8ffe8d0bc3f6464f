#include "egress-guard/failure.hpp"

#include <cstring>

namespace agentrun::egress {

void fail(const std::string& step, const std::string& message) { throw GuardError(step + ": " + message); }

void fail_errno(const std::string& step, const std::string& what, int errnum) {
  fail(step, what + ": " + std::strerror(errnum) + " (errno " + std::to_string(errnum) + ")");
}

}  // namespace agentrun::egress
