#include "runtime/cli/features.hpp"

#include <rapidjson/prettywriter.h>
#include <rapidjson/stringbuffer.h>

#include "runtime/confine/mount_options.hpp"
#include "spec/json_write.hpp"
#include "spec/names.hpp"

namespace agentrun {
namespace {

using Writer = spec::PrettyWriter;

void enabled(Writer& w, const char* key, bool on) {
  w.Key(key);
  w.StartObject();
  w.Key("enabled");
  w.Bool(on);
  w.EndObject();
}

std::vector<std::string> capability_names(int last_cap) {
  std::vector<std::string> out;
  for (int c = 0; c <= std::min(last_cap, spec::last_known_capability()); ++c) out.push_back(spec::capability_name(c));
  return out;
}

std::vector<std::string> namespace_names() {
  std::vector<std::string> out;
  for (auto t : spec::all_namespace_types()) out.push_back(spec::namespace_name(t));
  return out;
}

}  // namespace

std::string features_json(const HostFacts& host) {
  return spec::pretty_json([&](spec::PrettyWriter& w) {
    w.StartObject();
    w.Key("ociVersionMin");
    w.String("1.0.0");
    w.Key("ociVersionMax");
    w.String("1.2.0");
    spec::write_string_list(w, "hooks", {"prestart", "createRuntime", "createContainer", "startContainer", "poststart", "poststop"});
    spec::write_string_list(w, "mountOptions", known_mount_options());
    w.Key("linux");
    w.StartObject();
    spec::write_string_list(w, "namespaces", namespace_names());
    spec::write_string_list(w, "capabilities", capability_names(host.last_cap));
    w.Key("cgroup");
    w.StartObject();
    for (const auto& [key, supported] : {std::pair{"v1", true}, {"v2", true}, {"systemd", true},
                                          {"systemdUser", false}, {"rdma", true}}) {
      w.Key(key);
      w.Bool(supported);
    }
    w.EndObject();
    w.Key("seccomp");
    w.StartObject();
    w.Key("enabled");
    w.Bool(true);
    spec::write_string_list(w, "actions", spec::seccomp_action_names());
    spec::write_string_list(w, "operators", spec::seccomp_operator_names());
    spec::write_string_list(w, "archs", spec::seccomp_arch_names());
    spec::write_string_list(w, "knownFlags", spec::seccomp_flag_names());
    spec::write_string_list(w, "supportedFlags", spec::seccomp_flag_names());
    w.EndObject();
    enabled(w, "apparmor", host.apparmor);
    enabled(w, "selinux", false);
    enabled(w, "intelRdt", false);
    w.Key("mountExtensions");
    w.StartObject();
    enabled(w, "idmap", false);
    w.EndObject();
    w.EndObject();
    w.Key("annotations");
    w.StartObject();
    w.Key("io.agentrun.version");
    w.String(AGENTRUN_VERSION);
    w.EndObject();
    w.EndObject();
  });
}

}  // namespace agentrun
