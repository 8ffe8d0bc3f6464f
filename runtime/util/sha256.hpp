#pragma once
// SHA-256 from nettle, as hex, for content keys: the seccomp cache and the
// hashes `inspect` shows.

#include <string>
#include <string_view>

namespace agentrun {

// 64 lowercase hex digits.
std::string sha256_hex(std::string_view data);

}  // namespace agentrun
