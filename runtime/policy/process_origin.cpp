#include "runtime/policy/process_origin.hpp"

#include <map>

namespace agentrun::policy {
namespace {

// The exec flag that sets a field of the process, by the field's first part.
const std::map<std::string, std::string>& flag_of() {
  static const std::map<std::string, std::string> kFlags = {
      {"user", "user"},         {"capabilities", "cap"},     {"cwd", "cwd"},
      {"apparmorProfile", "apparmor"}, {"selinuxLabel", "process-label"}, {"noNewPrivileges", "no-new-privs"}};
  return kFlags;
}

std::string flag_for(const std::string& field) {
  const auto it = flag_of().find(field.substr(0, field.find('.')));
  return it == flag_of().end() ? "" : it->second;
}

}  // namespace

bool ProcessOrigin::from_flag(const std::string& field) const {
  const std::string flag = flag_for(field);
  return kind == Kind::flags && !flag.empty() && flags.count(flag) > 0;
}

std::string ProcessOrigin::name(const std::string& field) const {
  switch (kind) {
    case Kind::config: return "config.json: process." + field;
    case Kind::process_file: return "exec --process " + file + ": " + field;
    case Kind::flags: break;
  }
  return from_flag(field) ? "exec --" + flag_for(field) : "the container's process." + field;
}

std::string ProcessOrigin::where(const std::string& field) const {
  switch (kind) {
    case Kind::config: return "process." + field + " in config.json";
    case Kind::process_file: return field + " in " + file;
    case Kind::flags: break;
  }
  return name(field);
}

}  // namespace agentrun::policy
