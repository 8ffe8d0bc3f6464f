#include "egress-guard/name_match.hpp"

namespace agentrun::egress {

std::string normalize_name(std::string_view name) {
  if (!name.empty() && name.back() == '.') name.remove_suffix(1);
  std::string out(name);
  for (char& c : out)
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  return out;
}

std::optional<std::string> normalize_pattern(std::string_view pattern) {
  std::string p = normalize_name(pattern);
  const std::string_view rest = std::string_view(p).substr(p.starts_with("*.") ? 2 : 0);
  if (rest.empty() || rest.front() == '.' || rest.back() == '.' || rest.find("..") != std::string_view::npos)
    return std::nullopt;
  for (char c : rest)
    if (c == '*' || c <= ' ' || c > '~') return std::nullopt;
  return p;
}

bool name_matches(std::string_view name, std::string_view pattern) {
  if (!pattern.starts_with("*.")) return name == pattern;
  const std::string_view suffix = pattern.substr(1);  // ".example.com"
  return name.size() > suffix.size() && name.ends_with(suffix);
}

}  // namespace agentrun::egress
