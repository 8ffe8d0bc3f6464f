#include "runtime/cli/update_request.hpp"

#include <cctype>
#include <charconv>
#include <cstdint>

#include "runtime/cgroup/default_devices.hpp"
#include "spec/error.hpp"
#include "spec/parse_config.hpp"

namespace agentrun {
namespace {

int64_t parse_int(const std::string& value, const std::string& flag) {
  int64_t v = 0;
  auto [p, ec] = std::from_chars(value.data(), value.data() + value.size(), v);
  if (value.empty() || ec != std::errc() || p != value.data() + value.size())
    fail("--" + flag + " \"" + value + "\"", "expects an integer");
  return v;
}

uint64_t parse_unsigned(const std::string& value, const std::string& flag) {
  int64_t v = parse_int(value, flag);
  if (v < 0) fail("--" + flag + " \"" + value + "\"", "expects a non-negative integer");
  return static_cast<uint64_t>(v);
}

}  // namespace

int64_t parse_bytes(const std::string& value, const std::string& flag) {
  if (value == "-1") return -1;
  size_t digits = 0;
  while (digits < value.size() && std::isdigit(static_cast<unsigned char>(value[digits]))) ++digits;
  std::string unit = value.substr(digits);
  for (auto& c : unit) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  if (!unit.empty() && unit.back() == 'b') unit.pop_back();
  static const std::pair<const char*, int> kUnits[] = {{"", 0}, {"k", 10}, {"m", 20}, {"g", 30}, {"t", 40}};
  for (const auto& [name, shift] : kUnits) {
    if (unit != name) continue;
    const uint64_t n = parse_unsigned(value.substr(0, digits), flag);
    if (n > (uint64_t{INT64_MAX} >> shift)) fail("--" + flag + " \"" + value + "\"", "too large");
    return static_cast<int64_t>(n << shift);
  }
  fail("--" + flag + " \"" + value + "\"", "expects bytes, with an optional unit k, m, g or t");
}

uint64_t parse_duration_ms(const std::string& value, const std::string& flag) {
  static const std::pair<const char*, uint64_t> kUnits[] = {{"ms", 1}, {"s", 1000}, {"m", 60000}, {"h", 3600000}};
  uint64_t total = 0;
  size_t i = 0;
  while (i < value.size()) {
    size_t start = i;
    while (i < value.size() && std::isdigit(static_cast<unsigned char>(value[i]))) ++i;
    size_t unit_start = i;
    while (i < value.size() && std::isalpha(static_cast<unsigned char>(value[i]))) ++i;
    const std::string unit = value.substr(unit_start, i - unit_start);
    bool known = false;
    for (const auto& [name, ms] : kUnits)
      if (unit == name && unit_start > start) {
        total += parse_unsigned(value.substr(start, unit_start - start), flag) * ms;
        known = true;
      }
    if (!known) fail("--" + flag + " \"" + value + "\"", "expects a duration such as 5s or 500ms");
  }
  if (total == 0) fail("--" + flag + " \"" + value + "\"", "must be longer than zero");
  return total;
}

namespace {

// A flag that sets one optional field of `Struct`.
template <class Struct, class T>
struct FieldFlag {
  const char* name;
  std::optional<T> Struct::*field;
};

using spec::CpuResources;
using spec::MemoryResources;
constexpr FieldFlag<MemoryResources, int64_t> kMemoryFlags[] = {
    {"memory", &MemoryResources::limit},
    {"memory-swap", &MemoryResources::swap},
    {"memory-reservation", &MemoryResources::reservation},
    {"kernel-memory", &MemoryResources::kernel},
    {"kernel-memory-tcp", &MemoryResources::kernelTCP},
};
constexpr FieldFlag<CpuResources, uint64_t> kCpuCounts[] = {
    {"cpu-shares", &CpuResources::shares},
    {"cpu-period", &CpuResources::period},
    {"cpu-rt-period", &CpuResources::realtimePeriod},
};
constexpr FieldFlag<CpuResources, int64_t> kCpuSigned[] = {
    {"cpu-quota", &CpuResources::quota},
    {"cpu-rt-runtime", &CpuResources::realtimeRuntime},
    {"cpu-idle", &CpuResources::idle},
};

// Sets the fields whose flags are given; whether there was one.
template <class Struct, class T, size_t N, class Parse>
bool set_fields(const CommandLine& cl, Struct& out, const FieldFlag<Struct, T> (&flags)[N], Parse parse) {
  bool any = false;
  for (const auto& f : flags)
    if (auto v = cl.value(f.name)) {
      out.*f.field = parse(*v, f.name);
      any = true;
    }
  return any;
}

}  // namespace

spec::Resources update_resources(const CommandLine& cl, const std::string& resources_text) {
  if (cl.has("resources")) return with_default_devices(spec::parse_resources_json(resources_text, "--resources"));
  for (const char* unsupported : {"l3-cache-schema", "mem-bw-schema"})
    if (cl.has(unsupported)) fail(std::string("--") + unsupported, "Intel RDT is not supported");
  spec::Resources r;
  MemoryResources mem;
  if (set_fields(cl, mem, kMemoryFlags, parse_bytes)) r.memory = mem;
  CpuResources cpu;
  const bool counts = set_fields(cl, cpu, kCpuCounts, parse_unsigned);
  const bool signed_values = set_fields(cl, cpu, kCpuSigned, parse_int);
  cpu.cpus = cl.value("cpuset-cpus").value_or("");
  cpu.mems = cl.value("cpuset-mems").value_or("");
  if (counts || signed_values || !cpu.cpus.empty() || !cpu.mems.empty()) r.cpu = cpu;
  if (auto pids = cl.value("pids-limit")) r.pidsLimit = parse_int(*pids, "pids-limit");
  if (auto w = cl.value("blkio-weight")) {
    const uint64_t weight = parse_unsigned(*w, "blkio-weight");
    if (weight < 10 || weight > 1000) fail("--blkio-weight", "expects a weight from 10 to 1000");
    r.blockIO = spec::BlockIoResources{};
    r.blockIO->weight = static_cast<uint16_t>(weight);
  }
  return r;
}

}  // namespace agentrun
