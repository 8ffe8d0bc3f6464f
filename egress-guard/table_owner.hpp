#pragma once
// The comment of the egress table in an nft script or listing: the runtime
// writes it as "agentrun OWNER DIGEST" (runtime/confine/nft_owner.hpp says
// what a guard that finds a table in place does about it). Pure, for the
// unit tests.

#include <optional>
#include <string>

namespace agentrun::egress {

// The first `comment "..."` of the text; nothing when there is none.
std::optional<std::string> table_comment(const std::string& text);

// The ruleset as one transaction that fails (EEXIST) when the namespace
// already holds the table: it is created first, with the ruleset's
// comment (a table made without one keeps none). Nothing when the ruleset
// has no comment.
std::optional<std::string> create_table_first(const std::string& table, const std::string& ruleset);

}  // namespace agentrun::egress
