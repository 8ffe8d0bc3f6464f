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

}  // namespace agentrun::egress
