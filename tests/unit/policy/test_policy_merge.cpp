#include <boost/test/unit_test.hpp>
#include <stdlib.h>

#include <algorithm>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "runtime/policy/merge.hpp"
#include "runtime/policy/parse_policy.hpp"
#include "runtime/policy/policy.hpp"
#include "runtime/policy/select.hpp"
#include "support/checks.hpp"
#include "support/policy_show.hpp"

using namespace agentrun::policy;

namespace {

Policy builtin(const std::string& name) { return load_policy(name, "/nonexistent-agentrun-config-dir"); }

Policy parse(const std::string& body) {
  return parse_policy(R"({"agentrunPolicy": 1, "name": "h")" + std::string(body.empty() ? "" : ", ") + body + "}",
                      "policy h");
}

// Every path of `narrower` lies within some path of `wider` (nullopt: no restriction).
bool paths_within(const std::optional<std::vector<std::string>>& narrower,
                  const std::optional<std::vector<std::string>>& wider) {
  if (!wider) return true;
  if (!narrower) return false;
  return std::all_of(narrower->begin(), narrower->end(), [&](const std::string& p) {
    return std::any_of(wider->begin(), wider->end(), [&](const std::string& q) { return path_within(p, q); });
  });
}

template <class T>
bool subset(const std::optional<std::vector<T>>& narrower, const std::optional<std::vector<T>>& wider) {
  if (!wider) return true;
  if (!narrower) return false;
  return std::all_of(narrower->begin(), narrower->end(), [&](const T& x) { return has(*wider, x); });
}

template <class T>
bool not_higher(const std::optional<T>& m, const std::optional<T>& p) {
  return !p || (m && *m <= *p);
}

// `m` is at least as strict as `p` in every rule.
void check_not_weaker(const Policy& m, const Policy& p, const std::string& what) {
  BOOST_TEST_CONTEXT(what << " vs " << p.name) {
    if (p.isolation == Isolation::strict) BOOST_TEST(m.isolation == Isolation::strict);
    for (const auto& f : p.require) BOOST_TEST(has(m.require, f), "require " << f);
    if (p.filesystem.readonlyRoot.value_or(false)) BOOST_TEST(m.filesystem.readonlyRoot.value_or(false));
    BOOST_TEST(paths_within(m.filesystem.writable, p.filesystem.writable),
               show(m.filesystem.writable) << " within " << show(p.filesystem.writable));
    BOOST_TEST(paths_within(m.filesystem.execFrom, p.filesystem.execFrom),
               show(m.filesystem.execFrom) << " within " << show(p.filesystem.execFrom));
    for (const auto& d : p.filesystem.denyRead) BOOST_TEST(has(m.filesystem.denyRead, d), "denyRead " << d);
    for (const auto& d : p.filesystem.denyExec) BOOST_TEST(has(m.filesystem.denyExec, d), "denyExec " << d);
    if (p.process.noNewPrivileges.value_or(false)) BOOST_TEST(m.process.noNewPrivileges.value_or(false));
    if (!p.process.allowRoot.value_or(true)) BOOST_TEST(!m.process.allowRoot.value_or(true));
    if (!p.process.allowPrivileged.value_or(true)) BOOST_TEST(!m.process.allowPrivileged.value_or(true));
    BOOST_TEST(subset(m.process.capabilities, p.process.capabilities),
               show(m.process.capabilities) << " within " << show(p.process.capabilities));
    if (!p.seccomp.baseline.empty()) BOOST_TEST(!m.seccomp.baseline.empty());
    for (const auto& s : p.seccomp.plus) BOOST_TEST(has(m.seccomp.plus, s), "seccomp.plus " << s);
    if (p.network.mode == NetworkMode::none) BOOST_TEST(show(m.network.mode) == "none");
    BOOST_TEST(subset(m.network.tcpConnect, p.network.tcpConnect));
    BOOST_TEST(subset(m.network.tcpBind, p.network.tcpBind));
    BOOST_TEST(not_higher(m.resources.pidsMax, p.resources.pidsMax));
    BOOST_TEST(not_higher(m.resources.memoryMax, p.resources.memoryMax));
    BOOST_TEST(not_higher(m.resources.nofileMax, p.resources.nofileMax));
  }
}

std::vector<Policy> sample_policies() {
  std::vector<Policy> out;
  for (const auto& n : builtin_policy_names()) out.push_back(builtin(n));
  out.push_back(parse(R"("isolation": "best-effort",
      "filesystem": {"writable": ["/workspace/src", "/var/tmp"], "execFrom": ["/usr/bin"], "denyRead": ["/etc/shadow"]},
      "process": {"capabilities": ["CAP_KILL", "CAP_SYS_ADMIN"], "allowPrivileged": true, "allowRoot": false},
      "network": {"tcpConnect": [443, 80], "tcpBind": []},
      "resources": {"pidsMax": 2048, "memoryMax": 1000, "nofileMax": 8192})"));
  out.back().name = "hand-1";
  out.push_back(parse(R"("isolation": "best-effort", "require": ["time-ns"],
      "filesystem": {"readonlyRoot": false, "writable": ["/"], "denyExec": ["git"]},
      "process": {"noNewPrivileges": false, "allowRoot": true},
      "seccomp": {"baseline": "other", "plus": ["x"]},
      "network": {"mode": "inherit", "tcpConnect": [443]},
      "resources": {"pidsMax": 10})"));
  out.back().name = "hand-2";
  out.push_back(parse(""));
  out.back().name = "empty";
  return out;
}

}  // namespace

BOOST_AUTO_TEST_CASE(path_within_edges) {
  BOOST_TEST(path_within("/workspace/src", "/workspace"));
  BOOST_TEST(path_within("/workspace", "/workspace"));
  BOOST_TEST(!path_within("/workspace", "/workspace/src"));
  BOOST_TEST(!path_within("/a", "/ab"));
  BOOST_TEST(!path_within("/ab", "/a"));
  BOOST_TEST(path_within("/a/b/c", "/a"));
  BOOST_TEST(path_within("/a/", "/a"));
  BOOST_TEST(path_within("/anything/at/all", "/"));
  BOOST_TEST(path_within("/", "/"));
  BOOST_TEST(!path_within("/", "/a"));
  BOOST_TEST(path_within("/a", "/a/"));  // compared cleaned: "/a/" is "/a"
}

// "/workspace/../etc" is /etc: lexically under /workspace, but not within it.
BOOST_AUTO_TEST_CASE(path_within_does_not_trust_dot_dot) {
  BOOST_TEST(!path_within("/workspace/../etc", "/workspace"));
  BOOST_TEST(!path_within("/workspace/./../etc", "/workspace"));
}

// Policies cannot spell a path with ".." at all, so no merge can be fooled.
BOOST_AUTO_TEST_CASE(dot_dot_cannot_widen_the_floor) {
  for (const char* bad : {R"("filesystem": {"writable": ["/workspace/../etc"]})", R"("filesystem": {"execFrom": ["/usr/./bin"]})",
                          R"("filesystem": {"denyRead": ["~/../x"]})", R"("filesystem": {"writable": ["/tmp/"]})"}) {
    std::string what;
    try {
      parse(bad);
    } catch (const std::exception& f) {
      what = f.what();
    }
    BOOST_TEST(what.find("is not a clean path") != std::string::npos, bad << ": " << what);
  }
}

BOOST_AUTO_TEST_CASE(union_of_deny_lists_requirements_and_filters) {
  Policy a = parse(R"("require": ["pid-ns", "seccomp"],
      "filesystem": {"denyRead": ["~/.ssh", "/a"], "denyExec": ["curl", "nc"]}, "seccomp": {"plus": ["p1"]})");
  Policy b = parse(R"("require": ["seccomp", "landlock"],
      "filesystem": {"denyRead": ["/a", "/b"], "denyExec": ["nc", "git"]}, "seccomp": {"plus": ["p2", "p1"]})");
  a.name = "a";
  b.name = "b";
  const Policy m = merge_policies(a, b);
  BOOST_TEST(show(m.require) == "[pid-ns,seccomp,landlock]");
  BOOST_TEST(show(m.filesystem.denyRead) == "[~/.ssh,/a,/b]");
  BOOST_TEST(show(m.filesystem.denyExec) == "[curl,nc,git]");
  BOOST_TEST(show(m.seccomp.plus) == "[p1,p2]");
  BOOST_TEST(m.name == "b+a");
}

BOOST_AUTO_TEST_CASE(capabilities_intersect_and_absent_is_unrestricted) {
  const Policy some = parse(R"("process": {"capabilities": ["CAP_KILL", "CAP_CHOWN", "CAP_SETUID"]})");
  const Policy other = parse(R"("process": {"capabilities": ["CAP_SETUID", "CAP_NET_RAW", "CAP_KILL"]})");
  const Policy none = parse(R"("process": {"capabilities": []})");
  const Policy unrestricted = parse("");
  BOOST_TEST(show(merge_policies(some, other).process.capabilities) == "[CAP_KILL,CAP_SETUID]");
  BOOST_TEST(show(merge_policies(other, some).process.capabilities) == "[CAP_SETUID,CAP_KILL]");
  BOOST_TEST(show(merge_policies(some, unrestricted).process.capabilities) == "[CAP_KILL,CAP_CHOWN,CAP_SETUID]");
  BOOST_TEST(show(merge_policies(unrestricted, some).process.capabilities) == "[CAP_KILL,CAP_CHOWN,CAP_SETUID]");
  BOOST_TEST(show(merge_policies(some, none).process.capabilities) == "[]");
  BOOST_TEST(show(merge_policies(none, unrestricted).process.capabilities) == "[]");
  BOOST_TEST(show(merge_policies(unrestricted, unrestricted).process.capabilities) == "null");
}

BOOST_AUTO_TEST_CASE(writable_and_exec_from_intersect_by_containment) {
  const Policy a = parse(R"("filesystem": {"writable": ["/workspace", "/tmp"], "execFrom": ["/usr", "/opt/tools"]})");
  const Policy b = parse(R"("filesystem": {"writable": ["/workspace/src", "/var"], "execFrom": ["/usr/bin", "/opt"]})");
  const Policy m = merge_policies(a, b);
  BOOST_TEST(show(m.filesystem.writable) == "[/workspace/src]");
  BOOST_TEST(show(m.filesystem.execFrom) == "[/opt/tools,/usr/bin]");
  // Same paths on both sides are kept once.
  const Policy same = merge_policies(a, a);
  BOOST_TEST(show(same.filesystem.writable) == "[/workspace,/tmp]");
  // "/" allows everything: the other side's list is the result.
  const Policy root = parse(R"("filesystem": {"writable": ["/"]})");
  BOOST_TEST(show(merge_policies(root, a).filesystem.writable) == "[/workspace,/tmp]");
  BOOST_TEST(show(merge_policies(a, root).filesystem.writable) == "[/workspace,/tmp]");
  // "/ab" is not within "/a".
  const Policy ab = parse(R"("filesystem": {"writable": ["/ab"]})");
  const Policy a1 = parse(R"("filesystem": {"writable": ["/a"]})");
  BOOST_TEST(show(merge_policies(a1, ab).filesystem.writable) == "[]");
  // Absent: no restriction; an empty list restricts everything.
  const Policy unrestricted = parse("");
  const Policy nothing = parse(R"("filesystem": {"writable": [], "execFrom": []})");
  BOOST_TEST(show(merge_policies(unrestricted, a).filesystem.writable) == "[/workspace,/tmp]");
  BOOST_TEST(show(merge_policies(a, unrestricted).filesystem.execFrom) == "[/usr,/opt/tools]");
  BOOST_TEST(show(merge_policies(a, nothing).filesystem.writable) == "[]");
  BOOST_TEST(show(merge_policies(nothing, a).filesystem.execFrom) == "[]");
  BOOST_TEST(show(merge_policies(unrestricted, unrestricted).filesystem.writable) == "null");
}

BOOST_AUTO_TEST_CASE(stricter_isolation_wins) {
  Policy strict = parse(R"("isolation": "strict")");
  Policy loose = parse(R"("isolation": "best-effort")");
  BOOST_TEST(merge_policies(strict, loose).isolation == Isolation::strict);
  BOOST_TEST(merge_policies(loose, strict).isolation == Isolation::strict);
  BOOST_TEST(merge_policies(loose, loose).isolation == Isolation::best_effort);
  BOOST_TEST(merge_policies(strict, strict).isolation == Isolation::strict);
}

BOOST_AUTO_TEST_CASE(network_none_wins_and_ports_intersect) {
  const Policy none = parse(R"("network": {"mode": "none"})");
  const Policy inherit = parse(R"("network": {"mode": "inherit"})");
  const Policy unset = parse("");
  BOOST_TEST(show(merge_policies(none, inherit).network.mode) == "none");
  BOOST_TEST(show(merge_policies(inherit, none).network.mode) == "none");
  BOOST_TEST(show(merge_policies(unset, none).network.mode) == "none");
  BOOST_TEST(show(merge_policies(none, unset).network.mode) == "none");
  BOOST_TEST(show(merge_policies(inherit, unset).network.mode) == "inherit");
  BOOST_TEST(show(merge_policies(unset, inherit).network.mode) == "inherit");
  BOOST_TEST(show(merge_policies(unset, unset).network.mode) == "null");

  const Policy p1 = parse(R"("network": {"tcpConnect": [80, 443, 8080], "tcpBind": [8000]})");
  const Policy p2 = parse(R"("network": {"tcpConnect": [443, 22, 8080]})");
  const Policy p3 = parse(R"("network": {"tcpBind": []})");
  BOOST_TEST(show(merge_policies(p1, p2).network.tcpConnect) == "[443,8080]");
  BOOST_TEST(show(merge_policies(p1, p2).network.tcpBind) == "[8000]");
  BOOST_TEST(show(merge_policies(p2, p1).network.tcpBind) == "[8000]");
  BOOST_TEST(show(merge_policies(p1, p3).network.tcpBind) == "[]");
  BOOST_TEST(show(merge_policies(p2, p3).network.tcpConnect) == "[443,22,8080]");
  BOOST_TEST(show(merge_policies(unset, unset).network.tcpConnect) == "null");
}

BOOST_AUTO_TEST_CASE(lower_limits_win) {
  const Policy a = parse(R"("resources": {"pidsMax": 1024, "memoryMax": 4096, "nofileMax": 100})");
  const Policy b = parse(R"("resources": {"pidsMax": 512, "memoryMax": 8192})");
  const Policy unset = parse("");
  const Policy m = merge_policies(a, b);
  BOOST_TEST(show_num(m.resources.pidsMax) == "512");
  BOOST_TEST(show_num(m.resources.memoryMax) == "4096");
  BOOST_TEST(show_num(m.resources.nofileMax) == "100");
  const Policy n = merge_policies(b, a);
  BOOST_TEST(show_num(n.resources.pidsMax) == "512");
  BOOST_TEST(show_num(n.resources.memoryMax) == "4096");
  BOOST_TEST(show_num(n.resources.nofileMax) == "100");
  BOOST_TEST(show_num(merge_policies(unset, b).resources.pidsMax) == "512");
  BOOST_TEST(show_num(merge_policies(b, unset).resources.memoryMax) == "8192");
  BOOST_TEST(show_num(merge_policies(unset, unset).resources.nofileMax) == "null");
}

BOOST_AUTO_TEST_CASE(booleans_tighten) {
  const Policy t = parse(R"("filesystem": {"readonlyRoot": true},
      "process": {"noNewPrivileges": true, "allowRoot": true, "allowPrivileged": true})");
  const Policy f = parse(R"("filesystem": {"readonlyRoot": false},
      "process": {"noNewPrivileges": false, "allowRoot": false, "allowPrivileged": false})");
  const Policy unset = parse("");
  for (const auto& [x, y] : {std::pair{&t, &f}, std::pair{&f, &t}}) {
    const Policy m = merge_policies(*x, *y);
    BOOST_TEST(show(m.filesystem.readonlyRoot) == "true");
    BOOST_TEST(show(m.process.noNewPrivileges) == "true");
    BOOST_TEST(show(m.process.allowRoot) == "false");
    BOOST_TEST(show(m.process.allowPrivileged) == "false");
  }
  BOOST_TEST(show(merge_policies(unset, f).process.allowRoot) == "false");
  BOOST_TEST(show(merge_policies(f, unset).process.allowPrivileged) == "false");
  BOOST_TEST(show(merge_policies(unset, t).filesystem.readonlyRoot) == "true");
  BOOST_TEST(show(merge_policies(t, unset).process.noNewPrivileges) == "true");
  BOOST_TEST(show(merge_policies(t, t).process.allowRoot) == "true");
  BOOST_TEST(show(merge_policies(unset, unset).process.allowRoot) == "null");
}

BOOST_AUTO_TEST_CASE(seccomp_baseline_kept) {
  const Policy a = parse(R"("seccomp": {"baseline": "docker-baseline"})");
  const Policy b = parse(R"("seccomp": {"baseline": "other"})");
  const Policy unset = parse("");
  BOOST_TEST(merge_policies(unset, a).seccomp.baseline == "docker-baseline");
  BOOST_TEST(merge_policies(a, unset).seccomp.baseline == "docker-baseline");
  BOOST_TEST(merge_policies(b, a).seccomp.baseline == "other");  // the floor's baseline is kept
  BOOST_TEST(merge_policies(unset, unset).seccomp.baseline.empty());
}

BOOST_AUTO_TEST_CASE(builtin_pairs) {
  const Policy def = builtin("agent-default"), strict = builtin("agent-strict"), oci = builtin("oci");
  // default + strict is agent-strict in every rule, whichever is the floor.
  for (const auto& m : {merge_policies(def, strict), merge_policies(strict, def)}) {
    auto req = m.require, expected = strict.require;
    std::sort(req.begin(), req.end());
    std::sort(expected.begin(), expected.end());
    BOOST_TEST(show(req) == show(expected));
    BOOST_TEST(show(m.filesystem.writable) == "[/workspace,/tmp]");
    BOOST_TEST(show(m.filesystem.denyRead) == show(strict.filesystem.denyRead));
    BOOST_TEST(show(m.process.capabilities) == "[]");
    BOOST_TEST(show(m.process.allowRoot) == "false");
    BOOST_TEST(show(m.network.mode) == "none");
    BOOST_TEST(show_num(m.resources.pidsMax) == "512");
    BOOST_TEST(show_num(m.resources.memoryMax) == "4294967296");
    BOOST_TEST(show_num(m.resources.nofileMax) == "4096");
  }
  BOOST_TEST(merge_policies(def, strict).name == "agent-strict+agent-default");
  BOOST_TEST(merge_policies(strict, def).name == "agent-default+agent-strict");
  BOOST_TEST(merge_policies(def, def).name == "agent-default");
  BOOST_TEST(merge_policies(def, oci).name == "oci+agent-default");
}

// An annotation choosing `oci` gets exactly the floor's rules.
BOOST_AUTO_TEST_CASE(floor_merged_with_oci_is_the_floor) {
  std::vector<Policy> floors = {builtin("agent-default"), builtin("agent-strict")};
  floors.push_back(parse(R"("filesystem": {"writable": ["/w"], "denyExec": ["nc"]},
      "process": {"capabilities": ["CAP_KILL"], "allowRoot": false},
      "network": {"tcpConnect": [443]}, "resources": {"pidsMax": 3})"));
  floors.back().name = "hand";
  const Policy oci = builtin("oci");
  for (const auto& floor : floors) {
    BOOST_TEST_CONTEXT("floor " << floor.name) {
      Policy m = merge_policies(floor, oci);
      m.name = floor.name;
      m.description = floor.description;
      BOOST_TEST(policy_json(m) == policy_json(floor));
    }
  }
}

BOOST_AUTO_TEST_CASE(merge_is_never_weaker_than_either_input) {
  const auto samples = sample_policies();
  for (const auto& a : samples)
    for (const auto& b : samples) {
      const Policy m = merge_policies(a, b);
      const std::string what = "merge(" + a.name + ", " + b.name + ")";
      check_not_weaker(m, a, what);
      check_not_weaker(m, b, what);
      // Merging again with either input changes nothing more.
      BOOST_TEST(show(merge_policies(a, m).process.capabilities) == show(m.process.capabilities));
      BOOST_TEST(show(merge_policies(m, b).filesystem.writable) == show(m.filesystem.writable), what);
    }
}
