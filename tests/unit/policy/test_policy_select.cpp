#include <boost/test/unit_test.hpp>
#include <stdlib.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <optional>
#include <string>
#include <vector>

#include "runtime/policy/apply.hpp"
#include "runtime/policy/merge.hpp"
#include "runtime/policy/parse_policy.hpp"
#include "runtime/policy/policy.hpp"
#include "runtime/policy/select.hpp"
#include "spec/error.hpp"
#include "support/checks.hpp"
#include "support/policy_show.hpp"

using namespace agentrun::policy;

namespace {

// A temporary operator config dir, removed afterwards.
struct ConfigDir : TempDir {
  ConfigDir() : TempDir("policy-select") {}
  void write(const std::string& relative, const std::string& text) const {
    const std::filesystem::path p = path + "/" + relative;
    std::filesystem::create_directories(p.parent_path());
    std::ofstream(p) << text;
  }
  void config(const std::string& text) const { write("config.json", text); }
  void policy(const std::string& name, const std::string& body) const {
    write("policies/" + name + ".json",
          R"({"agentrunPolicy": 1, "name": ")" + name + "\"" + (body.empty() ? "" : ", ") + body + "}");
  }
  SelectionInput input() const {
    SelectionInput in;
    in.config_dir = path;
    return in;
  }
};

Selected select_with(const ConfigDir& dir, std::optional<std::string> flag, std::optional<std::string> env,
                     std::map<std::string, std::string> annotations = {}) {
  SelectionInput in = dir.input();
  in.flag = std::move(flag);
  in.env = std::move(env);
  in.annotations = std::move(annotations);
  return select_policy(in);
}

std::string rules(Policy p) {
  p.name.clear();
  p.description.clear();
  return policy_json(p);
}

}  // namespace

BOOST_AUTO_TEST_CASE(no_operator_config_means_agent_default) {
  ConfigDir dir;
  const OperatorConfig op = load_operator_config(dir.path);
  BOOST_TEST(op.defaultPolicy == "agent-default");
  BOOST_TEST(!op.allowedPolicies.has_value());
  BOOST_TEST(op.floor.empty());
  const Selected s = select_policy(dir.input());
  BOOST_TEST(s.policy.name == "agent-default");
  BOOST_TEST(s.origin == "default");
  BOOST_TEST(rules(s.policy) == rules(load_policy("agent-default", dir.path)));
}

BOOST_AUTO_TEST_CASE(flag_and_env) {
  ConfigDir dir;
  Selected s = select_with(dir, "agent-strict", std::nullopt);
  BOOST_TEST(s.policy.name == "agent-strict");
  BOOST_TEST(s.origin == "--policy");
  s = select_with(dir, std::nullopt, "oci");
  BOOST_TEST(s.policy.name == "oci");
  BOOST_TEST(s.origin == "AGENTRUN_POLICY");
  s = select_with(dir, "agent-strict", "oci");  // the flag wins
  BOOST_TEST(s.policy.name == "agent-strict");
  BOOST_TEST(s.origin == "--policy");
  // Both beat the operator's default.
  dir.config(R"({"defaultPolicy": "agent-strict"})");
  s = select_with(dir, std::nullopt, "oci");
  BOOST_TEST(s.policy.name == "oci");
}

BOOST_AUTO_TEST_CASE(selection_input_reads_the_environment) {
  ::setenv("AGENTRUN_CONFIG_DIR", "/some/dir", 1);
  ::setenv("AGENTRUN_POLICY", "agent-strict", 1);
  SelectionInput in = selection_input(std::string("oci"), {{"a", "b"}});
  BOOST_TEST(in.config_dir == "/some/dir");
  BOOST_TEST(in.flag.value_or("") == "oci");
  BOOST_TEST(in.env.value_or("") == "agent-strict");
  BOOST_TEST(in.annotations.size() == 1u);
  ::setenv("AGENTRUN_POLICY", "", 1);
  ::setenv("AGENTRUN_CONFIG_DIR", "", 1);
  in = selection_input(std::nullopt, {});
  BOOST_TEST(in.config_dir == "/etc/agentrun");
  BOOST_TEST(!in.env.has_value());
  BOOST_TEST(!in.flag.has_value());
  ::unsetenv("AGENTRUN_POLICY");
  ::unsetenv("AGENTRUN_CONFIG_DIR");
}

BOOST_AUTO_TEST_CASE(policy_by_path) {
  ConfigDir dir;
  dir.write("elsewhere/mine.json", R"({"agentrunPolicy": 1, "name": "mine", "resources": {"pidsMax": 7}})");
  const Selected s = select_with(dir, dir.path + "/elsewhere/mine.json", std::nullopt);
  BOOST_TEST(s.policy.name == "mine");
  BOOST_TEST(*s.policy.resources.pidsMax == 7);
  BOOST_TEST(s.origin == "--policy");
  // Its refusals name the file, whatever its name field says.
  BOOST_TEST(shown_name(s.policy) == "mine (" + dir.path + "/elsewhere/mine.json)");
  BOOST_TEST(shown_name(load_policy("agent-default", dir.path)) == "agent-default");
  // Errors name the file.
  dir.write("elsewhere/bad.json", R"({"agentrunPolicy": 1, "name": "bad", "filesystem": {"denyRaed": []}})");
  BOOST_CHECK_EXCEPTION(load_policy(dir.path + "/elsewhere/bad.json", dir.path), agentrun::Failure,
                        Message{"policy " + dir.path + "/elsewhere/bad.json: filesystem.denyRaed: unknown field"});
  BOOST_CHECK_EXCEPTION(load_policy(dir.path + "/elsewhere/missing.json", dir.path), agentrun::Failure,
                        Message{"read policy " + dir.path + "/elsewhere/missing.json: no such file or directory"});
}

BOOST_AUTO_TEST_CASE(installed_policies_come_first) {
  ConfigDir dir;
  dir.policy("team", R"("network": {"mode": "none"})");
  const Policy team = load_policy("team", dir.path);
  BOOST_TEST(team.name == "team");
  BOOST_TEST(show(team.network.mode) == "none");
  // The built-ins' names are reserved: a file that would replace one is refused.
  for (const std::string& name : builtin_policy_names()) {
    dir.write("policies/" + name + ".json", R"({"agentrunPolicy": 1, "name": "lookalike"})");
    BOOST_CHECK_EXCEPTION(load_policy(name, dir.path), agentrun::Failure,
                          Message{"policy " + dir.path + "/policies/" + name + ".json: \"" + name +
                                  "\" is a built-in policy's name, and those are reserved: name the file otherwise "
                                  "(config.json's defaultPolicy can make it the default)"});
  }
  // Errors in an installed policy name its file.
  dir.write("policies/broken.json", R"({"agentrunPolicy": 1, "name": "broken", "isolation": "lax"})");
  BOOST_CHECK_EXCEPTION(
      load_policy("broken", dir.path), agentrun::Failure,
      Message{"policy " + dir.path + "/policies/broken.json: isolation: unknown isolation \"lax\" (strict or best-effort)"});
}

BOOST_AUTO_TEST_CASE(unknown_and_invalid_names) {
  ConfigDir dir;
  BOOST_CHECK_EXCEPTION(load_policy("nope", dir.path), agentrun::Failure,
                        Message{"policy \"nope\": unknown (built-in: agent-default, agent-strict, oci; installed ones live in " +
                                dir.path + "/policies)"});
  BOOST_CHECK_EXCEPTION(select_with(dir, "nope", std::nullopt), agentrun::Failure, Prefix{"policy \"nope\": unknown"});
  for (const std::string bad : {"", ".hidden", "..", "a b", "a\nb", "a*"})
    BOOST_CHECK_EXCEPTION(load_policy(bad, dir.path), agentrun::Failure,
                          Message{"policy \"" + bad + "\": not a valid policy name"});
  // A name never reaches outside <dir>/policies.
  dir.write("secret.json", R"({"agentrunPolicy": 1, "name": "secret"})");
  BOOST_CHECK_EXCEPTION(load_policy("secret", dir.path), agentrun::Failure, Prefix{"policy \"secret\": unknown"});
}

// The annotation comes from the container: it names a policy, never a file
// on the host (a path would let any image make the runtime read, as root,
// whatever file it likes, /dev/zero included).
BOOST_AUTO_TEST_CASE(annotation_cannot_name_a_host_path) {
  ConfigDir dir;
  dir.write("elsewhere/mine.json", R"({"agentrunPolicy": 1, "name": "mine"})");
  BOOST_CHECK_THROW(select_with(dir, std::nullopt, std::nullopt, {{kPolicyAnnotation, dir.path + "/elsewhere/mine.json"}}),
                    agentrun::Failure);
  BOOST_CHECK_THROW(select_with(dir, std::nullopt, std::nullopt, {{kPolicyAnnotation, "../x"}}), agentrun::Failure);
}

BOOST_AUTO_TEST_CASE(operator_default_policy) {
  ConfigDir dir;
  dir.config(R"({"defaultPolicy": "agent-strict"})");
  const Selected s = select_policy(dir.input());
  BOOST_TEST(s.policy.name == "agent-strict");
  BOOST_TEST(s.origin == "default");
  dir.policy("house", R"("resources": {"pidsMax": 99})");
  dir.config(R"({"defaultPolicy": "house"})");
  BOOST_TEST(*select_policy(dir.input()).policy.resources.pidsMax == 99);
  dir.config(R"({"defaultPolicy": "missing"})");
  BOOST_CHECK_EXCEPTION(select_policy(dir.input()), agentrun::Failure, Prefix{"policy \"missing\": unknown"});
}

BOOST_AUTO_TEST_CASE(floor_is_merged_into_the_chosen_policy) {
  ConfigDir dir;
  dir.config(R"({"floor": "agent-strict"})");
  Selected s = select_with(dir, "oci", std::nullopt);
  BOOST_TEST(s.origin == "--policy");
  BOOST_TEST(s.policy.name == "oci+agent-strict");
  BOOST_TEST(rules(s.policy) == rules(load_policy("agent-strict", dir.path)));
  // The default is merged with it too.
  s = select_policy(dir.input());
  BOOST_TEST(s.policy.name == "agent-default+agent-strict");
  BOOST_TEST(show(s.policy.network.mode) == "none");
  BOOST_TEST(show(s.policy.process.capabilities) == "[]");
  BOOST_TEST(show(s.policy.process.allowRoot) == "false");
  // A floor that does not exist is an error, not no floor.
  dir.config(R"({"floor": "nope"})");
  BOOST_CHECK_EXCEPTION(select_policy(dir.input()), agentrun::Failure, Prefix{"policy \"nope\": unknown"});
}

BOOST_AUTO_TEST_CASE(annotation_merged_with_the_floor) {
  ConfigDir dir;
  dir.config(R"({"floor": "agent-default"})");
  Selected s = select_with(dir, std::nullopt, std::nullopt, {{kPolicyAnnotation, "oci"}});
  BOOST_TEST(s.origin == "annotation io.agentrun.policy");
  BOOST_TEST(s.policy.name == "oci+agent-default");
  // Asking for oci gets exactly the floor.
  BOOST_TEST(rules(s.policy) == rules(load_policy("agent-default", dir.path)));
  // Asking for something stricter gets it.
  s = select_with(dir, std::nullopt, std::nullopt, {{kPolicyAnnotation, "agent-strict"}});
  BOOST_TEST(show(s.policy.network.mode) == "none");
  BOOST_TEST(show(s.policy.process.allowRoot) == "false");
  BOOST_TEST(show(s.policy.filesystem.denyExec) == show(load_policy("agent-default", dir.path).filesystem.denyExec));
}

BOOST_AUTO_TEST_CASE(annotation_merged_with_the_chosen_policy_without_a_floor) {
  ConfigDir dir;
  for (const std::optional<std::string>& flag : {std::optional<std::string>("agent-strict"), std::optional<std::string>()}) {
    const Selected s = select_with(dir, flag, std::nullopt, {{kPolicyAnnotation, "oci"}});
    const Policy chosen = load_policy(flag.value_or("agent-default"), dir.path);
    BOOST_TEST(s.origin == "annotation io.agentrun.policy");
    BOOST_TEST(s.policy.name == "oci+" + chosen.name);
    BOOST_TEST(rules(s.policy) == rules(chosen));  // oci by annotation never loosens
  }
}

// --policy is stronger than the annotation (design section 5, "strongest
// first"): an annotation asking for oci must not undo the policy the
// operator passed on the command line, floor or no floor.
BOOST_AUTO_TEST_CASE(annotation_cannot_undo_the_flag_when_there_is_a_floor) {
  ConfigDir dir;
  dir.config(R"({"floor": "agent-default"})");
  const Selected s = select_with(dir, "agent-strict", std::nullopt, {{kPolicyAnnotation, "oci"}});
  BOOST_TEST(show(s.policy.network.mode) == "none");
  BOOST_TEST(show(s.policy.process.allowRoot) == "false");
  BOOST_TEST(show(s.policy.process.capabilities) == "[]");
}

BOOST_AUTO_TEST_CASE(allowed_policies) {
  ConfigDir dir;
  dir.config(R"({"allowedPolicies": ["agent-strict", "oci"]})");
  BOOST_CHECK_EXCEPTION(
      select_with(dir, std::nullopt, std::nullopt, {{kPolicyAnnotation, "agent-default"}}), agentrun::Failure,
      Message{"annotation io.agentrun.policy=agent-default: this policy is not among those the operator allows "
              "(agent-strict, oci)"});
  const Selected s = select_with(dir, std::nullopt, std::nullopt, {{kPolicyAnnotation, "agent-strict"}});
  BOOST_TEST(show(s.policy.network.mode) == "none");
  // The list restricts annotations only, not the operator's own flag.
  BOOST_TEST(select_with(dir, "agent-default", std::nullopt).policy.name == "agent-default");
  dir.config(R"({"allowedPolicies": []})");
  BOOST_CHECK_EXCEPTION(select_with(dir, std::nullopt, std::nullopt, {{kPolicyAnnotation, "oci"}}), agentrun::Failure,
                        Message{"annotation io.agentrun.policy=oci: this policy is not among those the operator allows ()"});
}

// A misspelt annotation of agentrun's would have left the container under
// the default policy instead of the one its author named.
BOOST_AUTO_TEST_CASE(an_unknown_agentrun_annotation_is_refused) {
  ConfigDir dir;
  BOOST_CHECK_EXCEPTION(
      select_with(dir, std::nullopt, std::nullopt, {{"io.agentrun.polcy", "agent-strict"}}), agentrun::Failure,
      Message{"annotation io.agentrun.polcy: unknown (agentrun reads io.agentrun.policy and io.agentrun.isolation); "
              "correct or remove it"});
  // A systemd unit property would override the policy's limits (TasksMax
  // over pidsMax) and device rules: refused under a policy with rules, as
  // runc takes it under oci.
  BOOST_CHECK_EXCEPTION(
      select_with(dir, std::nullopt, std::nullopt, {{"org.systemd.property.TasksMax", "uint64 18446744073709551615"}}),
      agentrun::Failure,
      Message{"annotation org.systemd.property.TasksMax: this systemd unit property could undo the limits and device "
              "rules of policy agent-default; only a policy without rules (oci) takes it"});
  // How the scope is stopped and named is no limit: podman sets these.
  BOOST_TEST(select_with(dir, std::nullopt, std::nullopt,
                         {{"org.systemd.property.KillSignal", "uint32 15"},
                          {"org.systemd.property.TimeoutStopUSec", "uint64 10000000"}})
                 .policy.name == "agent-default");
  BOOST_TEST(select_with(dir, "oci", std::nullopt, {{"org.systemd.property.TasksMax", "uint64 5"}}).policy.name ==
             "oci");
  // Others' annotations are theirs.
  BOOST_TEST(select_with(dir, std::nullopt, std::nullopt, {{"io.agentrunner.x", "1"}, {"org.example", "y"}})
                 .policy.name == "agent-default");
}

BOOST_AUTO_TEST_CASE(isolation_annotation) {
  ConfigDir dir;
  BOOST_CHECK_EXCEPTION(
      select_with(dir, std::nullopt, std::nullopt, {{kIsolationAnnotation, "best-effort"}}), agentrun::Failure,
      Message{"annotation io.agentrun.isolation=best-effort: an annotation can only tighten, and policy agent-default is "
              "strict"});
  BOOST_CHECK_EXCEPTION(select_with(dir, std::nullopt, std::nullopt, {{kIsolationAnnotation, "lax"}}), agentrun::Failure,
                        Message{"annotation io.agentrun.isolation=lax: unknown isolation (strict or best-effort)"});
  BOOST_CHECK_EXCEPTION(select_with(dir, std::nullopt, std::nullopt, {{kIsolationAnnotation, ""}}), agentrun::Failure,
                        Message{"annotation io.agentrun.isolation=: unknown isolation (strict or best-effort)"});
  dir.policy("soft", R"("isolation": "best-effort")");
  Selected s = select_with(dir, "soft", std::nullopt, {{kIsolationAnnotation, "strict"}});
  BOOST_TEST(s.policy.isolation == Isolation::strict);
  BOOST_TEST(s.origin == "--policy");
  s = select_with(dir, "soft", std::nullopt, {{kIsolationAnnotation, "best-effort"}});
  BOOST_TEST(s.policy.isolation == Isolation::best_effort);
  s = select_with(dir, "soft", std::nullopt);
  BOOST_TEST(s.policy.isolation == Isolation::best_effort);
  // Strict is checked after the policy annotation: together they tighten a best-effort policy.
  s = select_with(dir, "soft", std::nullopt, {{kPolicyAnnotation, "soft"}, {kIsolationAnnotation, "strict"}});
  BOOST_TEST(s.policy.isolation == Isolation::strict);
  // A strict policy named by annotation cannot be softened by the other annotation.
  BOOST_CHECK_EXCEPTION(
      select_with(dir, "soft", std::nullopt, {{kPolicyAnnotation, "agent-strict"}, {kIsolationAnnotation, "best-effort"}}),
      agentrun::Failure, Prefix{"annotation io.agentrun.isolation=best-effort: an annotation can only tighten"});
}

BOOST_AUTO_TEST_CASE(malformed_operator_config) {
  ConfigDir dir;
  const std::string file = dir.path + "/config.json";
  dir.config("{\n  \"defaultPolicy\": \"oci\"\n  \"floor\": \"x\"\n}");
  BOOST_CHECK_EXCEPTION(select_policy(dir.input()), agentrun::Failure, Prefix{file + ": line 3, column "});
  dir.config(R"({"floors": "agent-default"})");
  BOOST_CHECK_EXCEPTION(select_policy(dir.input()), agentrun::Failure, Message{file + ": floors: unknown field"});
  dir.config(R"({"allowedPolicies": "oci"})");
  BOOST_CHECK_EXCEPTION(select_policy(dir.input()), agentrun::Failure, Message{file + ": allowedPolicies: expected an array"});
  dir.config(R"({"defaultPolicy": 1})");
  BOOST_CHECK_EXCEPTION(select_policy(dir.input()), agentrun::Failure, Message{file + ": defaultPolicy: expected a string"});
  const OperatorConfig op =
      parse_operator_config(R"({"defaultPolicy": "a", "allowedPolicies": ["b", "c"], "floor": "d"})", "cfg");
  BOOST_TEST(op.defaultPolicy == "a");
  BOOST_TEST(show(op.allowedPolicies) == "[b,c]");
  BOOST_TEST(op.floor == "d");
}
