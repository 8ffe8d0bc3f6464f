#pragma once
// Whose rules an egress table holds, and what to do about one found in
// place, for the runtime (nft_install) and the guard (egress-guard/) alike.
// The table's comment is "agentrun OWNER DIGEST": OWNER the first 80
// characters of a container's id, DIGEST that of its rules. Pure.

#include <optional>
#include <string>

namespace agentrun::nft {

struct FoundTable {
  enum class Action { share, replace, refuse } action = Action::refuse;
  std::string owner;   // share: the container whose rules they are
  std::string reason;  // refuse: what is there
};

// From the found table's comment (nullopt: none) and the comment of the
// table we would make: the same owner takes its table back (a container
// started again in its pod), the same rules are shared (a pod's containers),
// anything else is refused.
FoundTable judge_found_table(const std::optional<std::string>& theirs, const std::string& ours);

}  // namespace agentrun::nft
