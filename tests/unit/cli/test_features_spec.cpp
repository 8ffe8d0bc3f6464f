#include <boost/test/unit_test.hpp>

#include <sched.h>

#include <algorithm>
#include <string>
#include <vector>

#include <rapidjson/document.h>

#include "runtime/cli/default_spec.hpp"
#include "runtime/cli/features.hpp"
#include "runtime/confine/mount_options.hpp"
#include "runtime/plan/plan.hpp"
#include "spec/error.hpp"
#include "spec/names.hpp"
#include "spec/parse_config.hpp"
#include "spec/validate.hpp"

using namespace agentrun;
using spec::NamespaceType;

namespace {

PlanOptions plan_options() {
  PlanOptions o;
  o.id = "c";
  o.bundle = "/bundle";
  return o;
}

const spec::Mount* find_mount(const spec::Config& c, const std::string& dest) {
  for (const auto& m : c.mounts)
    if (m.destination == dest) return &m;
  return nullptr;
}

std::vector<std::string> strings(const rapidjson::Value& array) {
  std::vector<std::string> out;
  for (const auto& v : array.GetArray()) out.push_back(v.GetString());
  return out;
}

rapidjson::Document parse_json(const std::string& text) {
  rapidjson::Document d;
  d.Parse(text.c_str(), text.size());
  BOOST_TEST_REQUIRE(!d.HasParseError());
  BOOST_TEST_REQUIRE(d.IsObject());
  return d;
}

uint64_t bit(const char* cap) { return uint64_t{1} << *spec::capability_from_name(cap); }

}  // namespace

BOOST_AUTO_TEST_CASE(default_spec_parses_validates_and_plans) {
  const std::string text = default_spec_json(false, 1000, 1000);
  BOOST_TEST(text.back() == '\n');
  parse_json(text);
  spec::Config c = spec::parse_config(text);
  BOOST_CHECK_NO_THROW(spec::validate_config(c));
  BOOST_TEST(c.ociVersion == "1.2.0");
  BOOST_TEST(c.root.path == "rootfs");
  BOOST_TEST(c.root.readonly);
  BOOST_TEST(c.linux.uidMappings.empty());
  BOOST_TEST(c.linux.gidMappings.empty());
  const spec::Mount* pts = find_mount(c, "/dev/pts");
  BOOST_TEST_REQUIRE(pts != nullptr);
  BOOST_TEST(std::count(pts->options.begin(), pts->options.end(), "gid=5") == 1);

  Plan p = make_plan(c, plan_options(), HostFacts{});
  BOOST_TEST(p.new_namespaces ==
             (CLONE_NEWPID | CLONE_NEWNET | CLONE_NEWIPC | CLONE_NEWUTS | CLONE_NEWNS | CLONE_NEWCGROUP));
  BOOST_TEST(!p.has_user_namespace());
  BOOST_TEST(!p.bind_devices);
  BOOST_TEST(p.setup_dev);
  BOOST_TEST(p.rootfs == "/bundle/rootfs");
  BOOST_TEST(p.readonly_root);
  BOOST_TEST(p.hostname == "agentrun");
  BOOST_TEST(p.process.args == std::vector<std::string>{"sh"});
  BOOST_TEST(p.process.terminal);
  BOOST_TEST(p.process.no_new_privileges);
  const uint64_t caps = bit("CAP_AUDIT_WRITE") | bit("CAP_KILL") | bit("CAP_NET_BIND_SERVICE");
  BOOST_TEST(p.process.caps.bounding == caps);
  BOOST_TEST(p.process.caps.effective == caps);
  BOOST_TEST(p.process.caps.permitted == caps);
  BOOST_TEST(p.process.caps.inheritable == 0u);
  BOOST_TEST(p.process.caps.ambient == 0u);
  BOOST_TEST(p.mounts.size() == 6u);
  BOOST_TEST(p.masked_paths.size() == 11u);
  BOOST_TEST(p.readonly_paths.size() == 5u);
  BOOST_TEST_REQUIRE(p.process.rlimits.size() == 1u);
  BOOST_TEST(p.process.rlimits[0].type == "RLIMIT_NOFILE");
  BOOST_TEST(p.process.rlimits[0].hard == 1024u);
}

BOOST_AUTO_TEST_CASE(rootless_spec_maps_the_caller) {
  const std::string text = default_spec_json(true, 1234, 5678);
  parse_json(text);
  spec::Config c = spec::parse_config(text);
  BOOST_CHECK_NO_THROW(spec::validate_config(c));
  BOOST_TEST(std::count_if(c.linux.namespaces.begin(), c.linux.namespaces.end(), [](const spec::Namespace& n) {
               return n.type == NamespaceType::user && n.path.empty();
             }) == 1);
  BOOST_TEST_REQUIRE(c.linux.uidMappings.size() == 1u);
  BOOST_TEST(c.linux.uidMappings[0].containerID == 0u);
  BOOST_TEST(c.linux.uidMappings[0].hostID == 1234u);
  BOOST_TEST(c.linux.uidMappings[0].size == 1u);
  BOOST_TEST_REQUIRE(c.linux.gidMappings.size() == 1u);
  BOOST_TEST(c.linux.gidMappings[0].containerID == 0u);
  BOOST_TEST(c.linux.gidMappings[0].hostID == 5678u);
  BOOST_TEST(c.linux.gidMappings[0].size == 1u);
  const spec::Mount* pts = find_mount(c, "/dev/pts");
  BOOST_TEST_REQUIRE(pts != nullptr);
  BOOST_TEST(std::count(pts->options.begin(), pts->options.end(), "gid=5") == 0);
  BOOST_TEST(std::count(pts->options.begin(), pts->options.end(), "newinstance") == 1);
  BOOST_TEST(pts->options.size() == 5u);

  Plan p = make_plan(c, plan_options(), HostFacts{});
  BOOST_TEST(p.creates(NamespaceType::user));
  BOOST_TEST(p.has_user_namespace());
  BOOST_TEST(p.bind_devices);
  BOOST_TEST(p.creates(NamespaceType::mount));
  BOOST_TEST_REQUIRE(p.uid_mappings.size() == 1u);
  BOOST_TEST(p.uid_mappings[0].hostID == 1234u);
  BOOST_TEST_REQUIRE(p.gid_mappings.size() == 1u);
  BOOST_TEST(p.gid_mappings[0].hostID == 5678u);
}

BOOST_AUTO_TEST_CASE(rootless_spec_for_root_and_large_ids) {
  spec::Config c = spec::parse_config(default_spec_json(true, 4294967294u, 0));
  BOOST_CHECK_NO_THROW(spec::validate_config(c));
  BOOST_TEST_REQUIRE(c.linux.uidMappings.size() == 1u);
  BOOST_TEST(c.linux.uidMappings[0].hostID == 4294967294u);
  BOOST_TEST(c.linux.gidMappings[0].hostID == 0u);
}

BOOST_AUTO_TEST_CASE(features_json_contents) {
  HostFacts host;
  host.last_cap = 40;
  const std::string text = features_json(host);
  BOOST_TEST(text.back() == '\n');
  rapidjson::Document d = parse_json(text);
  BOOST_TEST(std::string(d["ociVersionMin"].GetString()) == "1.0.0");
  BOOST_TEST(std::string(d["ociVersionMax"].GetString()) == "1.2.0");
  BOOST_TEST(strings(d["hooks"]) == (std::vector<std::string>{"prestart", "createRuntime", "createContainer",
                                                              "startContainer", "poststart", "poststop"}));
  BOOST_TEST(strings(d["mountOptions"]) == known_mount_options());

  const auto& linux = d["linux"];
  const auto caps = strings(linux["capabilities"]);
  BOOST_TEST_REQUIRE(caps.size() == 41u);
  for (int c = 0; c <= 40; ++c) BOOST_TEST(caps[static_cast<size_t>(c)] == spec::capability_name(c));
  BOOST_TEST(caps.front() == "CAP_CHOWN");
  BOOST_TEST(caps.back() == "CAP_CHECKPOINT_RESTORE");

  const auto ns = strings(linux["namespaces"]);
  for (const char* n : {"pid", "network", "mount", "ipc", "uts", "user", "cgroup", "time"})
    BOOST_TEST(std::count(ns.begin(), ns.end(), n) == 1, n);
  BOOST_TEST(ns.size() == 8u);

  for (const char* k : {"v1", "v2", "systemd", "rdma"}) BOOST_TEST(linux["cgroup"][k].GetBool(), k);
  BOOST_TEST(!linux["cgroup"]["systemdUser"].GetBool());
  BOOST_TEST(linux["seccomp"]["enabled"].GetBool());
  BOOST_TEST(strings(linux["seccomp"]["actions"]) == spec::seccomp_action_names());
  BOOST_TEST(strings(linux["seccomp"]["archs"]) == spec::seccomp_arch_names());
  BOOST_TEST(!linux["apparmor"]["enabled"].GetBool());
  BOOST_TEST(!linux["selinux"]["enabled"].GetBool());
  BOOST_TEST(!linux["mountExtensions"]["idmap"]["enabled"].GetBool());
  BOOST_TEST(std::string(d["annotations"]["io.agentrun.version"].GetString()) == AGENTRUN_VERSION);
}

BOOST_AUTO_TEST_CASE(features_follow_the_host) {
  HostFacts host;
  host.last_cap = 38;
  host.apparmor = true;
  rapidjson::Document d = parse_json(features_json(host));
  const auto caps = strings(d["linux"]["capabilities"]);
  BOOST_TEST(caps.size() == 39u);
  BOOST_TEST(caps.back() == "CAP_PERFMON");
  BOOST_TEST(std::count(caps.begin(), caps.end(), "CAP_BPF") == 0);
  BOOST_TEST(d["linux"]["apparmor"]["enabled"].GetBool());

  // A kernel newer than the names this build knows: only the known ones are listed.
  host.last_cap = 63;
  rapidjson::Document n = parse_json(features_json(host));
  const auto all = strings(n["linux"]["capabilities"]);
  BOOST_TEST(all.size() == static_cast<size_t>(spec::last_known_capability() + 1));
  BOOST_TEST(all.back() == spec::capability_name(spec::last_known_capability()));
}
