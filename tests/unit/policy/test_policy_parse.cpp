#include <boost/test/unit_test.hpp>
#include <stdlib.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "runtime/policy/parse_policy.hpp"
#include "runtime/policy/policy.hpp"
#include "runtime/policy/preflight.hpp"
#include "runtime/policy/select.hpp"
#include "runtime/util/embedded_files.hpp"
#include "spec/error.hpp"
#include "support/checks.hpp"
#include "support/policy_show.hpp"

using namespace agentrun::policy;

namespace {

#define CHECK_FAILS(text, expected) \
  BOOST_CHECK_EXCEPTION(parse_policy(text, "policy x"), agentrun::Failure, Message{expected})

// A minimal valid policy with `extra` members added at the top level.
std::string doc(const std::string& extra = "") {
  std::string out = R"({"agentrunPolicy": 1, "name": "x"})";
  if (!extra.empty()) out.insert(out.size() - 1, ", " + extra);
  return out;
}

// Field by field: every field of the model.
void check_same(const Policy& a, const Policy& b) {
  BOOST_TEST(a.name == b.name);
  BOOST_TEST(a.description == b.description);
  BOOST_TEST(isolation_name(a.isolation) == isolation_name(b.isolation));
  BOOST_TEST(show(a.require) == show(b.require));
  BOOST_TEST(show(a.filesystem.readonlyRoot) == show(b.filesystem.readonlyRoot));
  BOOST_TEST(show(a.filesystem.writable) == show(b.filesystem.writable));
  BOOST_TEST(show(a.filesystem.denyRead) == show(b.filesystem.denyRead));
  BOOST_TEST(show(a.filesystem.denyExec) == show(b.filesystem.denyExec));
  BOOST_TEST(show(a.filesystem.execFrom) == show(b.filesystem.execFrom));
  BOOST_TEST(show(a.process.noNewPrivileges) == show(b.process.noNewPrivileges));
  BOOST_TEST(show(a.process.allowRoot) == show(b.process.allowRoot));
  BOOST_TEST(show(a.process.allowPrivileged) == show(b.process.allowPrivileged));
  BOOST_TEST(show(a.process.capabilities) == show(b.process.capabilities));
  BOOST_TEST(a.seccomp.baseline == b.seccomp.baseline);
  BOOST_TEST(show(a.seccomp.plus) == show(b.seccomp.plus));
  BOOST_TEST(show(a.network.mode) == show(b.network.mode));
  BOOST_TEST(show(a.network.tcpConnect) == show(b.network.tcpConnect));
  BOOST_TEST(show(a.network.tcpBind) == show(b.network.tcpBind));
  BOOST_TEST(show_num(a.resources.pidsMax) == show_num(b.resources.pidsMax));
  BOOST_TEST(show_num(a.resources.memoryMax) == show_num(b.resources.memoryMax));
  BOOST_TEST(show_num(a.resources.nofileMax) == show_num(b.resources.nofileMax));
}

// A config dir that exists and holds nothing: only built-ins resolve.
struct EmptyDir : TempDir {
  EmptyDir() : TempDir("policy-parse") {}
};

const std::vector<std::string> kDenyRead = {
    "~/.ssh",           "~/.aws",          "~/.config/gcloud",      "~/.gnupg",          "~/.kube",
    "~/.docker",        "~/.npmrc",        "~/.pypirc",             "~/.netrc",          "~/.git-credentials",
    "~/.config/gh",     "~/.claude",       "~/.claude.json",        "~/.codex",          "~/.azure",
    "~/.vault-token",   "~/.cargo/credentials", "~/.cargo/credentials.toml", "~/.*history", "/workspace/**/.env",
    "/workspace/**/.env.*", "/var/run/secrets/kubernetes.io", "/run/secrets/kubernetes.io"};
const std::vector<std::string> kDenyExec = {"curl", "wget", "nc", "ncat", "netcat", "socat", "ssh", "scp", "telnet", "ftp"};
const std::vector<std::string> kExecFrom = {"/usr", "/bin", "/sbin", "/lib", "/lib64", "/opt"};

}  // namespace

BOOST_AUTO_TEST_CASE(builtin_names_match_the_embedded_files) {
  std::vector<std::string> embedded;
  for (auto p : agentrun::embedded_files_under("policies")) embedded.emplace_back(p);
  std::vector<std::string> expected;
  for (const auto& n : builtin_policy_names()) expected.push_back("policies/" + n + ".json");
  std::sort(expected.begin(), expected.end());
  BOOST_TEST(show(embedded) == show(expected));
}

// What agent-default and agent-strict share: the filesystem rules, no_new_privs and seccomp.
void check_agent_filesystem(const Policy& p) {
  BOOST_TEST(show(p.filesystem.readonlyRoot) == "true");
  BOOST_TEST(show(p.filesystem.protectRepoHooks) == "true");
  BOOST_TEST(show(p.filesystem.writable) == show(std::vector<std::string>{"/workspace", "/tmp"}));
  BOOST_TEST(show(p.filesystem.denyRead) == show(kDenyRead));
  BOOST_TEST(show(p.filesystem.denyExec) == show(kDenyExec));
  BOOST_TEST(show(p.filesystem.execFrom) == show(kExecFrom));
  BOOST_TEST(show(p.process.noNewPrivileges) == "true");
}

void check_agent_seccomp(const Policy& p) {
  BOOST_TEST(p.seccomp.baseline == "docker-baseline");
  BOOST_TEST(show(p.seccomp.plus) == "[agent-hardening]");
}

BOOST_AUTO_TEST_CASE(builtin_agent_default) {
  EmptyDir dir;
  const Policy p = load_policy("agent-default", dir.path);
  BOOST_TEST(p.name == "agent-default");
  BOOST_TEST(!p.description.empty());
  BOOST_TEST(p.isolation == Isolation::strict);
  BOOST_TEST(show(p.require) ==
             show({"mount-ns", "pid-ns", "ipc-ns", "uts-ns", "seccomp", "no-new-privileges", "landlock", "cgroup-pids"}));
  check_agent_filesystem(p);
  BOOST_TEST(show(p.process.allowRoot) == "true");
  BOOST_TEST(show(p.process.allowPrivileged) == "false");
  BOOST_TEST(show(p.process.capabilities) == show({"CAP_CHOWN", "CAP_DAC_OVERRIDE", "CAP_FOWNER", "CAP_FSETID", "CAP_KILL",
                                                   "CAP_SETGID", "CAP_SETUID", "CAP_NET_BIND_SERVICE"}));
  check_agent_seccomp(p);
  BOOST_TEST(show(p.network.mode) == "inherit");
  BOOST_TEST(show(p.network.tcpConnect) == "null");
  BOOST_TEST(show(p.network.tcpBind) == "null");
  BOOST_TEST(show_num(p.resources.pidsMax) == "1024");
  BOOST_TEST(show_num(p.resources.memoryMax) == "null");
  BOOST_TEST(show_num(p.resources.nofileMax) == "null");
}

BOOST_AUTO_TEST_CASE(builtin_agent_strict) {
  EmptyDir dir;
  const Policy p = load_policy("agent-strict", dir.path);
  BOOST_TEST(p.name == "agent-strict");
  BOOST_TEST(p.isolation == Isolation::strict);
  BOOST_TEST(show(p.require) == show({"user-ns", "mount-ns", "pid-ns", "net-ns", "ipc-ns", "uts-ns", "cgroup-ns", "seccomp",
                                      "no-new-privileges", "landlock", "cgroup-pids", "cgroup-memory"}));
  check_agent_filesystem(p);
  BOOST_TEST(show(p.process.allowRoot) == "false");
  BOOST_TEST(show(p.process.allowPrivileged) == "false");
  // An empty list, not "unrestricted".
  BOOST_REQUIRE(p.process.capabilities.has_value());
  BOOST_TEST(p.process.capabilities->empty());
  check_agent_seccomp(p);
  BOOST_TEST(show(p.network.mode) == "none");
  BOOST_TEST(show_num(p.resources.pidsMax) == "512");
  BOOST_TEST(show_num(p.resources.memoryMax) == "4294967296");
  BOOST_TEST(show_num(p.resources.nofileMax) == "4096");
}

BOOST_AUTO_TEST_CASE(builtin_oci_restricts_nothing) {
  EmptyDir dir;
  const Policy p = load_policy("oci", dir.path);
  BOOST_TEST(p.name == "oci");
  BOOST_TEST(p.isolation == Isolation::strict);
  BOOST_TEST(p.require.empty());
  BOOST_TEST(show(p.filesystem.readonlyRoot) == "null");
  BOOST_TEST(show(p.filesystem.writable) == "null");
  BOOST_TEST(p.filesystem.denyRead.empty());
  BOOST_TEST(p.filesystem.denyExec.empty());
  BOOST_TEST(show(p.filesystem.execFrom) == "null");
  BOOST_TEST(show(p.process.noNewPrivileges) == "null");
  BOOST_TEST(show(p.process.allowRoot) == "null");
  BOOST_TEST(show(p.process.allowPrivileged) == "null");
  BOOST_TEST(show(p.process.capabilities) == "null");
  BOOST_TEST(p.seccomp.baseline.empty());
  BOOST_TEST(p.seccomp.plus.empty());
  BOOST_TEST(show(p.network.mode) == "null");
  BOOST_TEST(show(p.network.tcpConnect) == "null");
  BOOST_TEST(show(p.network.tcpBind) == "null");
  BOOST_TEST(show_num(p.resources.pidsMax) == "null");
  BOOST_TEST(show_num(p.resources.memoryMax) == "null");
  BOOST_TEST(show_num(p.resources.nofileMax) == "null");
}

BOOST_AUTO_TEST_CASE(builtins_use_only_known_features) {
  EmptyDir dir;
  const auto& known = agentrun::feature_names();
  for (const auto& name : builtin_policy_names())
    for (const auto& f : load_policy(name, dir.path).require)
      BOOST_TEST((std::find(known.begin(), known.end(), f) != known.end()), name << " requires " << f);
}

BOOST_AUTO_TEST_CASE(minimal_policy_defaults) {
  const Policy p = parse_policy(doc(), "policy x");
  BOOST_TEST(p.name == "x");
  BOOST_TEST(p.description.empty());
  BOOST_TEST(p.isolation == Isolation::strict);  // strict unless said otherwise
  BOOST_TEST(p.require.empty());
  BOOST_TEST(show(p.process.capabilities) == "null");
}

BOOST_AUTO_TEST_CASE(full_hand_made_policy) {
  const Policy p = parse_policy(R"({
    "agentrunPolicy": 1, "name": "custom", "description": "d", "isolation": "best-effort",
    "require": ["time-ns", "cgroup-cpu"],
    "filesystem": {"readonlyRoot": false, "writable": [], "denyRead": ["/etc/shadow"], "denyExec": ["git"],
                   "execFrom": ["/usr/bin"]},
    "process": {"noNewPrivileges": false, "allowRoot": false, "allowPrivileged": true, "capabilities": ["CAP_KILL"]},
    "seccomp": {"baseline": "docker-baseline", "plus": ["a", "b"]},
    "network": {"mode": "none", "tcpConnect": [443, 0, 65535], "tcpBind": []},
    "resources": {"pidsMax": 1, "memoryMax": 9223372036854775807, "nofileMax": 64}
  })", "policy custom");
  BOOST_TEST(p.name == "custom");
  BOOST_TEST(p.description == "d");
  BOOST_TEST(p.isolation == Isolation::best_effort);
  BOOST_TEST(show(p.require) == "[time-ns,cgroup-cpu]");
  BOOST_TEST(show(p.filesystem.readonlyRoot) == "false");
  BOOST_TEST(show(p.filesystem.writable) == "[]");
  BOOST_TEST(show(p.filesystem.denyRead) == "[/etc/shadow]");
  BOOST_TEST(show(p.filesystem.denyExec) == "[git]");
  BOOST_TEST(show(p.filesystem.execFrom) == "[/usr/bin]");
  BOOST_TEST(show(p.process.noNewPrivileges) == "false");
  BOOST_TEST(show(p.process.allowRoot) == "false");
  BOOST_TEST(show(p.process.allowPrivileged) == "true");
  BOOST_TEST(show(p.process.capabilities) == "[CAP_KILL]");
  BOOST_TEST(show(p.seccomp.plus) == "[a,b]");
  BOOST_TEST(show(p.network.mode) == "none");
  BOOST_TEST(show(p.network.tcpConnect) == "[443,0,65535]");
  BOOST_TEST(show(p.network.tcpBind) == "[]");
  BOOST_TEST(show_num(p.resources.pidsMax) == "1");
  BOOST_TEST(show_num(p.resources.memoryMax) == "9223372036854775807");
  BOOST_TEST(show_num(p.resources.nofileMax) == "64");
}

BOOST_AUTO_TEST_CASE(unknown_fields_are_errors_with_their_path) {
  CHECK_FAILS(doc(R"("isolaton": "strict")"), "policy x: isolaton: unknown field");
  CHECK_FAILS(doc(R"("filesystem": {"denyRaed": []})"), "policy x: filesystem.denyRaed: unknown field");
  CHECK_FAILS(doc(R"("process": {"capabilites": []})"), "policy x: process.capabilites: unknown field");
  CHECK_FAILS(doc(R"("seccomp": {"baseline": "docker-baseline", "profile": "x"})"),
              "policy x: seccomp.profile: unknown field");
  CHECK_FAILS(doc(R"("network": {"mode": "none", "tcpconnect": [80]})"), "policy x: network.tcpconnect: unknown field");
  CHECK_FAILS(doc(R"("resources": {"cpuMax": 2})"), "policy x: resources.cpuMax: unknown field");
  // Field names are case-sensitive.
  CHECK_FAILS(doc(R"("Filesystem": {})"), "policy x: Filesystem: unknown field");
  // The label names the document.
  BOOST_CHECK_EXCEPTION(parse_policy(doc(R"("filesystem": {"denyRaed": []})"), "policy agent-custom"),
                        agentrun::Failure, Message{"policy agent-custom: filesystem.denyRaed: unknown field"});
}

BOOST_AUTO_TEST_CASE(structure_errors) {
  CHECK_FAILS(R"({"name": "x"})", "policy x: missing required field \"agentrunPolicy\"");
  CHECK_FAILS(R"({"agentrunPolicy": 1})", "policy x: missing required field \"name\"");
  CHECK_FAILS("[]", "policy x: expected an object");
  CHECK_FAILS(doc(R"("filesystem": [])"), "policy x: filesystem: expected an object");
  CHECK_FAILS(doc(R"("require": "pid-ns")"), "policy x: require: expected an array");
  CHECK_FAILS(doc(R"("filesystem": {"readonlyRoot": "yes"})"), "policy x: filesystem.readonlyRoot: expected true or false");
  CHECK_FAILS(doc(R"("process": {"allowRoot": 1})"), "policy x: process.allowRoot: expected true or false");
  CHECK_FAILS(doc(R"("seccomp": {"plus": [1]})"), "policy x: seccomp.plus[0]: expected a string");
  BOOST_CHECK_EXCEPTION(parse_policy("{\n  \"agentrunPolicy\": 1,\n}", "policy x"), agentrun::Failure,
                        Prefix{"policy x: line 3, column "});
}

BOOST_AUTO_TEST_CASE(version_must_be_1) {
  CHECK_FAILS(R"({"agentrunPolicy": 2, "name": "x"})",
              "policy x: agentrunPolicy: unsupported version (this agentrun reads version 1)");
  CHECK_FAILS(R"({"agentrunPolicy": 0, "name": "x"})",
              "policy x: agentrunPolicy: unsupported version (this agentrun reads version 1)");
  CHECK_FAILS(R"({"agentrunPolicy": "1", "name": "x"})", "policy x: agentrunPolicy: expected an integer");
}

BOOST_AUTO_TEST_CASE(bad_isolation_and_network_mode) {
  CHECK_FAILS(doc(R"("isolation": "lax")"), "policy x: isolation: unknown isolation \"lax\" (strict or best-effort)");
  CHECK_FAILS(doc(R"("isolation": "Strict")"), "policy x: isolation: unknown isolation \"Strict\" (strict or best-effort)");
  CHECK_FAILS(doc(R"("isolation": "best_effort")"),
              "policy x: isolation: unknown isolation \"best_effort\" (strict or best-effort)");
  CHECK_FAILS(doc(R"("network": {"mode": "host"})"), "policy x: network.mode: unknown network mode \"host\" (inherit or none)");
  CHECK_FAILS(doc(R"("network": {"mode": ""})"), "policy x: network.mode: unknown network mode \"\" (inherit or none)");
}

BOOST_AUTO_TEST_CASE(bad_capabilities_and_features) {
  CHECK_FAILS(doc(R"("process": {"capabilities": ["CAP_KILL", "CAP_BOGUS"]})"),
              "policy x: process.capabilities[1]: unknown capability \"CAP_BOGUS\"");
  CHECK_FAILS(doc(R"("process": {"capabilities": ["cap_kill"]})"),
              "policy x: process.capabilities[0]: unknown capability \"cap_kill\"");
  CHECK_FAILS(doc(R"("process": {"capabilities": ["KILL"]})"),
              "policy x: process.capabilities[0]: unknown capability \"KILL\"");
  CHECK_FAILS(doc(R"("require": ["pid-ns", "teleport"])"), "policy x: require[1]: unknown feature \"teleport\"");
  CHECK_FAILS(doc(R"("require": ["pid"])"), "policy x: require[0]: unknown feature \"pid\"");
  // Every preflight feature is accepted.
  std::string all;
  for (const auto& f : agentrun::feature_names()) all += (all.empty() ? "\"" : ", \"") + f + "\"";
  BOOST_TEST(parse_policy(doc("\"require\": [" + all + "]"), "policy x").require.size() == agentrun::feature_names().size());
}

BOOST_AUTO_TEST_CASE(bad_paths) {
  CHECK_FAILS(doc(R"("filesystem": {"writable": ["/tmp", "workspace"]})"),
              "policy x: filesystem.writable[1]: \"workspace\" is not an absolute path");
  CHECK_FAILS(doc(R"("filesystem": {"writable": [""]})"), "policy x: filesystem.writable[0]: \"\" is not an absolute path");
  CHECK_FAILS(doc(R"("filesystem": {"execFrom": ["usr"]})"), "policy x: filesystem.execFrom[0]: \"usr\" is not an absolute path");
  CHECK_FAILS(doc(R"("filesystem": {"denyRead": ["~user/.ssh"]})"),
              "policy x: filesystem.denyRead[0]: \"~user/.ssh\" is not an absolute path");
  CHECK_FAILS(doc(R"("filesystem": {"denyRead": [".ssh"]})"), "policy x: filesystem.denyRead[0]: \".ssh\" is not an absolute path");
  CHECK_FAILS(doc(R"("filesystem": {"denyRead": ["~"]})"), "policy x: filesystem.denyRead[0]: \"~\" is not an absolute path");
  // "~/" is the one relative form, meaning the process's home.
  BOOST_TEST(show(parse_policy(doc(R"("filesystem": {"denyRead": ["~/.ssh", "/etc/x"]})"), "policy x").filesystem.denyRead) ==
             "[~/.ssh,/etc/x]");
}

BOOST_AUTO_TEST_CASE(bad_deny_exec_names) {
  CHECK_FAILS(doc(R"("filesystem": {"denyExec": ["curl", "/usr/bin/curl"]})"),
              "policy x: filesystem.denyExec[1]: \"/usr/bin/curl\" is not a command name");
  CHECK_FAILS(doc(R"("filesystem": {"denyExec": ["bin/curl"]})"),
              "policy x: filesystem.denyExec[0]: \"bin/curl\" is not a command name");
  CHECK_FAILS(doc(R"("filesystem": {"denyExec": [""]})"), "policy x: filesystem.denyExec[0]: \"\" is not a command name");
  CHECK_FAILS(doc(R"("filesystem": {"denyExec": ["."]})"), "policy x: filesystem.denyExec[0]: \".\" is not a command name");
  CHECK_FAILS(doc(R"("filesystem": {"denyExec": [".."]})"), "policy x: filesystem.denyExec[0]: \"..\" is not a command name");
  BOOST_TEST(show(parse_policy(doc(R"("filesystem": {"denyExec": ["...", "a.b"]})"), "policy x").filesystem.denyExec) ==
             "[...,a.b]");
}

BOOST_AUTO_TEST_CASE(bad_resources) {
  for (const char* key : {"pidsMax", "memoryMax", "nofileMax"}) {
    const std::string k = key;
    CHECK_FAILS(doc("\"resources\": {\"" + k + "\": 0}"), "policy x: resources." + k + ": must be a positive number");
    CHECK_FAILS(doc("\"resources\": {\"" + k + "\": -1}"), "policy x: resources." + k + ": must be a positive number");
    CHECK_FAILS(doc("\"resources\": {\"" + k + "\": 1.5}"), "policy x: resources." + k + ": expected an integer");
    CHECK_FAILS(doc("\"resources\": {\"" + k + "\": \"1\"}"), "policy x: resources." + k + ": expected an integer");
  }
}

BOOST_AUTO_TEST_CASE(ports_out_of_range) {
  CHECK_FAILS(doc(R"("network": {"tcpConnect": [80, 65536]})"),
              "policy x: network.tcpConnect[1]: value 65536 is out of range for an unsigned 16-bit integer");
  CHECK_FAILS(doc(R"("network": {"tcpBind": [-1]})"), "policy x: network.tcpBind[0]: expected a non-negative integer");
  CHECK_FAILS(doc(R"("network": {"tcpBind": ["80"]})"), "policy x: network.tcpBind[0]: expected a non-negative integer");
  CHECK_FAILS(doc(R"("network": {"tcpConnect": 80})"), "policy x: network.tcpConnect: expected an array");
}

BOOST_AUTO_TEST_CASE(round_trip_of_each_builtin) {
  EmptyDir dir;
  for (const auto& name : builtin_policy_names()) {
    BOOST_TEST_CONTEXT("policy " << name) {
      const Policy p = load_policy(name, dir.path);
      const std::string json = policy_json(p);
      const Policy again = parse_policy(json, "policy " + name);
      check_same(again, p);
      // The canonical form is a fixed point.
      BOOST_TEST(policy_json(again) == json);
    }
  }
}

BOOST_AUTO_TEST_CASE(round_trip_keeps_absent_apart_from_empty) {
  const Policy p = parse_policy(R"({
    "agentrunPolicy": 1, "name": "custom", "description": "quote \" and \\ and ü", "isolation": "best-effort",
    "require": ["time-ns"],
    "filesystem": {"readonlyRoot": false, "writable": [], "execFrom": []},
    "process": {"allowPrivileged": true, "capabilities": []},
    "seccomp": {"plus": ["a"]},
    "network": {"tcpConnect": [443, 0, 65535], "tcpBind": []},
    "resources": {"memoryMax": 9223372036854775807, "nofileMax": 1048576}
  })", "policy custom");
  const Policy again = parse_policy(policy_json(p), "policy custom");
  check_same(again, p);
  BOOST_TEST(show(again.filesystem.writable) == "[]");
  BOOST_TEST(show(again.process.capabilities) == "[]");
  BOOST_TEST(show(again.network.tcpBind) == "[]");
  BOOST_TEST(show(again.process.noNewPrivileges) == "null");
  BOOST_TEST(show(again.network.mode) == "null");
  BOOST_TEST(show_num(again.resources.pidsMax) == "null");
  // A policy built in code (not parsed) round-trips too.
  Policy q;
  q.name = "code";
  q.filesystem.denyExec = {"nc"};
  q.network.mode = NetworkMode::inherit;
  q.resources.pidsMax = 7;
  check_same(parse_policy(policy_json(q), "policy code"), q);
}
