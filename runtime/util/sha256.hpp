#pragma once
// SHA-256 (FIPS 180-4), for content keys: the seccomp cache and the profile
// hashes `inspect` shows. Not for secrets: no constant-time concerns.

#include <string>
#include <string_view>

namespace agentrun {

// 64 lowercase hex digits.
std::string sha256_hex(std::string_view data);

}  // namespace agentrun
