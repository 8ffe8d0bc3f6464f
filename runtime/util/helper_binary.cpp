#include "runtime/util/helper_binary.hpp"

#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <vector>

#include "spec/error.hpp"

namespace agentrun {
namespace {

bool executable_file(const std::string& path) {
  struct stat st;
  return ::stat(path.c_str(), &st) == 0 && S_ISREG(st.st_mode) && ::access(path.c_str(), X_OK) == 0;
}

}  // namespace

std::string find_helper_binary(const std::string& name, const char* env_var, const std::string& installed,
                               const std::string& step) {
  if (const char* chosen = std::getenv(env_var); chosen != nullptr && *chosen != '\0') {
    if (!executable_file(chosen)) fail(step, std::string(env_var) + "=" + chosen + " is not an executable file");
    return chosen;
  }
  std::vector<std::string> places = {"/usr/local/libexec/agentrun/" + name, "/usr/libexec/agentrun/" + name};
  if (installed.starts_with("/") && !installed.starts_with("/memfd:"))
    places.insert(places.begin(), installed.substr(0, installed.rfind('/') + 1) + name);
  std::string looked;
  for (const auto& p : places) {
    if (executable_file(p)) return p;
    looked += (looked.empty() ? "" : ", ") + p;
  }
  fail(step, "the helper " + name + " was not found (looked in " + looked + ")");
}

}  // namespace agentrun
