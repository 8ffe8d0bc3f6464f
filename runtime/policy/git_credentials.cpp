#include "runtime/policy/git_credentials.hpp"

#include <algorithm>
#include <array>
#include <cctype>

#include "runtime/util/text_lines.hpp"

namespace agentrun::policy {
namespace {

std::string lower(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return std::tolower(c); });
  return s;
}

bool scheme_char(char c) { return std::isalnum(static_cast<unsigned char>(c)) || c == '+' || c == '.' || c == '-'; }

// Every URL's userinfo in `line` taken out (http, https, ftp, ftps) or
// stripped of its password (other schemes).
std::string without_userinfo(std::string line) {
  for (size_t at = line.find("://"); at != std::string::npos; at = line.find("://", at + 3)) {
    size_t begin = at;
    while (begin > 0 && scheme_char(line[begin - 1])) --begin;
    const std::string scheme = lower(line.substr(begin, at - begin));
    const size_t host = at + 3;
    const size_t end = line.find_first_of("/ \t\"?#", host);
    const size_t authority_end = end == std::string::npos ? line.size() : end;
    const size_t sign = line.rfind('@', authority_end == 0 ? 0 : authority_end - 1);
    if (sign == std::string::npos || sign < host) continue;
    const bool web = scheme == "http" || scheme == "https" || scheme == "ftp" || scheme == "ftps";
    const size_t colon = line.find(':', host);
    if (web) line.erase(host, sign + 1 - host);
    else if (colon < sign) line.erase(colon, sign - colon);
  }
  return line;
}

// A line that sets a key whose value is a secret.
bool secret_key(const std::string& line) {
  static const std::array<const char*, 6> kKeys = {"extraheader", "smtppass", "password",
                                                   "token",       "oauthtoken", "accesstoken"};
  const size_t start = line.find_first_not_of(" \t");
  if (start == std::string::npos || line[start] == '[' || line[start] == '#' || line[start] == ';') return false;
  const size_t end = line.find_first_of(" \t=", start);
  const std::string key = lower(line.substr(start, end == std::string::npos ? std::string::npos : end - start));
  return std::find(kKeys.begin(), kKeys.end(), key) != kKeys.end();
}

}  // namespace

std::optional<std::string> without_git_credentials(std::string_view config_text) {
  std::string out;
  bool changed = false;
  for (std::string_view text_line : text_lines(config_text)) {
    const std::string line(text_line);
    std::string kept = secret_key(line) ? line.substr(0, line.find_first_not_of(" \t")) + "# a secret was here (agentrun)"
                                        : without_userinfo(line);
    changed = changed || kept != line;
    out += kept + "\n";
  }
  if (!changed) return std::nullopt;
  return out;
}

}  // namespace agentrun::policy
