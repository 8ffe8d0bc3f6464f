#pragma once
// Whose rules an egress table holds: the runtime writes the table's comment
// as "agentrun OWNER DIGEST" (OWNER a container id, DIGEST the SHA-256 of
// the ruleset without the comment). Pure, for the unit tests.

#include <optional>
#include <string>

namespace agentrun::egress {

struct TableOwner {
  std::string id;
  std::string digest;
};

// From the first `comment "..."` of an nft script or listing; nothing when
// there is none or it is not an owner's.
std::optional<TableOwner> table_owner(const std::string& text);

// The ruleset as one transaction that fails (EEXIST) when the namespace
// already holds the table: it is created first, with the ruleset's owner
// comment (a table made without one keeps none). Nothing when the ruleset
// names no owner.
std::optional<std::string> create_table_first(const std::string& table, const std::string& ruleset);

}  // namespace agentrun::egress
