#include <boost/test/unit_test.hpp>
#include <sys/resource.h>

#include <algorithm>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "runtime/policy/merge.hpp"
#include "runtime/policy/parse_policy.hpp"
#include "runtime/policy/policy.hpp"
#include "runtime/policy/preflight.hpp"
#include "runtime/policy/confine_process.hpp"
#include "runtime/policy/process_policy.hpp"
#include "runtime/policy/select.hpp"
#include "runtime/policy/translate.hpp"
#include "spec/error.hpp"
#include "spec/names.hpp"
#include "spec/parse_config.hpp"
#include "support/checks.hpp"
#include "support/policy_show.hpp"

using namespace agentrun::policy;
using agentrun::spec::Config;

namespace {

std::string caps(const std::vector<int>& v) {
  std::vector<std::string> names;
  for (int c : v) names.push_back(agentrun::spec::capability_name(c));
  return show(names);
}
const char* kConfig = R"({
  "ociVersion": "1.2.0",
  "root": {"path": "rootfs"},
  "process": {
    "user": {"uid": 1000, "gid": 1000},
    "args": ["sh"],
    "cwd": "/workspace",
    "env": ["PATH=/usr/bin:/bin", "HOME=/work/home"],
    "capabilities": {
      "bounding": ["CAP_CHOWN", "CAP_KILL", "CAP_NET_RAW", "CAP_SETUID", "CAP_AUDIT_WRITE"],
      "effective": ["CAP_CHOWN", "CAP_KILL", "CAP_NET_RAW", "CAP_SETUID", "CAP_AUDIT_WRITE"],
      "permitted": ["CAP_CHOWN", "CAP_KILL", "CAP_NET_RAW", "CAP_SETUID", "CAP_AUDIT_WRITE"],
      "inheritable": ["CAP_KILL", "CAP_NET_RAW", "CAP_AUDIT_WRITE"],
      "ambient": ["CAP_NET_RAW"]
    }
  },
  "mounts": [
    {"destination": "/proc", "type": "proc", "source": "proc"},
    {"destination": "/tmp", "type": "tmpfs", "source": "tmpfs", "options": ["nosuid", "mode=1777"]},
    {"destination": "/workspace", "type": "bind", "source": "/srv/work", "options": ["rbind", "rw"]}
  ],
  "linux": {
    "namespaces": [{"type": "pid"}, {"type": "mount"}, {"type": "ipc"}, {"type": "uts"}, {"type": "network"}],
    "maskedPaths": ["/proc/kcore"]
  }
})";

Config config() { return agentrun::spec::parse_config(kConfig); }

const char* kPasswd =
    "root:x:0:0:root:/root:/bin/sh\n"
    "agent:x:1000:1000:Agent:/home/agent:/bin/sh\n"
    "nobody:x:65534:65534::/nonexistent:/usr/sbin/nologin\n";

TranslateContext context() {
  TranslateContext ctx;
  ctx.passwd = kPasswd;
  ctx.protected_paths = {"/run/agentrun", "/etc/agentrun"};
  for (const auto& f : agentrun::feature_names()) ctx.host[f] = FeatureState{true, "ok"};
  ctx.landlock_abi = 7;
  return ctx;
}

// A policy named "p" with `body` added; strict unless it says otherwise.
Policy policy(const std::string& body) {
  return parse_policy(R"({"agentrunPolicy": 1, "name": "p")" + std::string(body.empty() ? "" : ", ") + body + "}",
                      "policy p");
}
Policy best_effort(const std::string& body) {
  Policy p = policy(body);
  p.isolation = Isolation::best_effort;
  return p;
}
Policy builtin(const std::string& name) { return load_policy(name, "/nonexistent-agentrun-config-dir"); }

#define CHECK_REFUSED(pol, cfg, ctx, expected) \
  BOOST_CHECK_EXCEPTION(translate(pol, cfg, ctx), agentrun::Failure, Message{expected})

const agentrun::spec::Mount* mount_at(const Config& c, const std::string& dest) {
  for (const auto& m : c.mounts)
    if (m.destination == dest) return &m;
  return nullptr;
}

const FeatureOutcome* feature(const Translation& t, const std::string& name) {
  for (const auto& f : t.features)
    if (f.name == name) return &f;
  return nullptr;
}

void remove_namespace(Config& c, agentrun::spec::NamespaceType type) {
  auto& ns = c.linux.namespaces;
  ns.erase(std::remove_if(ns.begin(), ns.end(), [&](const auto& n) { return n.type == type; }), ns.end());
}

// What the runtime applies, as text: equal texts, equal effect.
std::string describe(const Config& c) {
  std::string out = "root " + c.root.path + (c.root.readonly ? " ro" : " rw") + "\n";
  for (const auto& m : c.mounts) out += "mount " + m.destination + " " + m.type + " " + m.source + " " + show(m.options) + "\n";
  const auto& p = *c.process;
  out += "user " + std::to_string(p.user.uid) + ":" + std::to_string(p.user.gid) + "\n";
  out += "env " + show(p.env) + "\n";
  out += std::string("nnp ") + (p.noNewPrivileges ? "1" : "0") + "\n";
  if (p.capabilities) {
    out += "bounding " + caps(p.capabilities->bounding) + "\n";
    out += "effective " + caps(p.capabilities->effective) + "\n";
    out += "permitted " + caps(p.capabilities->permitted) + "\n";
    out += "inheritable " + caps(p.capabilities->inheritable) + "\n";
    out += "ambient " + caps(p.capabilities->ambient) + "\n";
  }
  for (const auto& r : p.rlimits) out += "rlimit " + r.type + " " + std::to_string(r.soft) + "\n";
  for (const auto& n : c.linux.namespaces) out += std::string("ns ") + agentrun::spec::namespace_name(n.type) + " " + n.path + "\n";
  out += "masked " + show(c.linux.maskedPaths) + "\n";
  out += "readonly " + show(c.linux.readonlyPaths) + "\n";
  out += std::string("seccomp ") + (c.linux.seccomp ? "yes" : "no") + "\n";
  out += std::string("resources ") + (c.linux.resources ? "yes" : "no") + "\n";
  if (c.linux.resources) {
    const auto& r = *c.linux.resources;
    out += "pids " + (r.pidsLimit ? std::to_string(*r.pidsLimit) : "-") + "\n";
    out += "memory " + (r.memory && r.memory->limit ? std::to_string(*r.memory->limit) : "-") + "\n";
  }
  return out;
}

}  // namespace

BOOST_AUTO_TEST_CASE(readonly_root) {
  Config c = config();
  translate(policy(R"("filesystem": {"readonlyRoot": true})"), c, context());
  BOOST_TEST(c.root.readonly);
  c = config();
  translate(policy(R"("filesystem": {"readonlyRoot": false})"), c, context());
  BOOST_TEST(!c.root.readonly);
  c = config();
  c.root.readonly = true;  // the policy never loosens
  translate(policy(R"("filesystem": {"readonlyRoot": false})"), c, context());
  BOOST_TEST(c.root.readonly);
}

BOOST_AUTO_TEST_CASE(deny_read_resolves_home_from_passwd_and_env) {
  Config c = config();
  const Translation t = translate(policy(R"("filesystem": {"denyRead": ["~/.ssh", "/etc/shadow", "/proc/kcore"]})"), c,
                                  context());
  BOOST_TEST(show(t.denied_read) == "[/home/agent/.ssh,/work/home/.ssh,/etc/shadow]");
  BOOST_TEST(show(c.linux.maskedPaths) == "[/proc/kcore,/home/agent/.ssh,/work/home/.ssh,/etc/shadow]");

  // HOME equal to the passwd home: once.
  c = config();
  c.process->env = {"PATH=/usr/bin", "HOME=/home/agent"};
  BOOST_TEST(show(translate(policy(R"("filesystem": {"denyRead": ["~/.aws"]})"), c, context()).denied_read) ==
             "[/home/agent/.aws]");
  // Root without a passwd entry: /root.
  c = config();
  c.process->user.uid = 0;
  c.process->env = {"PATH=/usr/bin"};
  TranslateContext ctx = context();
  ctx.passwd = "";
  BOOST_TEST(show(translate(policy(R"("filesystem": {"denyRead": ["~/.ssh"]})"), c, ctx).denied_read) == "[/root/.ssh]");
}

BOOST_AUTO_TEST_CASE(expand_home_edges) {
  agentrun::spec::Process p;
  p.user.uid = 1000;
  BOOST_TEST(show(expand_home("/abs", p, kPasswd)) == "[/abs]");
  BOOST_TEST(show(expand_home("~/.ssh", p, kPasswd)) == "[/home/agent/.ssh]");
  p.env = {"HOME=/other/"};  // a trailing slash is dropped
  BOOST_TEST(show(expand_home("~/.ssh", p, kPasswd)) == "[/home/agent/.ssh,/other/.ssh]");
  p.env = {"HOME=relative"};  // not a home
  BOOST_TEST(show(expand_home("~/.ssh", p, kPasswd)) == "[/home/agent/.ssh]");
  p.user.uid = 4242;  // no entry, no HOME: "/"
  p.env = {};
  BOOST_TEST(show(expand_home("~/.ssh", p, kPasswd)) == "[/.ssh]");
  p.user.uid = 0;
  BOOST_TEST(show(expand_home("~/.ssh", p, "")) == "[/root/.ssh]");
  // uid 10 must not match uid 100's line.
  p.user.uid = 10;
  BOOST_TEST(show(expand_home("~/x", p, "u:x:100:100::/home/u100:/bin/sh\n")) == "[/x]");
}

// The loader maps a program from any mount that is not noexec, whatever
// Landlock's execute right says: with execFrom, every writable mount outside
// it is noexec (a recursive bind, its whole tree); read-only mounts and
// those execFrom names keep theirs. Without execFrom nothing changes.
BOOST_AUTO_TEST_CASE(writable_mounts_outside_exec_from_are_noexec) {
  const auto with_mounts = [] {
    Config c = config();
    c.mounts.push_back({"/dev/shm", "tmpfs", "shm", {"nosuid", "nodev", "mode=1777"}, {}, {}});
    c.mounts.push_back({"/data", "bind", "/srv/data", {"rbind", "rw"}, {}, {}});
    c.mounts.push_back({"/ro", "bind", "/srv/ro", {"rbind", "ro"}, {}, {}});
    c.mounts.push_back({"/opt/tools", "bind", "/srv/tools", {"bind", "rw"}, {}, {}});
    c.mounts.push_back({"/cache", "tmpfs", "tmpfs", {"noexec"}, {}, {}});
    return c;
  };
  Config c = with_mounts();
  const Translation t = translate(policy(R"("filesystem": {"execFrom": ["/usr", "/opt"]})"), c, context());
  BOOST_TEST(show(mount_at(c, "/dev/shm")->options) == "[nosuid,nodev,mode=1777,noexec]");
  BOOST_TEST(show(mount_at(c, "/data")->options) == "[rbind,rw,rnoexec]");
  BOOST_TEST(show(mount_at(c, "/workspace")->options) == "[rbind,rw,rnoexec]");
  BOOST_TEST(show(mount_at(c, "/tmp")->options) == "[nosuid,mode=1777,noexec]");
  BOOST_TEST(show(mount_at(c, "/proc")->options) == "[noexec]");
  BOOST_TEST(show(mount_at(c, "/ro")->options) == "[rbind,ro]");
  BOOST_TEST(show(mount_at(c, "/opt/tools")->options) == "[bind,rw]");
  BOOST_TEST(show(mount_at(c, "/cache")->options) == "[noexec]");
  BOOST_TEST(show(t.noexec_mounts) == "[/proc,/tmp,/workspace,/dev/shm,/data]");

  Config plain = with_mounts();
  const Translation none = translate(policy(R"("filesystem": {"denyRead": ["/x"]})"), plain, context());
  BOOST_TEST(show(mount_at(plain, "/dev/shm")->options) == "[nosuid,nodev,mode=1777]");
  BOOST_TEST(none.noexec_mounts.empty());
  Config agent = with_mounts();
  translate(builtin("agent-default"), agent, context());
  BOOST_TEST(show(mount_at(agent, "/dev/shm")->options) == "[nosuid,nodev,mode=1777,noexec]");
}

BOOST_AUTO_TEST_CASE(writable_paths) {
  Config c = config();
  const Translation t = translate(policy(R"("filesystem": {"writable": ["/tmp", "/workspace", "/data"]})"), c, context());
  BOOST_TEST(show(mount_at(c, "/tmp")->options) == "[nosuid,mode=1777,nodev,noexec]");
  BOOST_TEST(show(mount_at(c, "/workspace")->options) == "[rbind,rw,nosuid,nodev,noexec]");
  BOOST_TEST(show(mount_at(c, "/proc")->options) == "[]");
  BOOST_TEST(show(t.writable_binds) == "[/data]");
  BOOST_TEST(c.mounts.size() == 3u);  // nothing added to config.json
}

// The last mount on a destination is the one the container sees: it is the
// one that must not be executable.
BOOST_AUTO_TEST_CASE(writable_covers_every_mount_on_the_path) {
  Config c = config();
  c.mounts.push_back({"/tmp", "bind", "/srv/scratch", {"rbind", "rw"}, {}, {}});
  translate(policy(R"("filesystem": {"writable": ["/tmp"]})"), c, context());
  BOOST_TEST(show(c.mounts[1].options) == "[nosuid,mode=1777,nodev,noexec]");
  BOOST_TEST(show(c.mounts[3].options) == "[rbind,rw,nosuid,nodev,noexec]");
}

BOOST_AUTO_TEST_CASE(deny_exec_and_path_dirs) {
  Config c = config();
  c.process->env = {"HOME=/h", "PATH=/usr/local/bin:/usr/bin::.:bin:/usr/bin:/bin"};
  const Translation t = translate(policy(R"("filesystem": {"denyExec": ["curl", "wget"]})"), c, context());
  BOOST_TEST(show(t.deny_exec) == "[curl,wget]");
  BOOST_TEST(show(t.path_dirs) == "[/usr/local/bin,/usr/bin,/bin]");
  c = config();
  BOOST_TEST(show(translate(policy(""), c, context()).path_dirs) == "[/usr/bin,/bin]");
}

BOOST_AUTO_TEST_CASE(capabilities_intersect_in_every_set) {
  Config c = config();
  translate(policy(R"("process": {"capabilities": ["CAP_CHOWN", "CAP_KILL", "CAP_SETUID", "CAP_SYS_ADMIN"]})"), c, context());
  const auto& k = *c.process->capabilities;
  BOOST_TEST(caps(k.bounding) == "[CAP_CHOWN,CAP_KILL,CAP_SETUID]");
  BOOST_TEST(caps(k.effective) == "[CAP_CHOWN,CAP_KILL,CAP_SETUID]");
  BOOST_TEST(caps(k.permitted) == "[CAP_CHOWN,CAP_KILL,CAP_SETUID]");
  BOOST_TEST(caps(k.inheritable) == "[CAP_KILL]");
  BOOST_TEST(caps(k.ambient) == "[]");
  // An empty list clears every set; no list keeps them.
  c = config();
  translate(policy(R"("process": {"capabilities": []})"), c, context());
  BOOST_TEST(caps(c.process->capabilities->bounding) == "[]");
  BOOST_TEST(caps(c.process->capabilities->permitted) == "[]");
  c = config();
  translate(policy(""), c, context());
  BOOST_TEST(caps(c.process->capabilities->bounding) == "[CAP_CHOWN,CAP_KILL,CAP_NET_RAW,CAP_SETUID,CAP_AUDIT_WRITE]");
  BOOST_TEST(caps(c.process->capabilities->ambient) == "[CAP_NET_RAW]");
}

BOOST_AUTO_TEST_CASE(privileged_capability) {
  auto with_sys_admin = [] {
    Config c = config();
    auto& k = *c.process->capabilities;
    for (auto* set : {&k.bounding, &k.effective, &k.permitted, &k.inheritable, &k.ambient}) set->push_back(21);
    return c;
  };
  Config c = with_sys_admin();
  const std::string refused =
      "policy p: config.json: process.capabilities (bounding, effective, permitted, inheritable, ambient) asks for "
      "CAP_SYS_ADMIN, which the policy does not allow (allowPrivileged: false); remove CAP_SYS_ADMIN from every set of "
      "process.capabilities in config.json, or use a policy that allows privileged capabilities";
  CHECK_REFUSED(policy(R"("process": {"allowPrivileged": false})"), c, context(), refused);
  // Refused even when the policy's list names it.
  c = with_sys_admin();
  CHECK_REFUSED(policy(R"("process": {"allowPrivileged": false, "capabilities": ["CAP_SYS_ADMIN"]})"), c, context(),
                refused);

  c = with_sys_admin();
  const Translation t = translate(best_effort(R"("process": {"allowPrivileged": false})"), c, context());
  const auto& k = *c.process->capabilities;
  for (const auto* set : {&k.bounding, &k.effective, &k.permitted, &k.inheritable, &k.ambient})
    BOOST_TEST(!has(*set, 21), caps(*set));
  BOOST_TEST(caps(k.bounding) == "[CAP_CHOWN,CAP_KILL,CAP_NET_RAW,CAP_SETUID,CAP_AUDIT_WRITE]");
  const std::string warning =
      "policy p (best-effort): config.json: process.capabilities (bounding, effective, permitted, inheritable, ambient) "
      "asks for CAP_SYS_ADMIN, which the policy does not allow (allowPrivileged: false)";
  BOOST_TEST(has(t.warnings, warning), show(t.warnings));
  // One capability given up, one warning (not one per capability set).
  BOOST_TEST(std::count(t.warnings.begin(), t.warnings.end(), warning) == 1, show(t.warnings));

  // Allowed when the policy says so, or says nothing.
  for (const char* body : {R"("process": {"allowPrivileged": true})", ""}) {
    c = with_sys_admin();
    const Translation ok = translate(policy(body), c, context());
    BOOST_TEST(has(c.process->capabilities->bounding, 21));
    BOOST_TEST(ok.warnings.empty());
  }
}

BOOST_AUTO_TEST_CASE(allow_root) {
  Config c = config();
  c.process->user.uid = 0;
  CHECK_REFUSED(policy(R"("process": {"allowRoot": false})"), c, context(),
                "policy p: config.json: process.user.uid is 0, and the policy does not allow root (allowRoot: false)"
                "; set process.user.uid in config.json to a uid other than 0, or use a policy that allows root");
  c = config();
  c.process->user.uid = 0;
  const Translation t = translate(best_effort(R"("process": {"allowRoot": false})"), c, context());
  BOOST_TEST(show(t.warnings) ==
             "[policy p (best-effort): config.json: process.user.uid is 0, and the policy does not allow root (allowRoot: false)]");
  c = config();  // uid 1000
  BOOST_TEST(translate(policy(R"("process": {"allowRoot": false})"), c, context()).warnings.empty());
  c = config();
  c.process->user.uid = 0;
  BOOST_CHECK_NO_THROW(translate(policy(R"("process": {"allowRoot": true})"), c, context()));
}

BOOST_AUTO_TEST_CASE(no_new_privileges_forced) {
  Config c = config();
  BOOST_TEST(!c.process->noNewPrivileges);
  translate(policy(R"("process": {"noNewPrivileges": true})"), c, context());
  BOOST_TEST(c.process->noNewPrivileges);
  c = config();
  translate(policy(""), c, context());
  BOOST_TEST(!c.process->noNewPrivileges);
  c = config();
  c.process->noNewPrivileges = true;
  translate(policy(R"("process": {"noNewPrivileges": false})"), c, context());
  BOOST_TEST(c.process->noNewPrivileges);
}

BOOST_AUTO_TEST_CASE(network_none) {
  using agentrun::spec::NamespaceType;
  Config c = config();
  BOOST_CHECK_NO_THROW(translate(policy(R"("network": {"mode": "none"})"), c, context()));
  c = config();
  remove_namespace(c, NamespaceType::network);
  CHECK_REFUSED(policy(R"("network": {"mode": "none"})"), c, context(),
                "policy p: network mode none needs a network namespace of its own; config.json shares the host's"
                " (linux.namespaces has no network entry); add {\"type\": \"network\"} to linux.namespaces, or use a policy whose network.mode is inherit");
  c = config();
  for (auto& ns : c.linux.namespaces)
    if (ns.type == NamespaceType::network) ns.path = "/proc/1/ns/net";
  CHECK_REFUSED(policy(R"("network": {"mode": "none"})"), c, context(),
                "policy p: network mode none needs a new network namespace; config.json joins /proc/1/ns/net"
                " (linux.namespaces, the network entry's path); leave out that path so that a new namespace is made, or use a policy whose network.mode is inherit");
  const Translation t = translate(best_effort(R"("network": {"mode": "none"})"), c, context());
  BOOST_TEST(show(t.warnings) ==
             "[policy p (best-effort): network mode none needs a new network namespace; config.json joins /proc/1/ns/net "
             "(linux.namespaces, the network entry's path)]");
  // inherit asks nothing.
  c = config();
  remove_namespace(c, NamespaceType::network);
  BOOST_CHECK_NO_THROW(translate(policy(R"("network": {"mode": "inherit"})"), c, context()));
}

BOOST_AUTO_TEST_CASE(resources) {
  Config c = config();
  translate(policy(R"("resources": {"pidsMax": 1024, "memoryMax": 4096, "nofileMax": 512})"), c, context());
  BOOST_REQUIRE(c.linux.resources.has_value());
  BOOST_TEST(*c.linux.resources->pidsLimit == 1024);
  BOOST_TEST(*c.linux.resources->memory->limit == 4096);
  const auto& rl = c.process->rlimits;
  BOOST_REQUIRE(rl.size() == 1u);
  BOOST_TEST(rl[0].type == "RLIMIT_NOFILE");
  BOOST_TEST(rl[0].resource == RLIMIT_NOFILE);
  BOOST_TEST(rl[0].hard == 512u);
  BOOST_TEST(rl[0].soft == 512u);

  // What config.json sets stays, higher or lower.
  c = config();
  c.linux.resources = agentrun::spec::Resources{};
  c.linux.resources->pidsLimit = 4096;
  c.linux.resources->memory = agentrun::spec::MemoryResources{};
  c.linux.resources->memory->limit = 100;
  c.linux.resources->cpu = agentrun::spec::CpuResources{};
  c.linux.resources->cpu->shares = 7;
  c.process->rlimits.push_back({RLIMIT_NOFILE, "RLIMIT_NOFILE", 65536, 1024});
  translate(policy(R"("resources": {"pidsMax": 1024, "memoryMax": 4096, "nofileMax": 512})"), c, context());
  BOOST_TEST(*c.linux.resources->pidsLimit == 4096);
  BOOST_TEST(*c.linux.resources->memory->limit == 100);
  BOOST_TEST(*c.linux.resources->cpu->shares == 7u);
  BOOST_REQUIRE(c.process->rlimits.size() == 1u);
  BOOST_TEST(c.process->rlimits[0].hard == 65536u);

  // An unlimited pids value (-1, 0) is "unset".
  c = config();
  c.linux.resources = agentrun::spec::Resources{};
  c.linux.resources->pidsLimit = -1;
  translate(policy(R"("resources": {"pidsMax": 64})"), c, context());
  BOOST_TEST(*c.linux.resources->pidsLimit == 64);
  BOOST_TEST(!c.linux.resources->memory.has_value());

  // No policy limit: nothing is added.
  c = config();
  translate(policy(""), c, context());
  BOOST_TEST(!c.linux.resources.has_value());
  BOOST_TEST(c.process->rlimits.empty());
}

BOOST_AUTO_TEST_CASE(seccomp) {
  Config c = config();
  Translation t = translate(policy(R"("seccomp": {"baseline": "docker-baseline", "plus": ["agent-hardening"]})"), c, context());
  BOOST_TEST(t.seccomp_baseline == "docker-baseline");
  BOOST_TEST(show(t.seccomp_plus) == "[agent-hardening]");
  BOOST_TEST(!c.linux.seccomp.has_value());  // the caller installs the baseline
  c = config();
  c.linux.seccomp = agentrun::spec::Seccomp{};
  t = translate(policy(R"("seccomp": {"baseline": "docker-baseline", "plus": ["agent-hardening"]})"), c, context());
  BOOST_TEST(t.seccomp_baseline.empty());
  BOOST_TEST(show(t.seccomp_plus) == "[agent-hardening]");
  c = config();
  t = translate(policy(""), c, context());
  BOOST_TEST(t.seccomp_baseline.empty());
  BOOST_TEST(t.seccomp_plus.empty());
}

BOOST_AUTO_TEST_CASE(landlock_request) {
  Config c = config();
  Translation t = translate(policy(R"("filesystem": {"execFrom": ["/usr", "/bin"], "writable": ["/workspace"]},
                                      "network": {"tcpConnect": [443], "tcpBind": [8080]})"),
                            c, context());
  BOOST_REQUIRE(t.landlock.has_value());
  BOOST_TEST(show(t.landlock->exec_from) == "[/usr,/bin]");
  BOOST_TEST(show(t.landlock->writable) == "[/workspace]");
  for (const char* dev : {"/dev/null", "/dev/tty", "/dev/pts", "/dev/shm", "/dev/ptmx"})
    BOOST_TEST(has(t.landlock->device_paths, std::string(dev)), dev);
  BOOST_TEST(show(t.landlock->tcp_connect) == "[443]");
  BOOST_TEST(show(t.landlock->tcp_bind) == "[8080]");
  // Only ports: execute and write stay open.
  c = config();
  t = translate(policy(R"("network": {"tcpConnect": []})"), c, context());
  BOOST_REQUIRE(t.landlock.has_value());
  BOOST_TEST(show(t.landlock->exec_from) == "[/]");
  BOOST_TEST(show(t.landlock->writable) == "[/]");
  BOOST_TEST(show(t.landlock->tcp_connect) == "[]");
  BOOST_TEST(show(t.landlock->tcp_bind) == "null");
  // Nothing for Landlock: no ruleset.
  c = config();
  BOOST_TEST(!translate(policy(R"("filesystem": {"denyRead": ["/x"]})"), c, context()).landlock.has_value());
}

BOOST_AUTO_TEST_CASE(landlock_unavailable) {
  TranslateContext ctx = context();
  ctx.landlock_abi = 0;
  Config c = config();
  CHECK_REFUSED(policy(R"("filesystem": {"execFrom": ["/usr"]})"), c, ctx,
                "policy p: Landlock is not available on this host, so execFrom and writable cannot be enforced"
                "; run it on a kernel with Landlock enabled (\"landlock\" in the lsm= boot parameter), or use a policy without filesystem.execFrom, filesystem.writable and network TCP rules");
  c = config();
  const Translation t = translate(best_effort(R"("filesystem": {"writable": ["/tmp"]})"), c, ctx);
  BOOST_TEST(!t.landlock.has_value());
  BOOST_TEST(show(t.warnings) ==
             "[policy p (best-effort): Landlock is not available on this host, so execFrom and writable cannot be enforced]");
  // TCP rules need ABI 4.
  ctx.landlock_abi = 3;
  c = config();
  CHECK_REFUSED(policy(R"("network": {"tcpBind": [80]})"), c, ctx,
                "policy p: TCP rules need Landlock ABI 4; this host has ABI 3"
                "; run it on Linux 6.7 or later, or use a policy without network.tcpConnect and network.tcpBind");
  c = config();
  BOOST_CHECK_NO_THROW(translate(policy(R"("filesystem": {"execFrom": ["/usr"]})"), c, ctx));
}

// What an older Landlock ABI cannot handle is made up for (truncate: a
// stacked filter) or refused (scopes, when the host's namespace is shared).
BOOST_AUTO_TEST_CASE(landlock_shortfalls_of_older_kernels) {
  using agentrun::spec::NamespaceType;
  TranslateContext abi2 = context();
  abi2.landlock_abi = 2;  // Linux 6.1
  Config c = config();
  Translation t = translate(builtin("agent-default"), c, abi2);
  BOOST_TEST(show(t.seccomp_plus) == "[landlock-truncate,agent-hardening]");
  BOOST_TEST(t.warnings.empty(), show(t.warnings));
  // Without writable there is no write restriction to complete.
  c = config();
  BOOST_TEST(translate(policy(R"("filesystem": {"execFrom": ["/usr"]})"), c, abi2).seccomp_plus.empty());
  // From ABI 3 Landlock handles truncation itself.
  TranslateContext abi3 = context();
  abi3.landlock_abi = 3;
  c = config();
  BOOST_TEST(show(translate(builtin("agent-default"), c, abi3).seccomp_plus) == "[agent-hardening]");

  // Below ABI 6 the host's abstract unix sockets and processes stay reachable.
  c = config();
  remove_namespace(c, NamespaceType::network);
  CHECK_REFUSED(builtin("agent-default"), c, abi3,
                "policy agent-default: config.json shares the host's network namespace, whose abstract unix sockets "
                "only Landlock ABI 6 (Linux 6.12) keeps out of the container's reach; this host has Landlock ABI 3"
                "; add {\"type\": \"network\"} to linux.namespaces, or run it on Linux 6.12 or later");
  c = config();
  remove_namespace(c, NamespaceType::network);
  t = translate(best_effort(R"("filesystem": {"execFrom": ["/usr"]})"), c, abi3);
  BOOST_TEST(show(t.warnings) ==
             "[policy p (best-effort): config.json shares the host's network namespace, whose abstract unix sockets "
             "only Landlock ABI 6 (Linux 6.12) keeps out of the container's reach; this host has Landlock ABI 3]");
  c = config();
  remove_namespace(c, NamespaceType::pid);
  CHECK_REFUSED(policy(R"("filesystem": {"execFrom": ["/usr"]})"), c, abi3,
                "policy p: config.json shares the host's pid namespace, whose processes only Landlock ABI 6 "
                "(Linux 6.12) keeps the container from signalling; this host has Landlock ABI 3"
                "; add {\"type\": \"pid\"} to linux.namespaces, or run it on Linux 6.12 or later");
  // A namespace the policy requires is refused for that, first.
  c = config();
  remove_namespace(c, NamespaceType::pid);
  CHECK_REFUSED(policy(R"("require": ["pid-ns"], "filesystem": {"execFrom": ["/usr"]})"), c, abi3,
                "policy p: requires pid-ns: config.json shares the host's pid namespace"
                "; add {\"type\": \"pid\"} to linux.namespaces");
  TranslateContext abi6 = context();
  abi6.landlock_abi = 6;
  c = config();
  remove_namespace(c, NamespaceType::network);
  remove_namespace(c, NamespaceType::pid);
  BOOST_CHECK_NO_THROW(translate(policy(R"("filesystem": {"execFrom": ["/usr"]})"), c, abi6));
}

BOOST_AUTO_TEST_CASE(required_features) {
  using agentrun::spec::NamespaceType;
  Config c = config();
  remove_namespace(c, NamespaceType::pid);
  CHECK_REFUSED(policy(R"("require": ["pid-ns"])"), c, context(),
                "policy p: requires pid-ns: config.json shares the host's pid namespace"
                "; add {\"type\": \"pid\"} to linux.namespaces");
  c = config();
  CHECK_REFUSED(policy(R"("require": ["user-ns"])"), c, context(),
                "policy p: requires user-ns: config.json shares the host's user namespace"
                "; add {\"type\": \"user\"} to linux.namespaces with uidMappings and gidMappings");
  // A host feature that is not available.
  TranslateContext ctx = context();
  ctx.host["seccomp"] = FeatureState{false, "the kernel has no seccomp filter support"};
  c = config();
  CHECK_REFUSED(policy(R"("require": ["seccomp"])"), c, ctx,
                "policy p: requires seccomp: the kernel has no seccomp filter support"
                "; run it on a host where seccomp is available, or use a policy that does not require seccomp");
  // A namespace the container creates is not probed: its creation proves it.
  ctx.host.erase("pid-ns");
  c = config();
  const Translation created = translate(policy(R"("require": ["pid-ns"])"), c, ctx);
  BOOST_REQUIRE_EQUAL(created.features.size(), 1u);
  BOOST_TEST(created.features[0].effective);
  // Not probed at all.
  ctx = context();
  ctx.host.erase("apparmor");
  c = config();
  CHECK_REFUSED(policy(R"("require": ["apparmor"])"), c, ctx, "policy p: requires apparmor: not probed"
                "; run it on a host where apparmor is available, or use a policy that does not require apparmor");
  // cgroup-pids without any pids limit; the policy's pidsMax is one.
  c = config();
  CHECK_REFUSED(policy(R"("require": ["cgroup-pids"])"), c, context(),
                "policy p: requires cgroup-pids: no pids limit is set (linux.resources.pids or the policy's "
                "resources.pidsMax)"
                "; set linux.resources.pids.limit in config.json or resources.pidsMax in the policy");
  c = config();
  BOOST_CHECK_NO_THROW(translate(policy(R"("require": ["cgroup-pids"], "resources": {"pidsMax": 10})"), c, context()));
  c = config();
  CHECK_REFUSED(policy(R"("require": ["cgroup-memory"])"), c, context(),
                "policy p: requires cgroup-memory: no memory limit is set (linux.resources.memory or the policy's "
                "resources.memoryMax)"
                "; set linux.resources.memory.limit in config.json or resources.memoryMax in the policy");
  c = config();
  CHECK_REFUSED(policy(R"("require": ["landlock"])"), c, context(),
                "policy p: requires landlock: the policy has no execFrom, writable or network rules for Landlock to "
                "enforce"
                "; give the policy filesystem.execFrom, filesystem.writable or network TCP rules, or use a policy that does not require landlock");
  // seccomp and no-new-privileges need more than the host's support.
  c = config();
  CHECK_REFUSED(policy(R"("require": ["seccomp"])"), c, context(),
                "policy p: requires seccomp: config.json has no seccomp profile and the policy adds none"
                "; give config.json a linux.seccomp profile or the policy a seccomp.baseline");
  c = config();
  c.process->noNewPrivileges = false;
  CHECK_REFUSED(policy(R"("require": ["no-new-privileges"])"), c, context(),
                "policy p: requires no-new-privileges: config.json: process.noNewPrivileges is not set, and the "
                "policy does not force it; set process.noNewPrivileges in config.json to true, or give the policy "
                "process.noNewPrivileges: true");
  c = config();
  c.process->noNewPrivileges = false;
  BOOST_CHECK_NO_THROW(
      translate(policy(R"("require": ["no-new-privileges"], "process": {"noNewPrivileges": true})"), c, context()));
  // All present: each recorded as required and effective.
  c = config();
  const Translation t =
      translate(policy(R"("require": ["pid-ns", "net-ns", "seccomp", "cgroup-pids", "landlock"],
                          "resources": {"pidsMax": 10}, "filesystem": {"execFrom": ["/usr"]},
                          "seccomp": {"baseline": "docker-baseline"})"),
                c, context());
  BOOST_TEST(t.features.size() == 5u);
  for (const auto& f : t.features) {
    BOOST_TEST(f.required, f.name);
    BOOST_TEST(f.effective, f.name);
    BOOST_TEST(f.reason.empty(), f.name);
  }
}

// The oci policy joins a mount namespace and names a joined uts namespace
// as runc does; a policy that requires them keeps the container out of
// namespaces others share.
BOOST_AUTO_TEST_CASE(joined_mount_namespace_and_hostname_of_a_joined_uts) {
  using agentrun::spec::NamespaceType;
  auto joined = [](NamespaceType type, const char* path) {
    Config c = config();
    for (auto& n : c.linux.namespaces)
      if (n.type == type) n.path = path;
    return c;
  };
  Config c = joined(NamespaceType::mount, "/run/ns/mnt");
  CHECK_REFUSED(policy(R"("require": ["mount-ns"])"), c, context(),
                "policy p: requires mount-ns: config.json joins the mount namespace /run/ns/mnt, which is not the "
                "container's own"
                "; leave out the path of the mount entry in linux.namespaces");
  c = joined(NamespaceType::uts, "/run/ns/uts");
  BOOST_CHECK_NO_THROW(translate(policy(R"("require": ["uts-ns"])"), c, context()));
  c.hostname = "box";
  CHECK_REFUSED(policy(R"("require": ["uts-ns"])"), c, context(),
                "policy p: requires uts-ns: config.json names the uts namespace it joins (/run/ns/uts), which is "
                "not the container's own"
                "; leave out hostname and domainname, or the path of the uts entry in linux.namespaces");
  c.hostname.clear();
  c.domainname = "example";
  CHECK_REFUSED(policy(R"("require": ["uts-ns"])"), c, context(),
                "policy p: requires uts-ns: config.json names the uts namespace it joins (/run/ns/uts), which is "
                "not the container's own"
                "; leave out hostname and domainname, or the path of the uts entry in linux.namespaces");
  for (const char* name : {"agent-default", "agent-strict"}) {
    c = joined(NamespaceType::mount, "/run/ns/mnt");
    BOOST_CHECK_THROW(translate(builtin(name), c, context()), agentrun::Failure);
  }
  c = joined(NamespaceType::mount, "/run/ns/mnt");
  c.hostname = "box";
  for (auto& n : c.linux.namespaces)
    if (n.type == NamespaceType::uts) n.path = "/run/ns/uts";
  BOOST_CHECK_NO_THROW(translate(builtin("oci"), c, context()));
}

BOOST_AUTO_TEST_CASE(best_effort_records_every_gap) {
  using agentrun::spec::NamespaceType;
  TranslateContext ctx = context();
  ctx.host["seccomp"] = FeatureState{false, "no seccomp"};
  Config c = config();
  remove_namespace(c, NamespaceType::pid);
  const Translation t = translate(best_effort(R"("require": ["pid-ns", "seccomp", "cgroup-pids", "mount-ns"])"), c, ctx);
  BOOST_TEST(show(t.warnings) ==
             show({"policy p (best-effort): requires pid-ns: config.json shares the host's pid namespace",
                   "policy p (best-effort): requires seccomp: no seccomp",
                   "policy p (best-effort): requires cgroup-pids: no pids limit is set (linux.resources.pids or the "
                   "policy's resources.pidsMax)"}));
  BOOST_REQUIRE(t.features.size() == 4u);
  BOOST_TEST(!feature(t, "pid-ns")->effective);
  BOOST_TEST(feature(t, "pid-ns")->reason == "config.json shares the host's pid namespace");
  BOOST_TEST(!feature(t, "seccomp")->effective);
  BOOST_TEST(feature(t, "seccomp")->reason == "no seccomp");
  BOOST_TEST(!feature(t, "cgroup-pids")->effective);
  BOOST_TEST(feature(t, "mount-ns")->effective);
  BOOST_TEST(feature(t, "mount-ns")->required);
}

// Under any policy with a rule; `oci` binds them as runc does (below).
BOOST_AUTO_TEST_CASE(protected_paths_never_mounted) {
  const std::string rule = R"("process": {"noNewPrivileges": true})";
  for (const Policy& pol : {policy(rule), best_effort(rule), builtin("agent-default")}) {
    BOOST_TEST_CONTEXT(pol.name << " " << pol.isolation) {
      Config c = config();
      c.mounts.push_back({"/host-run", "bind", "/run", {"rbind"}, {}, {}});
      BOOST_CHECK_EXCEPTION(translate(pol, c, context()), agentrun::Failure,
                            Message{"policy " + pol.name + ": config.json: mounts[3].source /run would make the runtime's "
                                    "own /run/agentrun visible in the container"});
      c = config();
      c.mounts.push_back({"/state", "bind", "/run/agentrun/abc", {"rbind"}, {}, {}});
      BOOST_CHECK_EXCEPTION(translate(pol, c, context()), agentrun::Failure,
                            Message{"policy " + pol.name + ": config.json: mounts[3].source /run/agentrun/abc would make "
                                    "the runtime's own /run/agentrun visible in the container"});
      c = config();
      c.mounts.push_back({"/host", "bind", "/", {"rbind"}, {}, {}});
      BOOST_CHECK_THROW(translate(pol, c, context()), agentrun::Failure);
    }
  }
  // Neighbours are fine.
  for (const char* source : {"/run/agentrunner", "/ru", "/etc/agentrun-other", "relative/run"}) {
    Config c = config();
    c.mounts.push_back({"/x", "bind", source, {"rbind"}, {}, {}});
    BOOST_CHECK_NO_THROW(translate(policy(rule), c, context()));
  }
}

// The host's /proc and /sys, and the sockets that take orders from whoever
// reaches them (container engines, the kubelet), never enter a container
// under a policy with rules: neither the path itself nor a directory holding it.
BOOST_AUTO_TEST_CASE(host_views_and_engine_sockets_never_mounted) {
  const std::vector<std::pair<std::string, std::string>> refused = {
      {"/proc", "the host's /proc (/proc)"},
      {"/proc/1/root", "the host's /proc (/proc)"},
      {"/sys/kernel", "the host's /sys (/sys)"},
      {"/run/docker.sock", "docker's API socket (/run/docker.sock)"},
      {"/var/run/docker.sock", "docker's API socket (/run/docker.sock)"},
      {"/run/containerd/containerd.sock", "containerd's sockets (/run/containerd)"},
      {"/var/run/crio", "CRI-O's socket (/run/crio)"},
      {"/run/podman/podman.sock", "podman's API socket (/run/podman)"},
      {"/run/user/1000/podman/podman.sock", "rootless podman's API socket (/run/user/*/podman)"},
      {"/run/user", "rootless docker's API socket (/run/user/*/docker.sock)"},
      {"/var/lib/kubelet/pod-resources/kubelet.sock", "the kubelet's pod-resources socket (/var/lib/kubelet/pod-resources)"},
      {"/var/lib/kubelet", "the kubelet's pod-resources socket (/var/lib/kubelet/pod-resources)"},
  };
  const std::string rule = R"("process": {"noNewPrivileges": true})";
  for (const Policy& pol : {policy(rule), best_effort(rule), builtin("agent-default")})
    for (const auto& [source, what] : refused) {
      Config c = config();
      c.mounts.push_back({"/host", "bind", source, {"rbind"}, {}, {}});
      BOOST_CHECK_EXCEPTION(translate(pol, c, context()), agentrun::Failure,
                            Message{"policy " + pol.name + ": config.json: mounts[3].source " + source +
                                    " would hand the container " + what + "; only a policy without rules (oci) binds it"});
      BOOST_CHECK_NO_THROW(translate(builtin("oci"), c, context()));
    }
  // Kubernetes volumes, the session bus and look-alike names are fine.
  for (const char* source : {"/var/lib/kubelet/pods/uid/volumes/kubernetes.io~empty-dir/w", "/run/user/1000/bus",
                             "/procfs", "/system", "/run/dockerd-other", "/srv/proc"}) {
    Config c = config();
    c.mounts.push_back({"/x", "bind", source, {"rbind"}, {}, {}});
    BOOST_CHECK_NO_THROW(translate(builtin("agent-default"), c, context()));
  }
}

BOOST_AUTO_TEST_CASE(a_policy_without_rules_binds_protected_paths_as_runc_does) {
  for (const Policy& pol : {builtin("oci"), policy(""), best_effort("")})
    for (const char* source : {"/", "/run", "/etc", "/run/agentrun/abc"}) {
      Config c = config();
      c.mounts.push_back({"/host", "bind", source, {"rbind"}, {}, {}});
      BOOST_CHECK_NO_THROW(translate(pol, c, context()));
      BOOST_TEST(mount_at(c, "/host")->source == source);
    }
}

BOOST_AUTO_TEST_CASE(any_policy_field_makes_an_agent_policy) {
  BOOST_TEST(!has_rules(builtin("oci")));
  BOOST_TEST(!has_rules(best_effort("")));
  for (const char* body : {R"("require": ["seccomp"])", R"("filesystem": {"denyRead": ["/x"]})",
                           R"("process": {"allowRoot": true})", R"("seccomp": {"plus": ["agent-hardening"]})",
                           R"("network": {"mode": "inherit"})", R"("resources": {"pidsMax": 5})"})
    BOOST_TEST(has_rules(policy(body)), body);
  BOOST_TEST(has_rules(builtin("agent-default")));
}

// The same directories spelled differently are the same directories.
BOOST_AUTO_TEST_CASE(protected_paths_not_bypassed_by_spelling) {
  for (const char* source : {"/run//agentrun", "/run/./agentrun", "/run/agentrun/../agentrun", "//run", "/etc/./agentrun/x",
                             "/run/agentrun/."}) {
    BOOST_TEST_CONTEXT("mount source " << source) {
      Config c = config();
      c.mounts.push_back({"/x", "bind", source, {"rbind"}, {}, {}});
      BOOST_CHECK_THROW(translate(best_effort(R"("process": {"noNewPrivileges": true})"), c, context()),
                        agentrun::Failure);
    }
  }
}

BOOST_AUTO_TEST_CASE(oci_changes_nothing) {
  Config c = config();
  c.process->user.uid = 0;
  auto& k = *c.process->capabilities;
  k.bounding.push_back(21);  // CAP_SYS_ADMIN
  remove_namespace(c, agentrun::spec::NamespaceType::network);
  const std::string before = describe(c);
  TranslateContext ctx = context();
  ctx.landlock_abi = 0;
  for (auto& [name, state] : ctx.host) state = FeatureState{false, "unavailable"};
  const Translation t = translate(builtin("oci"), c, ctx);
  BOOST_TEST(describe(c) == before);
  BOOST_TEST(t.writable_binds.empty());
  BOOST_TEST(t.deny_exec.empty());
  BOOST_TEST(t.denied_read.empty());
  BOOST_TEST(t.seccomp_plus.empty());
  BOOST_TEST(t.seccomp_baseline.empty());
  BOOST_TEST(!t.landlock.has_value());
  BOOST_TEST(t.features.empty());
  BOOST_TEST(t.warnings.empty());
}

BOOST_AUTO_TEST_CASE(agent_default_on_a_plain_config) {
  Config c = config();
  const Translation t = translate(builtin("agent-default"), c, context());
  BOOST_TEST(c.root.readonly);
  BOOST_TEST(c.process->noNewPrivileges);
  BOOST_TEST(caps(c.process->capabilities->bounding) == "[CAP_CHOWN,CAP_KILL,CAP_SETUID]");
  BOOST_TEST(caps(c.process->capabilities->ambient) == "[]");
  BOOST_TEST(*c.linux.resources->pidsLimit == 1024);
  BOOST_TEST(has(c.linux.maskedPaths, std::string("/home/agent/.ssh")));
  BOOST_TEST(has(c.linux.maskedPaths, std::string("/work/home/.git-credentials")));
  // Patterns match only what create found (TranslateContext::deny_globs): none here.
  BOOST_TEST(!has(c.linux.maskedPaths, std::string("/workspace/**/.env")));
  BOOST_TEST(has(t.deny_unmatched, std::string("/workspace/**/.env")));
  BOOST_TEST(show(mount_at(c, "/tmp")->options) == "[nosuid,mode=1777,nodev,noexec]");
  BOOST_TEST(t.writable_binds.empty());
  BOOST_TEST(t.seccomp_baseline == "docker-baseline");
  BOOST_TEST(show(t.deny_exec) == show(builtin("agent-default").filesystem.denyExec));
  BOOST_REQUIRE(t.landlock.has_value());
  BOOST_TEST(t.features.size() == 8u);
  for (const auto& f : t.features) BOOST_TEST(f.effective, f.name << ": " << f.reason);
  BOOST_TEST(t.warnings.empty(), show(t.warnings));
}

BOOST_AUTO_TEST_CASE(agent_strict_on_a_plain_config) {
  Config c = config();
  CHECK_REFUSED(builtin("agent-strict"), c, context(),
                "policy agent-strict: requires user-ns: config.json shares the host's user namespace"
                "; add {\"type\": \"user\"} to linux.namespaces with uidMappings and gidMappings");
  Config u = config();
  u.process->user.uid = 0;
  CHECK_REFUSED(builtin("agent-strict"), u, context(),
                "policy agent-strict: config.json: process.user.uid is 0, and the policy does not allow root (allowRoot: "
                "false)"
                "; set process.user.uid in config.json to a uid other than 0, or use a policy that allows root");
}

BOOST_AUTO_TEST_CASE(config_without_process) {
  Config c = agentrun::spec::parse_config(R"({"ociVersion": "1.2.0", "root": {"path": "rootfs"}})");
  CHECK_REFUSED(builtin("oci"), c, context(), "config.json: process: missing: there is nothing to run");
}

// What runc runs without, `oci` runs without too, with a warning; an agent
// policy refuses what would lessen isolation, and only that.
BOOST_AUTO_TEST_CASE(host_gaps_are_warnings_under_oci_and_violations_under_agent_policies) {
  auto lacking = [] {
    Config c = config();
    c.process->apparmorProfile = "docker-default";
    c.process->selinuxLabel = "l";
    c.linux.mountLabel = "m";
    c.linux.resources = agentrun::spec::Resources{};
    c.linux.resources->network = agentrun::spec::NetworkResources{7, {{"lo", 1}}};
    return c;
  };
  const std::vector<std::string> gaps = {
      "config.json: process.apparmorProfile: ignored: AppArmor is not enabled on this host",
      "config.json: process.selinuxLabel: ignored: SELinux is not enabled on this host",
      "config.json: linux.mountLabel: ignored: SELinux is not enabled on this host",
      "config.json: linux.resources.network.classID: ignored: this host has no net_cls cgroup hierarchy",
      "config.json: linux.resources.network.priorities: ignored: this host has no net_prio cgroup hierarchy"};
  Config c = lacking();
  const Translation t = translate(builtin("oci"), c, context());
  BOOST_TEST(t.warnings == gaps, show(t.warnings));
  BOOST_TEST(c.process->apparmorProfile.empty());
  BOOST_TEST(c.process->selinuxLabel.empty());
  BOOST_TEST(c.linux.mountLabel.empty());
  BOOST_TEST(!c.linux.resources->network->classID);
  BOOST_TEST(c.linux.resources->network->priorities.empty());

  Config strict = lacking();
  CHECK_REFUSED(policy(R"("process": {"noNewPrivileges": true})"), strict, context(),
                "policy p: config.json: process.apparmorProfile: AppArmor is not enabled on this host; remove "
                "process.apparmorProfile in config.json, or run it on a host with AppArmor enabled");
  Config lax = lacking();
  const Translation lt = translate(best_effort(R"("process": {"noNewPrivileges": true})"), lax, context());
  BOOST_TEST(lt.warnings.size() == gaps.size());
  BOOST_TEST(lt.warnings.back() ==
             "policy p (best-effort): config.json: linux.resources.network.priorities: this host has no net_prio cgroup "
             "hierarchy");

  // Where the host has them, they are kept.
  TranslateContext has_all = context();
  has_all.apparmor = has_all.selinux = has_all.net_cls = has_all.net_prio = true;
  Config kept = lacking();
  BOOST_TEST(translate(policy(R"("process": {"noNewPrivileges": true})"), kept, has_all).warnings.empty());
  BOOST_TEST(kept.process->apparmorProfile == "docker-default");
  BOOST_TEST(*kept.linux.resources->network->classID == 7u);
}

BOOST_AUTO_TEST_CASE(unknown_unavailable_and_unraisable_capabilities_are_left_out_with_a_warning) {
  for (const Policy& pol : {builtin("oci"), policy(R"("process": {"noNewPrivileges": true})")}) {
    Config c = config();
    auto& k = *c.process->capabilities;
    k.unknown = {"CAP_FUTURE", "CAP_BOGUS"};
    k.bounding.push_back(40);  // CAP_CHECKPOINT_RESTORE, beyond this kernel's last capability
    k.ambient = {5, 29, 0, 6};  // KILL and AUDIT_WRITE can be raised; CHOWN and SETGID are not inheritable
    TranslateContext ctx = context();
    ctx.last_cap = 39;
    const Translation t = translate(pol, c, ctx);
    BOOST_TEST(t.warnings == (std::vector<std::string>{
                                 "config.json: process.capabilities: ignoring unknown or unavailable capabilities: "
                                 "CAP_BOGUS, CAP_CHECKPOINT_RESTORE, CAP_FUTURE",
                                 "config.json: process.capabilities.ambient: cannot raise CAP_CHOWN, CAP_SETGID: an ambient "
                                 "capability must also be permitted and inheritable; left out, as runc and crun do"}),
               show(t.warnings));
    BOOST_TEST(caps(k.bounding) == "[CAP_CHOWN,CAP_KILL,CAP_NET_RAW,CAP_SETUID,CAP_AUDIT_WRITE]");
    BOOST_TEST(caps(k.ambient) == "[CAP_KILL,CAP_AUDIT_WRITE]");
    BOOST_TEST(k.unknown.empty());
  }
}

// exec confines its process with the policy's process rules alone, as create
// stored them: the process ends up as the whole translation leaves the
// container's own, with the same warnings, and is refused in the same words.
BOOST_AUTO_TEST_CASE(an_exec_process_is_confined_as_the_containers_own) {
  const std::vector<Policy> policies = {
      builtin("agent-default"), builtin("oci"),
      best_effort(R"("process": {"allowPrivileged": false, "capabilities": ["CAP_KILL", "CAP_SYS_ADMIN"]},
                     "resources": {"nofileMax": 100})"),
      policy(R"("require": ["no-new-privileges"])"),
      best_effort(R"("require": ["no-new-privileges"], "process": {"allowRoot": false})")};
  const std::vector<std::function<void(agentrun::spec::Process&)>> processes = {
      [](auto&) {},
      [](auto& p) { p.user.uid = 0; },
      [](auto& p) { p.capabilities->bounding.push_back(*agentrun::spec::capability_from_name("CAP_SYS_ADMIN")); },
      [](auto& p) { p.noNewPrivileges = true; },
      [](auto& p) { p.apparmorProfile = "docker-default"; },
      [](auto& p) { p.capabilities->unknown = {"CAP_FUTURE"}; },
      [](auto& p) { p.rlimits.push_back({RLIMIT_NOFILE, "RLIMIT_NOFILE", 10, 10}); }};
  for (const Policy& pol : policies)
    for (size_t i = 0; i < processes.size(); ++i) {
      Config created = config();
      processes[i](*created.process);
      Config execd = created;
      std::vector<std::string> translated, confined;
      const std::string refused = failure_of([&] { translated = translate(pol, created, context()).warnings; });
      const std::string exec_refused = failure_of([&] {
        confined = confine_process(process_policy(pol), *execd.process, agentrun::HostFacts{}, {});
      });
      BOOST_TEST_CONTEXT(pol.name << ", process " << i) {
        BOOST_TEST(exec_refused == refused);
        if (refused != "<no failure>") continue;
        BOOST_TEST(confined == translated, show(confined) << " vs " << show(translated));
        execd.root = created.root;
        execd.mounts = created.mounts;
        execd.linux = created.linux;
        BOOST_TEST(describe(execd) == describe(created));
      }
    }
}

// A refusal names where the request came from (exec's flags, its --process
// file, a field of config.json), what was refused, and what to change.
BOOST_AUTO_TEST_CASE(an_exec_refusal_names_where_the_request_came_from) {
  const Policy pol = policy(R"("process": {"allowPrivileged": false, "allowRoot": false}, "require": ["no-new-privileges"])");
  agentrun::spec::Process p = *config().process;
  p.capabilities->bounding.push_back(*agentrun::spec::capability_from_name("CAP_SYS_ADMIN"));
  const ProcessOrigin flags{ProcessOrigin::Kind::flags, "", {"cap", "user"}};
  BOOST_TEST(failure_of([&] { auto q = p; confine_process(process_policy(pol), q, agentrun::HostFacts{}, flags); }) ==
             "policy p: exec --cap asks for CAP_SYS_ADMIN, which the policy does not allow (allowPrivileged: false); "
             "leave out exec --cap CAP_SYS_ADMIN, or use a policy that allows privileged capabilities");
  p = *config().process;
  p.user.uid = 0;
  BOOST_TEST(failure_of([&] { auto q = p; confine_process(process_policy(pol), q, agentrun::HostFacts{}, flags); }) ==
             "policy p: exec --user is 0, and the policy does not allow root (allowRoot: false); set exec --user to a "
             "uid other than 0, or use a policy that allows root");
  p = *config().process;
  const ProcessOrigin file{ProcessOrigin::Kind::process_file, "p.json", {}};
  BOOST_TEST(failure_of([&] { auto q = p; confine_process(process_policy(pol), q, agentrun::HostFacts{}, file); }) ==
             "policy p: requires no-new-privileges: exec --process p.json: noNewPrivileges is not set, and the policy "
             "does not force it; set noNewPrivileges in p.json to true, or give the policy process.noNewPrivileges: true");
  // Without --no-new-privs the setting is the container's own.
  const ProcessOrigin plain{ProcessOrigin::Kind::flags, "", {}};
  BOOST_TEST(failure_of([&] { auto q = p; confine_process(process_policy(pol), q, agentrun::HostFacts{}, plain); }) ==
             "policy p: requires no-new-privileges: the container's process.noNewPrivileges is not set, and the policy "
             "does not force it; pass exec --no-new-privs, or give the policy process.noNewPrivileges: true");
  // exec --apparmor on a host without AppArmor: the flag, not config.json.
  p.noNewPrivileges = true;
  p.apparmorProfile = "confined";
  const ProcessOrigin apparmor{ProcessOrigin::Kind::flags, "", {"apparmor"}};
  BOOST_TEST(failure_of([&] {
               auto q = p;
               confine_process(process_policy(policy(R"("process": {"allowRoot": false})")), q, agentrun::HostFacts{},
                               apparmor);
             }) == "policy p: exec --apparmor: AppArmor is not enabled on this host; remove exec "
                   "--apparmor, or run it on a host with AppArmor enabled");
}

// A policy read from a file is named with it: its name field alone may not
// say where it came from.
BOOST_AUTO_TEST_CASE(a_refusal_names_the_policy_file) {
  Config c = config();
  c.process->user.uid = 0;
  Policy pol = policy(R"("process": {"allowRoot": false})");
  pol.file = "/etc/agentrun/policies/team.json";
  BOOST_TEST(failure_of([&] { translate(pol, c, context()); }).rfind(
                 "policy p (/etc/agentrun/policies/team.json): config.json: process.user.uid is 0", 0) == 0u);
  const Policy floor = [] {
    Policy f = policy(R"("process": {"allowPrivileged": false})");
    f.name = "floor";
    f.file = "/etc/agentrun/policies/floor.json";
    return f;
  }();
  BOOST_TEST(shown_name(merge_policies(floor, pol)) ==
             "p+floor (/etc/agentrun/policies/team.json, /etc/agentrun/policies/floor.json)");
}

BOOST_AUTO_TEST_CASE(a_create_refusal_names_the_config_field_and_what_to_change) {
  Config c = config();
  c.process->capabilities->bounding.push_back(*agentrun::spec::capability_from_name("CAP_SYS_ADMIN"));
  c.process->capabilities->permitted.push_back(*agentrun::spec::capability_from_name("CAP_SYS_ADMIN"));
  BOOST_TEST(failure_of([&] { translate(policy(R"("process": {"allowPrivileged": false})"), c, context()); }) ==
             "policy p: config.json: process.capabilities (bounding, permitted) asks for CAP_SYS_ADMIN, which the "
             "policy does not allow (allowPrivileged: false); remove CAP_SYS_ADMIN from every set of "
             "process.capabilities in config.json, or use a policy that allows privileged capabilities");
  c = config();
  std::erase_if(c.linux.namespaces, [](const auto& n) { return n.type == agentrun::spec::NamespaceType::pid; });
  BOOST_TEST(failure_of([&] { translate(policy(R"("require": ["pid-ns"])"), c, context()); }) ==
             "policy p: requires pid-ns: config.json shares the host's pid namespace; add {\"type\": \"pid\"} to "
             "linux.namespaces");
  c = config();
  std::erase_if(c.linux.namespaces, [](const auto& n) { return n.type == agentrun::spec::NamespaceType::network; });
  BOOST_TEST(failure_of([&] { translate(policy(R"("network": {"mode": "none"})"), c, context()); }).find(
                 "(linux.namespaces has no network entry); add {\"type\": \"network\"} to linux.namespaces") !=
             std::string::npos);
  c = config();
  c.process->apparmorProfile = "confined";
  BOOST_TEST(failure_of([&] { translate(policy(R"("filesystem": {"denyRead": ["/etc/shadow"]})"), c, context()); }) ==
             "policy p: config.json: process.apparmorProfile: AppArmor is not enabled on this host; "
             "remove process.apparmorProfile in config.json, or run it on a host with AppArmor enabled");
}

// denyRead patterns with wildcards: what create found for them is masked,
// a pattern that found nothing is reported, and a root process also loses
// sight of the other users' homes.
BOOST_AUTO_TEST_CASE(deny_read_patterns_mask_what_create_found) {
  Config c = config();
  TranslateContext ctx = context();
  ctx.globs["/workspace/**/.env"] = {{"/workspace/.env", "/workspace/app/.env"}, false};
  ctx.globs["/workspace/**/.env.*"] = {{}, true};
  const Translation t = translate(policy(R"("filesystem": {"denyRead": ["/workspace/**/.env", "/workspace/**/.env.*",
                                                                       "~/.*history", "/etc/shadow"]})"),
                                  c, ctx);
  BOOST_TEST(has(c.linux.maskedPaths, std::string("/workspace/app/.env")));
  BOOST_TEST(has(c.linux.maskedPaths, std::string("/etc/shadow")));
  BOOST_TEST(show(t.deny_unmatched) ==
             "[/workspace/**/.env.* (the search stopped at its bound of entries),/home/agent/.*history,"
             "/work/home/.*history]");
  BOOST_TEST(!has(deny_read_patterns(policy(R"("filesystem": {"denyRead": ["/x"]})"), *c.process, kPasswd),
                  std::string("/home/*")));
  c.process->user.uid = 0;
  BOOST_TEST(has(deny_read_patterns(policy(R"("filesystem": {"denyRead": ["/x"]})"), *c.process, kPasswd),
                 std::string("/home/*")));
  BOOST_TEST(!has(deny_read_patterns(builtin("oci"), *c.process, kPasswd), std::string("/home/*")));

  // What a pattern found is not hidden when it holds a mount of config.json.
  Config homes = config();
  homes.mounts.push_back({"/home/dev/project", "bind", "/srv/project", {"rbind", "rw"}, {}, {}});
  TranslateContext hctx = context();
  hctx.globs["/home/*"] = {{"/home/dev", "/home/other"}, false};
  homes.process->user.uid = 0;
  const Translation h = translate(policy(R"("filesystem": {"denyRead": ["/x"]})"), homes, hctx);
  BOOST_TEST(has(homes.linux.maskedPaths, std::string("/home/other")));
  BOOST_TEST(!has(homes.linux.maskedPaths, std::string("/home/dev")));
  BOOST_TEST(has(h.deny_unmatched, std::string("/home/dev (kept: it holds the mount /home/dev/project)")));
}

// protectRepoHooks: git hooks and config and direnv files found under the
// writable paths stay read-only (they would run later on the host).
BOOST_AUTO_TEST_CASE(repo_hooks_stay_read_only) {
  const Policy pol = policy(R"("filesystem": {"protectRepoHooks": true, "writable": ["/workspace", "/tmp"]})");
  BOOST_TEST(show(repo_hook_patterns(pol)) ==
             "[/workspace/**/.git/hooks,/workspace/**/.git/config,/workspace/**/.envrc,/tmp/**/.git/hooks,"
             "/tmp/**/.git/config,/tmp/**/.envrc]");
  BOOST_TEST(repo_hook_patterns(policy(R"("filesystem": {"writable": ["/workspace"]})")).empty());
  Config c = config();
  TranslateContext ctx = context();
  ctx.globs["/workspace/**/.git/hooks"] = {{"/workspace/.git/hooks", "/workspace/lib/.git/hooks"}, false};
  ctx.globs["/workspace/**/.envrc"] = {{"/workspace/.envrc"}, false};
  const Translation t = translate(pol, c, ctx);
  BOOST_TEST(show(t.repo_hooks) == "[/workspace/.git/hooks,/workspace/lib/.git/hooks,/workspace/.envrc]");
  for (const auto& path : t.repo_hooks) BOOST_TEST(has(c.linux.readonlyPaths, path), path);
}
