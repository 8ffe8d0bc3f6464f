#pragma once
// Credentials a repository's .git/config can hold, taken out: the user and
// password (or token) of http(s) and ftp(s) URLs, the password of others
// (ssh://user:secret@host keeps its user), and values of keys that carry
// a secret (http.extraHeader "Authorization: ...", sendemail.smtpPass, a
// tool's token). Everything else is kept, so git in the container still
// knows its remotes and branches; fetching or pushing then asks for
// credentials the container does not have. Pure.

#include <optional>
#include <string>
#include <string_view>

namespace agentrun::policy {

// The text without its credentials, or nullopt when it holds none.
std::optional<std::string> without_git_credentials(std::string_view config_text);

}  // namespace agentrun::policy
