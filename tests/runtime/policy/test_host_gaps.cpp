// What runc and crun run with a warning (or silently), agentrun runs too
// under `oci`, with a warning that also reaches the --log file and
// `inspect`; a policy with rules still refuses what would leave the
// container less isolated than config.json asked.
#include <boost/test/unit_test.hpp>

#include <rapidjson/pointer.h>

#include <fstream>

#include "support/harness.hpp"
#include "support/needs.hpp"

using test::Sandbox;

namespace {

bool has(const std::string& text, const std::string& part) { return text.find(part) != std::string::npos; }

// A policy with a single rule: an agent policy, unlike `oci`.
std::string one_rule_policy(const Sandbox& s, const std::string& isolation) {
  const std::string path = s.dir + "/" + isolation + ".json";
  std::ofstream(path) << R"({"agentrunPolicy": 1, "name": ")" << isolation << R"(", "isolation": ")" << isolation
                      << R"(", "process": {"noNewPrivileges": true}})";
  return path;
}

// The warnings `inspect` shows for a container created from `cfg`.
std::string inspect_warnings(const Sandbox& s, const rapidjson::Document& cfg, const std::string& id) {
  s.write_config(cfg);
  auto created = s.agentrun({"create", "--bundle", s.bundle, id});
  BOOST_TEST_REQUIRE(created.code == 0, created.err);
  auto inspected = s.agentrun({"inspect", id});
  BOOST_TEST(s.agentrun({"delete", "--force", id}).code == 0);
  BOOST_TEST_REQUIRE(inspected.code == 0, inspected.err);
  rapidjson::Document d;
  d.Parse(inspected.out.c_str());
  BOOST_TEST_REQUIRE(d.IsObject(), inspected.out);
  return test::to_json(d["warnings"]);
}

const char* kStatusCaps = "grep -E '^Cap(Inh|Prm|Eff|Bnd|Amb)' /proc/self/status";

}  // namespace

BOOST_AUTO_TEST_CASE(unknown_capability_names_are_warnings_under_every_policy) {
  Sandbox s;
  auto cfg = test::base_config({"sh", "-c", kStatusCaps});
  for (const char* set : {"/process/capabilities/bounding", "/process/capabilities/effective", "/process/capabilities/permitted"})
    test::set_json(cfg, set, R"(["CAP_KILL", "CAP_BOGUS", "CAP_FUTURE"])");
  const std::string warning = "ignoring unknown or unavailable capabilities: CAP_BOGUS, CAP_FUTURE";
  const std::string log = s.dir + "/log.json";
  for (const std::string& policy : {std::string("oci"), one_rule_policy(s, "strict")}) {
    s.policy = policy;
    s.write_config(cfg);
    auto o = s.agentrun({"--log", log, "--log-format", "json", "run", "--bundle", s.bundle, "c"});
    BOOST_TEST(o.code == 0, o.err);
    BOOST_TEST(has(o.out, "CapEff:\t0000000000000020\n"), o.out);
    BOOST_TEST(has(o.out, "CapBnd:\t0000000000000020\n"), o.out);
    BOOST_TEST(has(o.err, "warning: config.json: process.capabilities: " + warning), o.err);
    BOOST_TEST(has(test::read_file(log), R"({"level":"warning","msg":"config.json: process.capabilities: )" + warning),
               test::read_file(log));
  }
  BOOST_TEST(has(inspect_warnings(s, cfg, "i"), warning));
  BOOST_TEST(s.leftovers().empty());
}

BOOST_AUTO_TEST_CASE(the_bundle_of_runc_spec_runs_without_the_ambient_capabilities_it_cannot_raise) {
  Sandbox s;
  auto cfg = test::base_config({"sh", "-c", kStatusCaps});
  // `runc spec` of runc 1.1 (Debian 12): ambient without inheritable, as
  // runc left it after CVE-2022-29162.
  test::set_json(cfg, "/process/capabilities", R"({
    "bounding": ["CAP_AUDIT_WRITE", "CAP_KILL", "CAP_NET_BIND_SERVICE"],
    "effective": ["CAP_AUDIT_WRITE", "CAP_KILL", "CAP_NET_BIND_SERVICE"],
    "permitted": ["CAP_AUDIT_WRITE", "CAP_KILL", "CAP_NET_BIND_SERVICE"],
    "ambient": ["CAP_AUDIT_WRITE", "CAP_KILL", "CAP_NET_BIND_SERVICE"]})");
  test::set_json(cfg, "/process/noNewPrivileges", "true");
  auto o = s.run(cfg);
  BOOST_TEST(o.code == 0, o.err);
  BOOST_TEST(has(o.out, "CapInh:\t0000000000000000\nCapPrm:\t0000000020000420\nCapEff:\t0000000020000420\n"
                        "CapBnd:\t0000000020000420\nCapAmb:\t0000000000000000\n"), o.out);
  BOOST_TEST(has(o.err, "warning: config.json: process.capabilities.ambient: cannot raise CAP_AUDIT_WRITE, CAP_KILL, "
                        "CAP_NET_BIND_SERVICE: an ambient capability must also be permitted and inheritable"), o.err);

  // What can be raised still is.
  test::set_json(cfg, "/process/capabilities/inheritable", R"(["CAP_KILL"])");
  auto part = s.run(cfg);
  BOOST_TEST(part.code == 0, part.err);
  BOOST_TEST(has(part.out, "CapInh:\t0000000000000020\n"), part.out);
  BOOST_TEST(has(part.out, "CapAmb:\t0000000000000020\n"), part.out);
  BOOST_TEST(has(part.err, "cannot raise CAP_AUDIT_WRITE, CAP_NET_BIND_SERVICE:"), part.err);
  BOOST_TEST(s.leftovers().empty());
}

BOOST_AUTO_TEST_CASE(security_labels_and_net_cls_this_host_lacks_are_warnings_under_oci,
                     *test::needs_absent(test::host::apparmor, "AppArmor") *
                         test::needs_absent(test::host::selinux, "SELinux") *
                         test::needs_absent([] { return test::host::cgroup_controller("net_cls"); }, "a net_cls cgroup") *
                         test::needs_absent([] { return test::host::cgroup_controller("net_prio"); },
                                            "a net_prio cgroup")) {
  Sandbox s;
  auto cfg = test::base_config({"echo", "ran"});
  test::set_string(cfg, "/process/apparmorProfile", "docker-default");
  test::set_string(cfg, "/process/selinuxLabel", "system_u:system_r:container_t:s0");
  test::set_string(cfg, "/linux/mountLabel", "system_u:object_r:container_file_t:s0");
  test::set_json(cfg, "/linux/resources/network", R"({"classID": 1048577, "priorities": [{"name": "lo", "priority": 1}]})");
  const std::vector<std::string> warnings = {
      "config.json: process.apparmorProfile: ignored: AppArmor is not enabled on this host",
      "config.json: process.selinuxLabel: ignored: SELinux is not enabled on this host",
      "config.json: linux.mountLabel: ignored: SELinux is not enabled on this host",
      "config.json: linux.resources.network.classID: ignored: this host has no net_cls cgroup hierarchy",
      "config.json: linux.resources.network.priorities: ignored: this host has no net_prio cgroup hierarchy",
  };
  auto o = s.run(cfg);
  BOOST_TEST(o.code == 0, o.err);
  BOOST_TEST(o.out == "ran\n", o.out);
  for (const auto& w : warnings) BOOST_TEST(has(o.err, "warning: " + w), o.err);
  const std::string inspected = inspect_warnings(s, cfg, "i");
  for (const auto& w : warnings) BOOST_TEST(has(inspected, w), inspected);

  // An agent policy refuses each under strict, and records it under best-effort.
  s.policy = one_rule_policy(s, "strict");
  for (const char* field : {"/process/apparmorProfile", "/process/selinuxLabel", "/linux/mountLabel", "/linux/resources"}) {
    auto one = test::base_config({"echo", "ran"});
    rapidjson::Value* v = rapidjson::Pointer(field).Get(cfg);
    BOOST_TEST_REQUIRE(v);
    test::set_json(one, field, test::to_json(*v));
    auto refused = s.run(one);
    BOOST_TEST(refused.code == 1, field);
    BOOST_TEST(refused.out.empty(), field << ": " << refused.out);
    BOOST_TEST(has(refused.err, "policy strict (" + s.policy + "): config.json: "), refused.err);
  }
  s.policy = one_rule_policy(s, "best-effort");
  auto lax = s.run(cfg);
  BOOST_TEST(lax.code == 0, lax.err);
  // Given up, in the words of a refusal.
  for (auto w : warnings) {
    w.replace(w.find(": ignored: "), 11, ": ");
    BOOST_TEST(has(lax.err, "warning: policy best-effort (" + s.policy + ") (best-effort): " + w), lax.err);
  }
  BOOST_TEST(s.leftovers().empty());
}
