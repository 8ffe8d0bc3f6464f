#include "runtime/cgroup/systemd_unit.hpp"

#include "runtime/cgroup/path.hpp"
#include "spec/error.hpp"

namespace agentrun {
namespace {

const char* kField = "config.json: linux.cgroupsPath";
const std::string kSliceSuffix = ".slice";

bool ends_with(const std::string& s, const std::string& suffix) {
  return s.size() >= suffix.size() && s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

// The characters systemd takes in unit names (and agentrun-systemd in its
// match rules), checked here so that the error names the config field.
void check_unit_name(const std::string& unit) {
  static const std::string allowed =
      "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789:-_.\\@";
  if (unit.size() > 255) fail(kField, "the unit name \"" + unit + "\" is longer than systemd allows (255)");
  if (unit.find_first_not_of(allowed) != std::string::npos)
    fail(kField, "the unit name \"" + unit + "\" has characters systemd does not allow in unit names");
}

}  // namespace

bool SystemdUnit::is_slice() const { return ends_with(name, kSliceSuffix); }

std::string expand_slice(const std::string& slice) {
  const std::string bad = "\"" + slice + "\" is not a valid systemd slice name";
  if (slice.size() <= kSliceSuffix.size() || !ends_with(slice, kSliceSuffix) || slice.find('/') != std::string::npos)
    fail(kField, bad + " (NAME.slice, without \"/\")");
  const std::string name = slice.substr(0, slice.size() - kSliceSuffix.size());
  if (name == "-") return "/";
  std::string path, prefix;
  for (size_t at = 0; at <= name.size();) {
    size_t dash = name.find('-', at);
    if (dash == std::string::npos) dash = name.size();
    if (dash == at) fail(kField, bad + " (a dash at either end of the name, or two in a row)");
    prefix += name.substr(at, dash - at);
    path += "/" + prefix + kSliceSuffix;
    prefix += "-";
    at = dash + 1;
  }
  return path;
}

SystemdUnit systemd_unit_for(const std::string& cgroups_path, const std::string& id) {
  const SystemdPath p = cgroups_path.empty() ? SystemdPath{"", "agentrun", id} : parse_systemd_cgroup_path(cgroups_path);
  SystemdUnit u;
  u.slice = p.slice.empty() ? "system.slice" : p.slice;
  // A name that is a slice makes a slice, not a scope, as in runc.
  u.name = ends_with(p.name, kSliceSuffix) ? p.name : p.prefix + "-" + p.name + ".scope";
  check_unit_name(u.name);
  const std::string parent = expand_slice(u.slice);
  // systemd places a slice by its own name, whatever its Wants=.
  u.cgroup = u.is_slice() ? expand_slice(u.name) : (parent == "/" ? "" : parent) + "/" + u.name;
  return u;
}

}  // namespace agentrun
