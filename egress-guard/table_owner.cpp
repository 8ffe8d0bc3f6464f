#include "egress-guard/table_owner.hpp"

namespace agentrun::egress {

std::optional<TableOwner> table_owner(const std::string& text) {
  const std::string key = "comment \"agentrun ";
  const size_t start = text.find(key);
  if (start == std::string::npos) return std::nullopt;
  const size_t end = text.find('"', start + key.size());
  if (end == std::string::npos) return std::nullopt;
  const std::string words = text.substr(start + key.size(), end - start - key.size());
  const size_t space = words.find(' ');
  if (space == std::string::npos || space == 0 || words.find(' ', space + 1) != std::string::npos ||
      space + 1 == words.size())
    return std::nullopt;
  return TableOwner{words.substr(0, space), words.substr(space + 1)};
}

std::optional<std::string> create_table_first(const std::string& table, const std::string& ruleset) {
  const auto owner = table_owner(ruleset);
  if (!owner) return std::nullopt;
  return "create table inet " + table + " { comment \"agentrun " + owner->id + " " + owner->digest + "\"; }\n" + ruleset;
}

}  // namespace agentrun::egress
