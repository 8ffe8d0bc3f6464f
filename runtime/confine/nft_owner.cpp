#include "runtime/confine/nft_owner.hpp"

#include <string_view>

namespace agentrun::nft {
namespace {

struct Owner {
  std::string id, digest;
};

std::optional<Owner> owner_of(const std::string& comment) {
  constexpr std::string_view kHead = "agentrun ";
  if (!comment.starts_with(kHead)) return std::nullopt;
  const std::string words = comment.substr(kHead.size());
  const size_t space = words.find(' ');
  if (space == std::string::npos || space == 0 || space + 1 == words.size() ||
      words.find(' ', space + 1) != std::string::npos)
    return std::nullopt;
  return Owner{words.substr(0, space), words.substr(space + 1)};
}

}  // namespace

FoundTable judge_found_table(const std::optional<std::string>& theirs, const std::string& ours) {
  const auto them = theirs ? owner_of(*theirs) : std::nullopt;
  const auto us = owner_of(ours);
  if (them && us && them->id == us->id) return {FoundTable::Action::replace, "", ""};
  if (them && us && them->digest == us->digest) return {FoundTable::Action::share, them->id, ""};
  return {FoundTable::Action::refuse, "",
          "the network namespace already holds other egress rules (" +
              (them ? "agentrun " + them->id + " " + them->digest : std::string("a table of that name without an owner")) +
              "); containers that share a network namespace, such as a pod's, need the same egress policy"};
}

}  // namespace agentrun::nft
