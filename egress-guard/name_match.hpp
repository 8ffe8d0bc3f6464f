#pragma once
// Which allowed-name patterns a queried name matches. Names compare
// case-insensitively and without a trailing dot; "*.example.com" matches
// every name below example.com but not example.com itself.

#include <optional>
#include <string>
#include <string_view>

namespace agentrun::egress {

// Lower case, one trailing dot dropped. Empty when the name is only ".".
std::string normalize_name(std::string_view name);

// A pattern in the normal form patterns are matched in, or nullopt when it is
// neither a name nor "*." followed by one (a bare "*" or "a.*.b" is an error:
// the runtime says allowAll for that).
std::optional<std::string> normalize_pattern(std::string_view pattern);

// `name` and `pattern` already normalized.
bool name_matches(std::string_view name, std::string_view pattern);

}  // namespace agentrun::egress
