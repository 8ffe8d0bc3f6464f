#include "egress-guard/table_owner.hpp"

namespace agentrun::egress {

std::optional<std::string> table_comment(const std::string& text) {
  const std::string key = "comment \"";
  const size_t start = text.find(key);
  if (start == std::string::npos) return std::nullopt;
  const size_t end = text.find('"', start + key.size());
  if (end == std::string::npos) return std::nullopt;
  return text.substr(start + key.size(), end - start - key.size());
}

std::optional<std::string> create_table_first(const std::string& table, const std::string& ruleset) {
  const auto comment = table_comment(ruleset);
  if (!comment) return std::nullopt;
  return "create table inet " + table + " { comment \"" + *comment + "\"; }\n" + ruleset;
}

}  // namespace agentrun::egress
