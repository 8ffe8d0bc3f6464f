#pragma once
// Puts a Table (nft_table.hpp) in a container's network namespace, as one
// transaction, from the runtime: a netfilter socket made in that namespace
// (setns there and back on the calling thread), the batch, and the
// kernel's answer to each of its messages.
//
// A namespace may hold the table already: the containers of a pod share
// one, and a container started again in its pod finds its own. The
// table's comment, "agentrun OWNER DIGEST", says whose it is and which
// rules it holds (the owner's id cut to its first 80 characters).

#include <optional>
#include <string>

#include "runtime/confine/nft_table.hpp"

namespace agentrun::nft {

struct FoundTable {
  enum class Action { share, replace, refuse } action = Action::refuse;
  std::string owner;   // share: the container whose rules they are
  std::string reason;  // refuse: what is there
};

// What to do about a table of ours found in place, from its comment
// (nullopt: none) and the comment of the table we would make.
FoundTable judge_found_table(const std::optional<std::string>& theirs, const std::string& ours);

// Returns "" when the table is now this one, or the owner whose table,
// with the same rules, is there already. Throws Failure, with the step
// (the rule the kernel refused, for one), otherwise; the namespace is then
// left as it was. `netns`: a /proc/PID/ns/net or a bind mount of one,
// never this process's own.
std::string install_table(const std::string& netns, const Table& table);

}  // namespace agentrun::nft
