#include "runtime/cgroup/path.hpp"

#include "spec/error.hpp"

namespace agentrun {
namespace {

const char* kField = "config.json: linux.cgroupsPath";

// Every component must be a plain name: the path is joined under mount
// points and the caller's own cgroup, and must not escape either.
void check_clean(const std::string& path) {
  const size_t start = path.front() == '/' ? 1 : 0;
  if (start == path.size()) fail(kField, "\"/\" is the root cgroup, not a container's");
  size_t pos = start;
  while (pos <= path.size()) {
    size_t end = path.find('/', pos);
    if (end == std::string::npos) end = path.size();
    const std::string part = path.substr(pos, end - pos);
    if (part.empty() || part == "." || part == "..")
      fail(kField, "\"" + path + "\" is not a clean path (empty, \".\" or \"..\" component)");
    pos = end + 1;
  }
}

std::string join(const std::string& dir, const std::string& rel) {
  return dir.empty() || dir.back() != '/' ? dir + "/" + rel : dir + rel;
}

}  // namespace

std::string resolve_cgroup_path(const std::string& cgroups_path, const std::string& id, const std::string& own) {
  if (cgroups_path.empty()) return join(own, "agentrun/" + id);
  check_clean(cgroups_path);
  return cgroups_path.front() == '/' ? cgroups_path : join(own, cgroups_path);
}

SystemdPath parse_systemd_cgroup_path(const std::string& path) {
  const auto a = path.find(':');
  const auto b = a == std::string::npos ? a : path.find(':', a + 1);
  if (b == std::string::npos || path.find(':', b + 1) != std::string::npos)
    fail(kField, "\"" + path + "\" is not of the form slice:prefix:name needed by --systemd-cgroup");
  SystemdPath p{path.substr(0, a), path.substr(a + 1, b - a - 1), path.substr(b + 1)};
  if (p.name.empty()) fail(kField, "\"" + path + "\": the name after the last \":\" is empty");
  if (!p.slice.empty() && (p.slice.find('/') != std::string::npos || p.slice.size() <= 6 ||
                           p.slice.compare(p.slice.size() - 6, 6, ".slice") != 0))
    fail(kField, "\"" + p.slice + "\" is not a systemd slice name (NAME.slice)");
  if (p.prefix.find('/') != std::string::npos || p.name.find('/') != std::string::npos)
    fail(kField, "\"" + path + "\": prefix and name must not contain \"/\"");
  return p;
}

}  // namespace agentrun
