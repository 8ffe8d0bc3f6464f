#include "runtime/container/stored_plan.hpp"

#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include <charconv>

#include "spec/error.hpp"
#include "spec/json_reader.hpp"
#include "spec/json_write.hpp"
#include "spec/names.hpp"
#include "spec/parse_config.hpp"

namespace agentrun {
namespace {

using Writer = rapidjson::Writer<rapidjson::StringBuffer>;
using spec::JsonNode;

void write_bool(Writer& w, const char* key, bool value) {
  w.Key(key);
  w.Bool(value);
}

void write_u64(Writer& w, const char* key, uint64_t value) {
  w.Key(key);
  w.Uint64(value);
}

// A BPF program as 16 hex digits per instruction (code, jt, jf, k), so that
// the file reads the same on any byte order.
std::string filter_hex(const std::vector<sock_filter>& filter) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string out;
  out.reserve(filter.size() * 16);
  auto put = [&out](uint32_t v, int digits) {
    for (int i = digits - 1; i >= 0; --i) out += kDigits[(v >> (4 * i)) & 0xf];
  };
  for (const sock_filter& f : filter) {
    put(f.code, 4);
    put(f.jt, 2);
    put(f.jf, 2);
    put(f.k, 8);
  }
  return out;
}

std::vector<sock_filter> parse_filter_hex(const JsonNode& n) {
  const std::string hex = n.str();
  if (hex.empty() || hex.size() % 16 != 0 || hex.size() / 16 > BPF_MAXINSNS)
    n.fail("expected 1 to " + std::to_string(BPF_MAXINSNS) + " BPF instructions of 16 hex digits each");
  size_t at = 0;
  auto take = [&](size_t digits) {
    uint32_t v = 0;
    const char* end = hex.data() + at + digits;
    auto [p, ec] = std::from_chars(hex.data() + at, end, v, 16);
    if (ec != std::errc() || p != end) n.fail("expected hex digits at offset " + std::to_string(at));
    at += digits;
    return v;
  };
  std::vector<sock_filter> out(hex.size() / 16);
  for (sock_filter& f : out) {
    f.code = static_cast<uint16_t>(take(4));
    f.jt = static_cast<uint8_t>(take(2));
    f.jf = static_cast<uint8_t>(take(2));
    f.k = take(8);
  }
  return out;
}

void write_filter(Writer& w, const SeccompFilter& f) {
  const SeccompProgram& p = f.program;
  w.StartObject();
  spec::write_string(w, "name", f.name);
  write_u64(w, "flags", p.flags);
  write_bool(w, "notify", p.notify);
  spec::write_string(w, "filter", filter_hex(p.filter));
  w.EndObject();
}

SeccompFilter parse_filter(const JsonNode& n) {
  return {n.at("name").str(), {}, {parse_filter_hex(n.at("filter")), n.at("flags").u32(), n.at("notify").boolean()}};
}

void write_landlock(Writer& w, const LandlockRuleset& l) {
  w.StartObject();
  write_u64(w, "abi", static_cast<uint64_t>(l.abi));
  write_u64(w, "handledFs", l.handled_fs);
  write_u64(w, "handledNet", l.handled_net);
  write_u64(w, "scoped", l.scoped);
  w.Key("paths");
  w.StartArray();
  for (const auto& [path, rights] : l.path_rules) {
    w.StartObject();
    spec::write_string(w, "path", path);
    write_u64(w, "rights", rights);
    w.EndObject();
  }
  w.EndArray();
  w.Key("ports");
  w.StartArray();
  for (const auto& [port, rights] : l.port_rules) {
    w.StartObject();
    write_u64(w, "port", port);
    write_u64(w, "rights", rights);
    w.EndObject();
  }
  w.EndArray();
  w.EndObject();
}

LandlockRuleset parse_landlock(const JsonNode& n) {
  LandlockRuleset l;
  l.abi = n.at("abi").i32();
  l.handled_fs = n.at("handledFs").u64();
  l.handled_net = n.at("handledNet").u64();
  l.scoped = n.at("scoped").u64();
  for (const JsonNode& rule : n.at("paths").items()) l.path_rules.emplace_back(rule.at("path").str(), rule.at("rights").u64());
  for (const JsonNode& rule : n.at("ports").items()) l.port_rules.emplace_back(rule.at("port").u16(), rule.at("rights").u64());
  return l;
}

void write_optional_bool(Writer& w, const char* key, const std::optional<bool>& value) {
  if (value) write_bool(w, key, *value);
}

void write_process_policy(Writer& w, const policy::ProcessPolicy& p) {
  w.StartObject();
  spec::write_string(w, "name", p.name);
  write_bool(w, "strict", p.isolation == policy::Isolation::strict);
  write_bool(w, "agent", p.agent);
  write_optional_bool(w, "noNewPrivileges", p.rules.noNewPrivileges);
  write_optional_bool(w, "allowRoot", p.rules.allowRoot);
  write_optional_bool(w, "allowPrivileged", p.rules.allowPrivileged);
  if (p.rules.capabilities) spec::write_string_list(w, "capabilities", *p.rules.capabilities);
  if (p.nofile_max) write_u64(w, "nofileMax", *p.nofile_max);
  write_bool(w, "requiresNoNewPrivileges", p.requires_no_new_privileges);
  w.EndObject();
}

policy::ProcessPolicy parse_process_policy(const JsonNode& n) {
  policy::ProcessPolicy p;
  p.name = n.at("name").str();
  p.isolation = n.at("strict").boolean() ? policy::Isolation::strict : policy::Isolation::best_effort;
  p.agent = n.at("agent").boolean();
  auto optional_bool = [&n](const char* key) {
    auto v = n.get(key);
    return v ? std::optional<bool>(v->boolean()) : std::nullopt;
  };
  p.rules.noNewPrivileges = optional_bool("noNewPrivileges");
  p.rules.allowRoot = optional_bool("allowRoot");
  p.rules.allowPrivileged = optional_bool("allowPrivileged");
  if (auto caps = n.get("capabilities")) p.rules.capabilities = caps->strings();
  if (auto nofile = n.get("nofileMax")) p.nofile_max = nofile->u64();
  p.requires_no_new_privileges = n.at("requiresNoNewPrivileges").boolean();
  return p;
}

void write_base(Writer& w, const Plan& p) {
  w.Key("namespaces");
  w.StartArray();
  for (const auto& j : p.joins) w.String(spec::namespace_name(j.type));
  w.EndArray();
  write_bool(w, "chroot", p.chroot);
  if (p.personality) write_u64(w, "personality", *p.personality);
  if (p.seccomp) {
    w.Key("seccomp");
    write_filter(w, *p.seccomp);
  }
  spec::write_string(w, "listenerPath", p.seccomp_listener_path);
  spec::write_string(w, "listenerMetadata", p.seccomp_listener_metadata);
  w.Key("seccompStack");
  w.StartArray();
  for (const auto& filter : p.seccomp_stack) write_filter(w, filter);
  w.EndArray();
  if (p.landlock) {
    w.Key("landlock");
    write_landlock(w, *p.landlock);
  }
}

Plan parse_base(const JsonNode& n) {
  Plan p;
  for (const JsonNode& ns : n.at("namespaces").items()) {
    auto type = spec::namespace_from_name(ns.str());
    if (!type) ns.fail("unknown namespace \"" + ns.str() + "\"");
    p.joins.push_back({*type, ""});
  }
  p.chroot = n.at("chroot").boolean();
  if (auto personality = n.get("personality")) p.personality = personality->u64();
  if (auto seccomp = n.get("seccomp")) p.seccomp = parse_filter(*seccomp);
  p.seccomp_listener_path = n.at("listenerPath").str();
  p.seccomp_listener_metadata = n.at("listenerMetadata").str();
  for (const JsonNode& filter : n.at("seccompStack").items()) p.seccomp_stack.push_back(parse_filter(filter));
  if (auto landlock = n.get("landlock")) p.landlock = parse_landlock(*landlock);
  p.no_new_keyring = true;
  return p;
}

}  // namespace

std::string stored_plan_json(const StoredPlan& plan) {
  rapidjson::StringBuffer buf;
  Writer w(buf);
  w.StartObject();
  write_u64(w, "agentrunPlan", kStoredPlanVersion);
  write_base(w, plan.base);
  w.Key("processPolicy");
  write_process_policy(w, plan.process_policy);
  w.Key("host");
  w.StartObject();
  write_u64(w, "lastCap", static_cast<uint64_t>(plan.host.last_cap));
  write_bool(w, "apparmor", plan.host.apparmor);
  write_bool(w, "selinux", plan.host.selinux);
  w.EndObject();
  w.Key("process");
  w.RawValue(plan.process_json.data(), plan.process_json.size(), rapidjson::kObjectType);
  w.EndObject();
  return std::string(buf.GetString(), buf.GetSize());
}

StoredPlan parse_stored_plan(std::string_view text, const std::string& file) {
  const spec::JsonDocument doc(text, file);
  const JsonNode root = doc.root();
  const auto version = root.is_object() ? root.get("agentrunPlan") : std::nullopt;
  if (!version || !version->raw().IsInt64() || version->raw().GetInt64() != kStoredPlanVersion)
    fail(file, std::string("not a plan this agentrun reads (version ") + std::to_string(kStoredPlanVersion) +
                   (version ? ", not " + version->json() : ", and it names none") +
                   "): the container was created by another version of agentrun; recreate it");
  StoredPlan out;
  out.base = parse_base(root);
  out.process_policy = parse_process_policy(root.at("processPolicy"));
  const JsonNode host = root.at("host");
  out.host.last_cap = host.at("lastCap").i32();
  out.base.last_cap = out.host.last_cap;
  out.host.apparmor = host.at("apparmor").boolean();
  out.host.selinux = host.at("selinux").boolean();
  out.process_json = root.at("process").json();
  return out;
}

spec::Process container_process(const StoredPlan& plan, const std::string& file) {
  return spec::parse_process_json(plan.process_json, file + ": process");
}

}  // namespace agentrun
