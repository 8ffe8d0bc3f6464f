#include "spec/parse_config.hpp"

#include <algorithm>
#include <functional>
#include <type_traits>

#include "spec/json_reader.hpp"
#include "spec/names.hpp"

namespace agentrun::spec {
namespace {

// Small combinators so that each object parser reads like its schema.
// A converter is anything invocable on a JsonNode: &JsonNode::u32, a parse_*
// function, or a lambda.
template <class F>
using Parsed = std::invoke_result_t<F, const JsonNode&>;

// Member converted by f, or nothing when absent or null.
template <class F>
std::optional<Parsed<F>> opt(const JsonNode& n, std::string_view key, F f) {
  if (auto v = n.get(key)) return std::invoke(f, *v);
  return std::nullopt;
}

// Array member, each element converted by f; empty when absent.
template <class F>
std::vector<Parsed<F>> array_of(const JsonNode& n, std::string_view key, F f) {
  std::vector<Parsed<F>> out;
  if (auto v = n.get(key))
    for (const auto& item : v->items()) out.push_back(std::invoke(f, item));
  return out;
}

// Object member used as a map, each value converted by f; empty when absent.
template <class F>
std::map<std::string, Parsed<F>> map_of(const JsonNode& n, std::string_view key, F f) {
  std::map<std::string, Parsed<F>> out;
  if (auto v = n.get(key))
    for (const auto& [name, value] : v->members()) out.emplace(name, std::invoke(f, value));
  return out;
}

std::string optional_str(const JsonNode& n, std::string_view key) {
  return opt(n, key, &JsonNode::str).value_or("");
}

bool optional_bool(const JsonNode& n, std::string_view key) {
  return opt(n, key, &JsonNode::boolean).value_or(false);
}

// A name from a closed set; `lookup` returns an optional value.
template <class Lookup>
auto named(const JsonNode& n, Lookup lookup, const std::string& what) {
  std::string name = n.str();
  auto value = lookup(name);
  if (!value) n.fail("unknown " + what + " \"" + name + "\"");
  return *value;
}

// The same, as a converter for array_of.
template <class Lookup>
auto by_name(Lookup lookup, std::string what) {
  return [lookup, what](const JsonNode& n) { return named(n, lookup, what); };
}

// A name from a set that is only a membership test; the value is the name.
auto known_name(bool (*known)(std::string_view), std::string what) {
  return by_name(
      [known](std::string_view s) {
        return known(s) ? std::optional<std::string>(s) : std::nullopt;
      },
      std::move(what));
}

// A string of letters from `allowed`, between min and max of them.
std::string letters(const JsonNode& n, std::string_view allowed, size_t min, size_t max,
                    const std::string& what) {
  std::string s = n.str();
  if (s.size() < min || s.size() > max || s.find_first_not_of(allowed) != std::string::npos)
    n.fail("invalid " + what + " \"" + s + "\"");
  return s;
}

int positive(const JsonNode& n) {
  int32_t v = n.i32();
  if (v <= 0) n.fail("must be greater than zero");
  return v;
}

IdMapping parse_id_mapping(const JsonNode& n) {
  return {n.at("containerID").u32(), n.at("hostID").u32(), n.at("size").u32()};
}

ConsoleSize parse_console_size(const JsonNode& n) {
  return {n.at("height").u32(), n.at("width").u32()};
}

User parse_user(const JsonNode& n) {
  return {n.at("uid").u32(), n.at("gid").u32(), opt(n, "umask", &JsonNode::u32),
          array_of(n, "additionalGids", &JsonNode::u32)};
}

Capabilities parse_capabilities(const JsonNode& n) {
  Capabilities c;
  auto set = [&n, &c](std::string_view key) {
    std::vector<int> known;
    for (const std::string& name : array_of(n, key, &JsonNode::str)) {
      if (auto cap = capability_from_name(name)) known.push_back(*cap);
      else if (std::find(c.unknown.begin(), c.unknown.end(), name) == c.unknown.end()) c.unknown.push_back(name);
    }
    return known;
  };
  c.bounding = set("bounding");
  c.effective = set("effective");
  c.inheritable = set("inheritable");
  c.permitted = set("permitted");
  c.ambient = set("ambient");
  return c;
}

Rlimit parse_rlimit(const JsonNode& n) {
  JsonNode type = n.at("type");
  return {named(type, rlimit_from_name, "rlimit"), type.str(), n.at("hard").u64(),
          n.at("soft").u64()};
}

IoPriority parse_io_priority(const JsonNode& n) {
  return {named(n.at("class"), ioprio_class_from_name, "I/O priority class"),
          n.at("priority").i32()};
}

Scheduler parse_scheduler(const JsonNode& n) {
  Scheduler s;
  s.policy = named(n.at("policy"), scheduler_policy_from_name, "scheduler policy");
  s.nice = opt(n, "nice", &JsonNode::i32).value_or(0);
  s.priority = opt(n, "priority", &JsonNode::i32).value_or(0);
  for (uint64_t bit : array_of(n, "flags", by_name(scheduler_flag_from_name, "scheduler flag")))
    s.flags |= bit;
  s.runtime = opt(n, "runtime", &JsonNode::u64).value_or(0);
  s.deadline = opt(n, "deadline", &JsonNode::u64).value_or(0);
  s.period = opt(n, "period", &JsonNode::u64).value_or(0);
  return s;
}

CpuAffinity parse_cpu_affinity(const JsonNode& n) {
  return {optional_str(n, "initial"), optional_str(n, "final")};
}

Process parse_process(const JsonNode& n) {
  Process p;
  p.terminal = optional_bool(n, "terminal");
  p.consoleSize = opt(n, "consoleSize", parse_console_size);
  p.user = parse_user(n.at("user"));
  p.args = array_of(n, "args", &JsonNode::str);
  p.env = array_of(n, "env", &JsonNode::str);
  p.cwd = n.at("cwd").str();
  p.capabilities = opt(n, "capabilities", parse_capabilities);
  p.rlimits = array_of(n, "rlimits", parse_rlimit);
  p.noNewPrivileges = optional_bool(n, "noNewPrivileges");
  p.oomScoreAdj = opt(n, "oomScoreAdj", &JsonNode::i32);
  p.apparmorProfile = optional_str(n, "apparmorProfile");
  p.selinuxLabel = optional_str(n, "selinuxLabel");
  p.ioPriority = opt(n, "ioPriority", parse_io_priority);
  p.scheduler = opt(n, "scheduler", parse_scheduler);
  p.execCPUAffinity = opt(n, "execCPUAffinity", parse_cpu_affinity);
  return p;
}

Root parse_root(const JsonNode& n) { return {n.at("path").str(), optional_bool(n, "readonly")}; }

Mount parse_mount(const JsonNode& n) {
  return {n.at("destination").str(),
          optional_str(n, "type"),
          optional_str(n, "source"),
          array_of(n, "options", &JsonNode::str),
          array_of(n, "uidMappings", parse_id_mapping),
          array_of(n, "gidMappings", parse_id_mapping)};
}

Hook parse_hook(const JsonNode& n) {
  return {n.at("path").str(), array_of(n, "args", &JsonNode::str),
          array_of(n, "env", &JsonNode::str), opt(n, "timeout", positive)};
}

Hooks parse_hooks(const JsonNode& n) {
  auto stage = [&n](std::string_view key) { return array_of(n, key, parse_hook); };
  return {stage("prestart"),       stage("createRuntime"), stage("createContainer"),
          stage("startContainer"), stage("poststart"),     stage("poststop")};
}

Namespace parse_namespace(const JsonNode& n) {
  return {named(n.at("type"), namespace_from_name, "namespace"), optional_str(n, "path")};
}

TimeOffset parse_time_offset(const JsonNode& n) {
  return {opt(n, "secs", &JsonNode::i64).value_or(0),
          opt(n, "nanosecs", &JsonNode::u32).value_or(0)};
}

Device parse_device(const JsonNode& n) {
  Device d;
  d.type = letters(n.at("type"), "cubp", 1, 1, "device type")[0];
  d.path = n.at("path").str();
  // The spec requires major and minor for everything but a FIFO.
  if (d.type != 'p') {
    d.major = n.at("major").i64();
    d.minor = n.at("minor").i64();
  }
  d.fileMode = opt(n, "fileMode", &JsonNode::u32);
  d.uid = opt(n, "uid", &JsonNode::u32);
  d.gid = opt(n, "gid", &JsonNode::u32);
  return d;
}

DeviceRule parse_device_rule(const JsonNode& n) {
  auto type = [](const JsonNode& t) { return letters(t, "acb", 0, 1, "device type"); };
  auto access = [](const JsonNode& a) { return letters(a, "rwm", 0, 3, "device access"); };
  return {n.at("allow").boolean(), opt(n, "type", type).value_or(""),
          opt(n, "major", &JsonNode::i64), opt(n, "minor", &JsonNode::i64),
          opt(n, "access", access).value_or("")};
}

MemoryResources parse_memory(const JsonNode& n) {
  auto i64 = [&n](std::string_view key) { return opt(n, key, &JsonNode::i64); };
  auto boolean = [&n](std::string_view key) { return opt(n, key, &JsonNode::boolean); };
  return {i64("limit"),
          i64("reservation"),
          i64("swap"),
          i64("kernel"),
          i64("kernelTCP"),
          opt(n, "swappiness", &JsonNode::u64),
          boolean("disableOOMKiller"),
          boolean("useHierarchy"),
          boolean("checkBeforeUpdate")};
}

CpuResources parse_cpu(const JsonNode& n) {
  auto i64 = [&n](std::string_view key) { return opt(n, key, &JsonNode::i64); };
  auto u64 = [&n](std::string_view key) { return opt(n, key, &JsonNode::u64); };
  return {u64("shares"),
          i64("quota"),
          u64("burst"),
          u64("period"),
          i64("realtimeRuntime"),
          u64("realtimePeriod"),
          optional_str(n, "cpus"),
          optional_str(n, "mems"),
          i64("idle")};
}

WeightDevice parse_weight_device(const JsonNode& n) {
  return {n.at("major").i64(), n.at("minor").i64(), opt(n, "weight", &JsonNode::u16),
          opt(n, "leafWeight", &JsonNode::u16)};
}

ThrottleDevice parse_throttle_device(const JsonNode& n) {
  return {n.at("major").i64(), n.at("minor").i64(), n.at("rate").u64()};
}

BlockIoResources parse_block_io(const JsonNode& n) {
  auto throttle = [&n](std::string_view key) { return array_of(n, key, parse_throttle_device); };
  return {opt(n, "weight", &JsonNode::u16),
          opt(n, "leafWeight", &JsonNode::u16),
          array_of(n, "weightDevice", parse_weight_device),
          throttle("throttleReadBpsDevice"),
          throttle("throttleWriteBpsDevice"),
          throttle("throttleReadIOPSDevice"),
          throttle("throttleWriteIOPSDevice")};
}

HugepageLimit parse_hugepage_limit(const JsonNode& n) {
  return {n.at("pageSize").str(), n.at("limit").u64()};
}

NetPriority parse_net_priority(const JsonNode& n) {
  return {n.at("name").str(), n.at("priority").u32()};
}

NetworkResources parse_network(const JsonNode& n) {
  return {opt(n, "classID", &JsonNode::u32), array_of(n, "priorities", parse_net_priority)};
}

RdmaLimit parse_rdma(const JsonNode& n) {
  return {opt(n, "hcaHandles", &JsonNode::u32), opt(n, "hcaObjects", &JsonNode::u32)};
}

Resources parse_resources(const JsonNode& n) {
  Resources r;
  r.devices = array_of(n, "devices", parse_device_rule);
  r.memory = opt(n, "memory", parse_memory);
  r.cpu = opt(n, "cpu", parse_cpu);
  // An empty "pids" object sets no limit.
  if (auto pids = n.get("pids")) r.pidsLimit = opt(*pids, "limit", &JsonNode::i64);
  r.blockIO = opt(n, "blockIO", parse_block_io);
  r.hugepageLimits = array_of(n, "hugepageLimits", parse_hugepage_limit);
  r.network = opt(n, "network", parse_network);
  r.rdma = map_of(n, "rdma", parse_rdma);
  r.unified = map_of(n, "unified", &JsonNode::str);
  return r;
}

SeccompArg parse_seccomp_arg(const JsonNode& n) {
  return {n.at("index").u32(), n.at("value").u64(), opt(n, "valueTwo", &JsonNode::u64).value_or(0),
          named(n.at("op"), seccomp_operator_from_name, "seccomp operator")};
}

SeccompAction seccomp_action(const JsonNode& n) {
  return named(n, seccomp_action_from_name, "seccomp action");
}

SeccompSyscall parse_seccomp_syscall(const JsonNode& n) {
  return {n.at("names").strings(), seccomp_action(n.at("action")),
          opt(n, "errnoRet", &JsonNode::u32), array_of(n, "args", parse_seccomp_arg)};
}

Seccomp parse_seccomp(const JsonNode& n) {
  return {seccomp_action(n.at("defaultAction")),
          opt(n, "defaultErrnoRet", &JsonNode::u32),
          array_of(n, "architectures", known_name(is_seccomp_arch_name, "seccomp architecture")),
          array_of(n, "flags", known_name(is_seccomp_flag_name, "seccomp flag")),
          optional_str(n, "listenerPath"),
          optional_str(n, "listenerMetadata"),
          array_of(n, "syscalls", parse_seccomp_syscall)};
}

bool is_personality_domain(std::string_view s) { return s == "LINUX" || s == "LINUX32"; }

Personality parse_personality(const JsonNode& n) {
  return {known_name(is_personality_domain, "personality domain")(n.at("domain")),
          array_of(n, "flags", &JsonNode::str)};
}

IntelRdt parse_intel_rdt(const JsonNode& n) {
  return {optional_str(n, "closID"), optional_str(n, "l3CacheSchema"),
          optional_str(n, "memBwSchema"), optional_bool(n, "enableCMT"),
          optional_bool(n, "enableMBM")};
}

// Keyed by the host's interface name; "name" (the name inside the
// container) defaults to the same.
std::map<std::string, std::string> parse_net_devices(const JsonNode& n) {
  std::map<std::string, std::string> out;
  for (const auto& [host_name, device] : n.members())
    out[host_name] = opt(device, "name", &JsonNode::str).value_or(host_name);
  return out;
}

Linux parse_linux(const JsonNode& n) {
  Linux l;
  l.namespaces = array_of(n, "namespaces", parse_namespace);
  l.uidMappings = array_of(n, "uidMappings", parse_id_mapping);
  l.gidMappings = array_of(n, "gidMappings", parse_id_mapping);
  l.timeOffsets = map_of(n, "timeOffsets", parse_time_offset);
  l.devices = array_of(n, "devices", parse_device);
  l.cgroupsPath = optional_str(n, "cgroupsPath");
  l.resources = opt(n, "resources", parse_resources);
  l.rootfsPropagation = optional_str(n, "rootfsPropagation");
  l.seccomp = opt(n, "seccomp", parse_seccomp);
  l.sysctl = map_of(n, "sysctl", &JsonNode::str);
  l.maskedPaths = array_of(n, "maskedPaths", &JsonNode::str);
  l.readonlyPaths = array_of(n, "readonlyPaths", &JsonNode::str);
  l.mountLabel = optional_str(n, "mountLabel");
  l.personality = opt(n, "personality", parse_personality);
  l.intelRdt = opt(n, "intelRdt", parse_intel_rdt);
  l.netDevices =
      opt(n, "netDevices", parse_net_devices).value_or(std::map<std::string, std::string>{});
  return l;
}

}  // namespace

Config parse_config(std::string_view text, const std::string& file) {
  JsonDocument doc(text, file);
  return parse_config(doc.root());
}

Config parse_config(const JsonNode& n) {
  Config c;
  c.ociVersion = n.at("ociVersion").str();
  c.root = parse_root(n.at("root"));
  c.mounts = array_of(n, "mounts", parse_mount);
  c.process = opt(n, "process", parse_process);
  c.hostname = optional_str(n, "hostname");
  c.domainname = optional_str(n, "domainname");
  c.hooks = opt(n, "hooks", parse_hooks).value_or(Hooks{});
  c.annotations = map_of(n, "annotations", &JsonNode::str);
  c.linux = opt(n, "linux", parse_linux).value_or(Linux{});
  return c;
}

Process parse_process_json(std::string_view text, const std::string& file) {
  JsonDocument doc(text, file);
  return parse_process(doc.root());
}

Resources parse_resources_json(std::string_view text, const std::string& file) {
  JsonDocument doc(text, file);
  return parse_resources(doc.root());
}

Seccomp parse_seccomp_json(std::string_view text, const std::string& file) {
  JsonDocument doc(text, file);
  return parse_seccomp(doc.root());
}

}  // namespace agentrun::spec
