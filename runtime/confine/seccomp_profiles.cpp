#include "runtime/confine/seccomp_profiles.hpp"

#include "runtime/util/embedded_files.hpp"
#include "spec/error.hpp"
#include "spec/parse_config.hpp"

namespace agentrun {
namespace {

constexpr std::string_view kFolder = "seccomp-profiles/";
constexpr std::string_view kSuffix = ".json";

}  // namespace

std::vector<std::string> builtin_seccomp_names() {
  std::vector<std::string> names;
  for (std::string_view path : embedded_files_under(kFolder)) {
    if (!path.ends_with(kSuffix)) continue;
    path.remove_prefix(kFolder.size());
    path.remove_suffix(kSuffix.size());
    names.emplace_back(path);
  }
  return names;
}

spec::Seccomp builtin_seccomp_profile(const std::string& name) {
  const std::string path = std::string(kFolder) + name + std::string(kSuffix);
  // A name with a slash would reach outside the folder.
  const auto text = name.find('/') == std::string::npos ? embedded_file(path) : std::nullopt;
  if (!text) {
    std::string names;
    for (const auto& n : builtin_seccomp_names()) names += (names.empty() ? "" : ", ") + n;
    fail("seccomp profile \"" + name + "\"", "unknown (built-in: " + names + ")");
  }
  return spec::parse_seccomp_json(*text, "built-in " + path);
}

}  // namespace agentrun
