#include "runtime/cgroup/systemd_properties.hpp"

#include <algorithm>
#include <charconv>
#include <limits>
#include <map>
#include <optional>

#include "runtime/cgroup/writes.hpp"
#include "spec/error.hpp"

namespace agentrun {
namespace {

using Props = std::vector<UnitProperty>;

const std::string kRes = "config.json: linux.resources.";
constexpr uint64_t kDefaultCpuPeriod = 100000;  // the kernel's, in µs
constexpr unsigned kMaxCpusetNumber = 8192;     // the kernel's largest NR_CPUS
// Versions of systemd that first took a property.
constexpr int kCpuQuotaPeriodSince = 242, kAllowedCpusSince = 244, kCpuIdleSince = 252;

[[noreturn]] void bad(const std::string& field, const std::string& reason) { fail(kRes + field, reason); }

UnitProperty t(std::string name, uint64_t v) { return {std::move(name), "t", {v}}; }
UnitProperty b(std::string name, bool v) { return {std::move(name), "b", {v}}; }

// -1 is unlimited in OCI; systemd's unlimited is UINT64_MAX.
uint64_t limit_value(int64_t v, const std::string& field) {
  if (v < -1) bad(field, std::to_string(v) + " is not a limit");
  return v == -1 ? kSystemdInfinity : static_cast<uint64_t>(v);
}

PropertyValue bitmask_value(const std::vector<uint8_t>& mask) {
  std::vector<PropertyValue> bytes;
  for (uint8_t byte : mask) bytes.push_back({uint64_t{byte}});
  return {std::move(bytes)};
}

// IODeviceWeight, IOReadBandwidthMax ...: a(st) of device path and value.
// systemd finds the device by its path; /dev/block/MAJOR:MINOR names it by number.
template <class List, class Value>
void device_list(Props& p, const std::string& name, const List& list, Value value) {
  std::vector<PropertyValue> entries;
  for (const auto& d : list) {
    const std::string path = "/dev/block/" + std::to_string(d.major) + ":" + std::to_string(d.minor);
    if (auto v = value(d)) entries.push_back({std::vector<PropertyValue>{{path}, {*v}}});
  }
  if (!entries.empty()) p.push_back({name, "a(st)", {std::move(entries)}});
}

// CPUQuotaPerSecUSec (and CPUQuotaPeriodUSec), rounded up to whole percent
// of a CPU as systemd keeps it.
void cpu_quota(Props& p, int64_t quota, uint64_t period, int version) {
  if (period != 0 && version >= kCpuQuotaPeriodSince) p.push_back(t("CPUQuotaPeriodUSec", period));
  if (quota == 0 && period == 0) return;
  uint64_t per_sec = kSystemdInfinity;
  if (quota > 0) {
    if (static_cast<uint64_t>(quota) > kSystemdInfinity / kUsecPerSec) bad("cpu.quota", std::to_string(quota) + " is too large");
    per_sec = static_cast<uint64_t>(quota) * kUsecPerSec / (period == 0 ? kDefaultCpuPeriod : period);
    per_sec = (per_sec + 9999) / 10000 * 10000;
    if (per_sec == 0) bad("cpu.quota", std::to_string(quota) + " is below what systemd can express (1% of a CPU)");
  }
  p.push_back(t("CPUQuotaPerSecUSec", per_sec));
}

void cpuset(Props& p, const spec::CpuResources& c, int version) {
  const auto cpus = c.cpus.empty() ? std::vector<uint8_t>{} : cpuset_bitmask(c.cpus, kRes + "cpu.cpus");
  const auto mems = c.mems.empty() ? std::vector<uint8_t>{} : cpuset_bitmask(c.mems, kRes + "cpu.mems");
  if (version < kAllowedCpusSince) return;
  if (!cpus.empty()) p.push_back({"AllowedCPUs", "ay", bitmask_value(cpus)});
  if (!mems.empty()) p.push_back({"AllowedMemoryNodes", "ay", bitmask_value(mems)});
}

// pids.max: agentrun's files take 0 and below as unlimited (cgroup_writes),
// so systemd is told the same.
uint64_t tasks_max(int64_t limit) { return limit > 0 ? static_cast<uint64_t>(limit) : kSystemdInfinity; }

void v1_properties(const spec::Resources& r, Props& p, int version) {
  if (r.memory && r.memory->limit.value_or(0) != 0)
    p.push_back(t("MemoryLimit", limit_value(*r.memory->limit, "memory.limit")));
  if (r.cpu) {
    if (r.cpu->shares.value_or(0) != 0) p.push_back(t("CPUShares", *r.cpu->shares));
    cpu_quota(p, r.cpu->quota.value_or(0), r.cpu->period.value_or(0), version);
    cpuset(p, *r.cpu, version);
  }
  if (r.pidsLimit) p.push_back(t("TasksMax", tasks_max(*r.pidsLimit)));
  if (r.blockIO) {
    const auto& io = *r.blockIO;
    if (io.weight.value_or(0) != 0) p.push_back(t("BlockIOWeight", *io.weight));
    device_list(p, "BlockIODeviceWeight", io.weightDevice,
                [](const spec::WeightDevice& d) { return d.weight ? std::optional<uint64_t>(*d.weight) : std::nullopt; });
    const auto rate = [](const spec::ThrottleDevice& d) { return std::optional<uint64_t>(d.rate); };
    device_list(p, "BlockIOReadBandwidth", io.throttleReadBpsDevice, rate);
    device_list(p, "BlockIOWriteBandwidth", io.throttleWriteBpsDevice, rate);
  }
}

// OCI swap is memory+swap; MemorySwapMax is swap alone (runc's rules).
void v2_swap(Props& p, int64_t limit, int64_t swap) {
  const std::string f = "memory.swap";
  if (limit == -1 && swap == 0) swap = -1;  // unlimited memory means unlimited swap too
  if (swap == 0) return;
  if (swap == -1 || limit == -1) {
    p.push_back(t("MemorySwapMax", limit_value(swap, f)));
    return;
  }
  if (limit == 0) bad(f, "a swap limit needs a memory limit on cgroup v2");
  if (swap < limit) bad(f, std::to_string(swap) + " is below memory.limit " + std::to_string(limit) + " (swap counts memory+swap)");
  p.push_back(t("MemorySwapMax", static_cast<uint64_t>(swap - limit)));
}

uint64_t io_weight(uint16_t weight, const std::string& field) {
  if (weight < 10 || weight > 1000) bad(field, std::to_string(weight) + " is out of range (10-1000)");
  return blkio_weight_to_io_weight(weight);
}

std::string trimmed(const std::string& s) {
  const auto first = s.find_first_not_of(" \t\n");
  return first == std::string::npos ? "" : s.substr(first, s.find_last_not_of(" \t\n") - first + 1);
}

uint64_t unified_number(const std::string& key, const std::string& text, bool max_allowed) {
  if (max_allowed && text == "max") return kSystemdInfinity;
  uint64_t v = 0;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
  if (ec != std::errc() || end != text.data() + text.size() || text.empty())
    bad("unified[\"" + key + "\"]", "\"" + text + "\" is not a number" + (max_allowed ? " or \"max\"" : ""));
  return v;
}

// The unified files systemd has properties for, as runc maps them; the
// others are written to the files only.
void unified_properties(Props& p, const std::map<std::string, std::string>& unified, int version) {
  for (const auto& [key, raw] : unified) {
    const std::string v = trimmed(raw);
    static const std::map<std::string, std::string> memory = {{"memory.high", "MemoryHigh"},
                                                              {"memory.low", "MemoryLow"},
                                                              {"memory.min", "MemoryMin"},
                                                              {"memory.max", "MemoryMax"},
                                                              {"memory.swap.max", "MemorySwapMax"}};
    if (auto it = memory.find(key); it != memory.end()) {
      p.push_back(t(it->second, unified_number(key, v, true)));
    } else if (key == "pids.max") {
      p.push_back(t("TasksMax", std::max<uint64_t>(1, unified_number(key, v, true))));  // systemd refuses 0
    } else if (key == "cpu.weight") {
      p.push_back(t("CPUWeight", unified_number(key, v, false)));
    } else if (key == "cpu.idle") {
      if (v == "1" && version >= kCpuIdleSince) p.push_back(t("CPUWeight", 0));  // systemd's way to say idle
    } else if (key == "cpu.max") {
      const auto space = v.find(' ');
      const std::string quota = v.substr(0, space);
      const uint64_t period = space == std::string::npos ? kDefaultCpuPeriod : unified_number(key, trimmed(v.substr(space)), false);
      const uint64_t q = unified_number(key, quota, true);
      if (q != kSystemdInfinity && q > static_cast<uint64_t>(std::numeric_limits<int64_t>::max()))
        bad("unified[\"cpu.max\"]", quota + " is too large");
      cpu_quota(p, q == kSystemdInfinity ? 0 : static_cast<int64_t>(q), period, version);
    } else if (key == "cpuset.cpus" || key == "cpuset.mems") {
      const auto mask = cpuset_bitmask(v, kRes + "unified[\"" + key + "\"]");
      if (version >= kAllowedCpusSince)
        p.push_back({key == "cpuset.cpus" ? "AllowedCPUs" : "AllowedMemoryNodes", "ay", bitmask_value(mask)});
    }
  }
}

void v2_properties(const spec::Resources& r, Props& p, int version) {
  if (r.memory) {
    const int64_t limit = r.memory->limit.value_or(0);
    if (limit != 0) p.push_back(t("MemoryMax", limit_value(limit, "memory.limit")));
    if (r.memory->reservation.value_or(0) != 0)
      p.push_back(t("MemoryLow", limit_value(*r.memory->reservation, "memory.reservation")));
    v2_swap(p, limit, r.memory->swap.value_or(0));
  }
  if (r.cpu) {
    const auto& c = *r.cpu;
    if (c.idle.value_or(0) == 1 && version >= kCpuIdleSince) {
      p.push_back(t("CPUWeight", 0));  // systemd's way to say idle; shares cannot apply then
    } else if (c.shares.value_or(0) != 0) {
      if (*c.shares < 2 || *c.shares > 262144) bad("cpu.shares", std::to_string(*c.shares) + " is out of range (2-262144)");
      p.push_back(t("CPUWeight", cpu_shares_to_weight(*c.shares)));
    }
    cpu_quota(p, c.quota.value_or(0), c.period.value_or(0), version);
    cpuset(p, c, version);
  }
  if (r.pidsLimit) p.push_back(t("TasksMax", tasks_max(*r.pidsLimit)));
  if (r.blockIO) {
    const auto& io = *r.blockIO;
    if (io.weight.value_or(0) != 0) p.push_back(t("IOWeight", io_weight(*io.weight, "blockIO.weight")));
    device_list(p, "IODeviceWeight", io.weightDevice, [](const spec::WeightDevice& d) {
      return d.weight ? std::optional<uint64_t>(io_weight(*d.weight, "blockIO.weightDevice.weight")) : std::nullopt;
    });
    const auto rate = [](const spec::ThrottleDevice& d) { return std::optional<uint64_t>(d.rate); };
    device_list(p, "IOReadBandwidthMax", io.throttleReadBpsDevice, rate);
    device_list(p, "IOWriteBandwidthMax", io.throttleWriteBpsDevice, rate);
    device_list(p, "IOReadIOPSMax", io.throttleReadIOPSDevice, rate);
    device_list(p, "IOWriteIOPSMax", io.throttleWriteIOPSDevice, rate);
  }
  unified_properties(p, r.unified, version);
}

}  // namespace

std::vector<UnitProperty> accounting_properties(CgroupMode mode) {
  return {b("MemoryAccounting", true), b("CPUAccounting", true),
          b(mode == CgroupMode::v2 ? "IOAccounting" : "BlockIOAccounting", true), b("TasksAccounting", true)};
}

std::vector<UnitProperty> resource_properties(const spec::Resources& r, CgroupMode mode, int systemd_version) {
  Props p;
  if (mode == CgroupMode::v2) v2_properties(r, p, systemd_version);
  else v1_properties(r, p, systemd_version);
  return p;
}

void round_cpu_quota_for_systemd(spec::Resources& r) {
  if (!r.cpu || r.cpu->quota.value_or(0) <= 0) return;
  const uint64_t period = r.cpu->period.value_or(0) == 0 ? kDefaultCpuPeriod : *r.cpu->period;
  Props p;
  cpu_quota(p, *r.cpu->quota, period, 0);
  const uint64_t per_sec = std::get<uint64_t>(p.back().value.v);
  // per_sec * period never exceeds quota * 10^6 + 10^4 * period: no overflow for sane periods.
  if (period > kSystemdInfinity / per_sec) bad("cpu.period", std::to_string(period) + " is too large");
  r.cpu->quota = static_cast<int64_t>(per_sec * period / kUsecPerSec);
}

std::vector<uint8_t> cpuset_bitmask(const std::string& text, const std::string& field) {
  std::vector<uint8_t> mask;
  const auto number = [&](const std::string& s) {
    unsigned v = 0;
    const auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
    if (s.empty() || ec != std::errc() || end != s.data() + s.size())
      fail(field, "\"" + text + "\" is not a list of numbers and ranges (\"0-3,5\")");
    if (v >= kMaxCpusetNumber) fail(field, "\"" + text + "\": " + s + " is beyond the largest number (8191)");
    return v;
  };
  for (size_t at = 0; at <= text.size();) {
    size_t comma = text.find(',', at);
    if (comma == std::string::npos) comma = text.size();
    const std::string item = trimmed(text.substr(at, comma - at));
    at = comma + 1;
    if (item.empty()) continue;  // as runc, stray commas are allowed
    const auto dash = item.find('-');
    const unsigned first = number(trimmed(item.substr(0, dash)));
    const unsigned last = dash == std::string::npos ? first : number(trimmed(item.substr(dash + 1)));
    if (first > last) fail(field, "\"" + text + "\": the range " + item + " runs backwards");
    if (mask.size() <= last / 8) mask.resize(last / 8 + 1);
    for (unsigned n = first; n <= last; ++n) mask[n / 8] |= static_cast<uint8_t>(1u << (n % 8));
  }
  if (mask.empty()) fail(field, "\"" + text + "\" names no CPU or memory node");
  return mask;
}

}  // namespace agentrun
