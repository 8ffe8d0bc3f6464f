#include "runtime/policy/parse_policy.hpp"

#include <rapidjson/prettywriter.h>
#include <rapidjson/stringbuffer.h>

#include <algorithm>

#include "runtime/policy/egress_entry.hpp"
#include "runtime/util/in_root.hpp"
#include "spec/json_reader.hpp"
#include "spec/json_write.hpp"
#include "spec/names.hpp"

namespace agentrun::policy {
namespace {

using spec::JsonNode;

std::vector<std::string> strings(const JsonNode& n) {
  std::vector<std::string> out;
  for (const auto& item : n.items()) out.push_back(item.str());
  return out;
}

// Absolute and clean ("." and ".." would let a merge be fooled about what
// lies within what); "~/" only where the home directory is meaningful.
std::vector<std::string> absolute_paths(const JsonNode& n, bool home_allowed = false) {
  std::vector<std::string> out;
  for (const auto& item : n.items()) {
    std::string p = item.str();
    const bool home = home_allowed && p.rfind("~/", 0) == 0;
    if (p.empty() || (p[0] != '/' && !home)) item.fail("\"" + p + "\" is not an absolute path");
    if (clean_path(home ? p.substr(1) : p) != (home ? p.substr(1) : p))
      item.fail("\"" + p + "\" is not a clean path (no \"//\", \".\", \"..\" or trailing \"/\")");
    out.push_back(p);
  }
  return out;
}

// A string that must name one of `choices`: the value it names.
template <class E>
E choice(const JsonNode& v, const std::string& what, std::initializer_list<std::pair<std::string_view, E>> choices) {
  const std::string s = v.str();
  std::string names;
  size_t i = 0;
  for (const auto& [name, value] : choices) {
    if (s == name) return value;
    if (i > 0) names += i + 1 == choices.size() ? " or " : ", ";
    names += name;
    ++i;
  }
  v.fail("unknown " + what + " \"" + s + "\" (" + names + ")");
}

std::optional<bool> opt_bool(const JsonNode& n, std::string_view key) {
  auto v = n.get(key);
  return v ? std::optional<bool>(v->boolean()) : std::nullopt;
}

std::vector<uint16_t> ports(const JsonNode& n) {
  std::vector<uint16_t> out;
  for (const auto& item : n.items()) out.push_back(item.u16());
  return out;
}

Filesystem parse_filesystem(const JsonNode& n) {
  n.allow_only({"readonlyRoot", "writable", "denyRead", "denyExec", "execFrom", "protectRepoHooks"});
  Filesystem f;
  f.readonlyRoot = opt_bool(n, "readonlyRoot");
  f.protectRepoHooks = opt_bool(n, "protectRepoHooks");
  if (auto v = n.get("writable")) f.writable = absolute_paths(*v);
  if (auto v = n.get("denyRead")) f.denyRead = absolute_paths(*v, true);
  if (auto v = n.get("execFrom")) f.execFrom = absolute_paths(*v);
  if (auto v = n.get("denyExec"))
    for (const auto& item : v->items()) {
      std::string name = item.str();
      if (name.empty() || name.find('/') != std::string::npos || name == "." || name == "..")
        item.fail("\"" + name + "\" is not a command name");
      f.denyExec.push_back(name);
    }
  return f;
}

ProcessRules parse_process(const JsonNode& n) {
  n.allow_only({"noNewPrivileges", "allowRoot", "allowPrivileged", "capabilities"});
  ProcessRules p;
  p.noNewPrivileges = opt_bool(n, "noNewPrivileges");
  p.allowRoot = opt_bool(n, "allowRoot");
  p.allowPrivileged = opt_bool(n, "allowPrivileged");
  if (auto caps = n.get("capabilities")) {
    p.capabilities.emplace();
    for (const auto& item : caps->items()) {
      std::string name = item.str();
      if (!spec::capability_from_name(name)) item.fail("unknown capability \"" + name + "\"");
      p.capabilities->push_back(name);
    }
  }
  return p;
}

SeccompRules parse_seccomp(const JsonNode& n) {
  n.allow_only({"baseline", "plus"});
  SeccompRules s;
  if (auto b = n.get("baseline")) s.baseline = b->str();
  if (auto plus = n.get("plus")) s.plus = strings(*plus);
  return s;
}

// Each entry is checked here, so that a typo names its field; the ruleset
// is built from the strings at create (egress_ruleset.hpp).
std::vector<std::string> egress_entries(const JsonNode& n, bool deny) {
  std::vector<std::string> out;
  for (const auto& item : n.items()) {
    std::string text = item.str();
    try {
      const EgressEntry e = parse_egress_entry(text);
      if (deny && (e.kind == EgressKind::dns || e.kind == EgressKind::name))
        item.fail("\"" + text + "\": deny takes addresses, networks, link-local, metadata or host; a name is "
                  "denied by leaving it out of allow under \"default\": \"deny\"");
    } catch (const Failure& f) {
      item.fail(f.error().reason);
    }
    out.push_back(std::move(text));
  }
  return out;
}

Egress parse_egress(const JsonNode& n) {
  n.allow_only({"default", "allow", "deny", "log"});
  Egress e;
  if (auto v = n.get("default"))
    e.fallback = choice<EgressDefault>(*v, "default", {{"allow", EgressDefault::allow}, {"deny", EgressDefault::deny}});
  if (auto v = n.get("allow")) e.allow = egress_entries(*v, false);
  if (auto v = n.get("deny")) e.deny = egress_entries(*v, true);
  if (auto v = n.get("log"))
    e.log = choice<EgressLog>(*v, "log", {{"none", EgressLog::none}, {"denied", EgressLog::denied}, {"all", EgressLog::all}});
  return e;
}

Network parse_network(const JsonNode& n) {
  n.allow_only({"mode", "tcpConnect", "tcpBind", "egress"});
  Network net;
  if (auto m = n.get("mode"))
    net.mode = choice<NetworkMode>(*m, "network mode", {{"inherit", NetworkMode::inherit}, {"none", NetworkMode::none}});
  if (auto v = n.get("tcpConnect")) net.tcpConnect = ports(*v);
  if (auto v = n.get("tcpBind")) net.tcpBind = ports(*v);
  if (auto v = n.get("egress")) net.egress = parse_egress(*v);
  return net;
}

Resources parse_resources(const JsonNode& n) {
  n.allow_only({"pidsMax", "memoryMax", "nofileMax"});
  Resources r;
  auto positive = [&](std::string_view key) -> std::optional<int64_t> {
    auto v = n.get(key);
    if (!v) return std::nullopt;
    int64_t x = v->i64();
    if (x <= 0) v->fail("must be a positive number");
    return x;
  };
  r.pidsMax = positive("pidsMax");
  r.memoryMax = positive("memoryMax");
  if (auto v = positive("nofileMax")) r.nofileMax = static_cast<uint64_t>(*v);
  return r;
}

}  // namespace

const char* isolation_name(Isolation i) { return i == Isolation::strict ? "strict" : "best-effort"; }

const char* egress_log_name(EgressLog l) {
  return l == EgressLog::none ? "none" : l == EgressLog::denied ? "denied" : "all";
}

bool has_rules(const Policy& p) {
  const auto& f = p.filesystem;
  const auto& pr = p.process;
  const auto& n = p.network;
  const auto& r = p.resources;
  return !p.require.empty() || f.readonlyRoot || f.protectRepoHooks || f.writable || !f.denyRead.empty() ||
         !f.denyExec.empty() ||
         f.execFrom || pr.noNewPrivileges || pr.allowRoot || pr.allowPrivileged || pr.capabilities ||
         !p.seccomp.baseline.empty() || !p.seccomp.plus.empty() || n.mode || n.tcpConnect || n.tcpBind ||
         n.egress ||
         r.pidsMax || r.memoryMax || r.nofileMax;
}

Policy parse_policy(std::string_view text, const std::string& label) {
  spec::JsonDocument doc(text, label);
  const JsonNode n = doc.root();
  n.allow_only({"agentrunPolicy", "name", "description", "isolation", "require", "filesystem", "process", "seccomp",
                "network", "resources"});
  const auto version = n.at("agentrunPolicy");
  if (version.i64() != 1) version.fail("unsupported version (this agentrun reads version 1)");
  Policy p;
  p.name = n.at("name").str();
  if (auto d = n.get("description")) p.description = d->str();
  if (auto iso = n.get("isolation"))
    p.isolation = choice<Isolation>(*iso, "isolation", {{"strict", Isolation::strict}, {"best-effort", Isolation::best_effort}});
  if (auto req = n.get("require"))
    for (const auto& item : req->items()) {
      std::string f = item.str();
      const auto& known = feature_names();
      if (std::find(known.begin(), known.end(), f) == known.end()) item.fail("unknown feature \"" + f + "\"");
      p.require.push_back(f);
    }
  if (auto v = n.get("filesystem")) p.filesystem = parse_filesystem(*v);
  if (auto v = n.get("process")) p.process = parse_process(*v);
  if (auto v = n.get("seccomp")) p.seccomp = parse_seccomp(*v);
  if (auto v = n.get("network")) p.network = parse_network(*v);
  if (auto v = n.get("resources")) p.resources = parse_resources(*v);
  return p;
}

namespace {

using Writer = spec::PrettyWriter;

// A member the policy sets; an unset one is left out.
template <class T>
void if_set(Writer& w, const char* key, const std::optional<T>& v) {
  if (!v) return;
  if constexpr (std::is_same_v<T, std::vector<std::string>>)
    spec::write_string_list(w, key, *v);
  else if constexpr (std::is_same_v<T, std::vector<uint16_t>>)
    spec::write_array(w, key, *v, [&](uint16_t port) { w.Uint(port); });
  else
    spec::write_number(w, key, *v);
}

}  // namespace

std::string policy_json(const Policy& p) {
  return spec::pretty_json([&](spec::PrettyWriter& w) {
    w.StartObject();
    spec::write_number(w, "agentrunPolicy", 1);
    spec::write_string(w, "name", p.name);
    if (!p.description.empty()) spec::write_string(w, "description", p.description);
    spec::write_string(w, "isolation", isolation_name(p.isolation));
    spec::write_string_list(w, "require", p.require);
    spec::write_object(w, "filesystem", [&] {
      if_set(w, "readonlyRoot", p.filesystem.readonlyRoot);
      if_set(w, "protectRepoHooks", p.filesystem.protectRepoHooks);
      if_set(w, "writable", p.filesystem.writable);
      spec::write_string_list(w, "denyRead", p.filesystem.denyRead);
      spec::write_string_list(w, "denyExec", p.filesystem.denyExec);
      if_set(w, "execFrom", p.filesystem.execFrom);
    });
    spec::write_object(w, "process", [&] {
      if_set(w, "noNewPrivileges", p.process.noNewPrivileges);
      if_set(w, "allowRoot", p.process.allowRoot);
      if_set(w, "allowPrivileged", p.process.allowPrivileged);
      if_set(w, "capabilities", p.process.capabilities);
    });
    spec::write_object(w, "seccomp", [&] {
      if (!p.seccomp.baseline.empty()) spec::write_string(w, "baseline", p.seccomp.baseline);
      spec::write_string_list(w, "plus", p.seccomp.plus);
    });
    spec::write_object(w, "network", [&] {
      if (p.network.mode) spec::write_string(w, "mode", *p.network.mode == NetworkMode::none ? "none" : "inherit");
      if_set(w, "tcpConnect", p.network.tcpConnect);
      if_set(w, "tcpBind", p.network.tcpBind);
      if (const auto& e = p.network.egress)
        spec::write_object(w, "egress", [&] {
          spec::write_string(w, "default", e->fallback == EgressDefault::deny ? "deny" : "allow");
          spec::write_string_list(w, "allow", e->allow);
          spec::write_string_list(w, "deny", e->deny);
          spec::write_string(w, "log", egress_log_name(e->log));
        });
    });
    spec::write_object(w, "resources", [&] {
      if_set(w, "pidsMax", p.resources.pidsMax);
      if_set(w, "memoryMax", p.resources.memoryMax);
      if_set(w, "nofileMax", p.resources.nofileMax);
    });
    w.EndObject();
  });
}

}  // namespace agentrun::policy
