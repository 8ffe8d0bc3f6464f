#include "runtime/cgroup/writes.hpp"

#include <algorithm>

#include "spec/error.hpp"

namespace agentrun {
namespace {

using spec::Resources;
using Writes = std::vector<CgroupWrite>;

const std::string kRes = "config.json: linux.resources.";

[[noreturn]] void bad(const std::string& field, const std::string& reason) { fail(kRes + field, reason); }

std::string num(int64_t v) { return std::to_string(v); }
std::string unum(uint64_t v) { return std::to_string(v); }
std::string dev(int64_t major, int64_t minor) { return num(major) + ":" + num(minor); }

// ---- cgroup v1 ----

void v1_memory(const spec::MemoryResources& m, uint64_t current_limit, Writes& w) {
  // runc treats 0 as unset for limit, swap and reservation.
  const int64_t limit = m.limit.value_or(0);
  int64_t swap = m.swap.value_or(0);
  if (limit == -1 && swap == 0) swap = -1;  // unlimited memory means unlimited memory+swap
  const CgroupWrite lw{"memory", "memory.limit_in_bytes", num(limit)};
  const CgroupWrite sw{"memory", "memory.memsw.limit_in_bytes", num(swap)};
  if (limit != 0 && swap != 0) {
    const bool swap_first = swap == -1 || current_limit < static_cast<uint64_t>(swap);
    w.push_back(swap_first ? sw : lw);
    w.push_back(swap_first ? lw : sw);
  } else {
    if (limit != 0) w.push_back(lw);
    if (swap != 0) w.push_back(sw);
  }
  if (m.reservation.value_or(0) != 0) w.push_back({"memory", "memory.soft_limit_in_bytes", num(*m.reservation)});
  if (m.swappiness) {
    if (*m.swappiness > 100) bad("memory.swappiness", unum(*m.swappiness) + " is out of range (0-100)");
    w.push_back({"memory", "memory.swappiness", unum(*m.swappiness)});
  }
  if (m.disableOOMKiller.value_or(false)) w.push_back({"memory", "memory.oom_control", "1"});
  if (m.kernel) w.push_back({"memory", "memory.kmem.limit_in_bytes", num(*m.kernel)});
  if (m.kernelTCP) w.push_back({"memory", "memory.kmem.tcp.limit_in_bytes", num(*m.kernelTCP)});
}

void v1_cpu(const spec::CpuResources& c, Writes& w) {
  if (c.shares.value_or(0) != 0) w.push_back({"cpu", "cpu.shares", unum(*c.shares)});
  // The period first: the kernel checks the quota against the current period.
  if (c.period.value_or(0) != 0) w.push_back({"cpu", "cpu.cfs_period_us", unum(*c.period)});
  if (c.quota.value_or(0) != 0) w.push_back({"cpu", "cpu.cfs_quota_us", num(*c.quota)});
  if (c.burst) w.push_back({"cpu", "cpu.cfs_burst_us", unum(*c.burst)});
  if (c.realtimePeriod.value_or(0) != 0) w.push_back({"cpu", "cpu.rt_period_us", unum(*c.realtimePeriod)});
  if (c.realtimeRuntime.value_or(0) != 0) w.push_back({"cpu", "cpu.rt_runtime_us", num(*c.realtimeRuntime)});
  if (c.idle) w.push_back({"cpu", "cpu.idle", num(*c.idle)});
  if (!c.cpus.empty()) w.push_back({"cpuset", "cpuset.cpus", c.cpus});
  if (!c.mems.empty()) w.push_back({"cpuset", "cpuset.mems", c.mems});
}

std::string pids_value(int64_t limit) { return limit > 0 ? num(limit) : "max"; }

void v1_blkio(const spec::BlockIoResources& b, Writes& w) {
  // 0 means unset, as runc reads it (docker sends a weight of 0).
  if (b.weight.value_or(0)) w.push_back({"blkio", "blkio.weight", unum(*b.weight)});
  if (b.leafWeight.value_or(0)) w.push_back({"blkio", "blkio.leaf_weight", unum(*b.leafWeight)});
  for (const auto& d : b.weightDevice)
    if (d.weight) w.push_back({"blkio", "blkio.weight_device", dev(d.major, d.minor) + " " + unum(*d.weight)});
  for (const auto& d : b.weightDevice)
    if (d.leafWeight)
      w.push_back({"blkio", "blkio.leaf_weight_device", dev(d.major, d.minor) + " " + unum(*d.leafWeight)});
  const std::pair<const std::vector<spec::ThrottleDevice>*, const char*> throttles[] = {
      {&b.throttleReadBpsDevice, "blkio.throttle.read_bps_device"},
      {&b.throttleWriteBpsDevice, "blkio.throttle.write_bps_device"},
      {&b.throttleReadIOPSDevice, "blkio.throttle.read_iops_device"},
      {&b.throttleWriteIOPSDevice, "blkio.throttle.write_iops_device"}};
  for (const auto& [list, file] : throttles)
    for (const auto& d : *list) w.push_back({"blkio", file, dev(d.major, d.minor) + " " + unum(d.rate)});
}

std::string rdma_value(const std::string& hca, const spec::RdmaLimit& l) {
  std::string v = hca;
  if (l.hcaHandles) v += " hca_handle=" + unum(*l.hcaHandles);
  if (l.hcaObjects) v += " hca_object=" + unum(*l.hcaObjects);
  return v;
}

void rdma(const Resources& r, Writes& w) {
  for (const auto& [hca, l] : r.rdma)
    if (l.hcaHandles || l.hcaObjects) w.push_back({"rdma", "rdma.max", rdma_value(hca, l)});
}

std::string device_rule_text(const spec::DeviceRule& d) {
  const auto wild = [](const std::optional<int64_t>& n) { return n ? num(*n) : std::string("*"); };
  return (d.type.empty() ? std::string("a") : d.type) + " " + wild(d.major) + ":" + wild(d.minor) + " " +
         (d.access.empty() ? std::string("rwm") : d.access);
}

// Starts from nothing allowed, then applies the rules in order, so that the
// result does not depend on what the cgroup allowed before.
void v1_devices(const std::vector<spec::DeviceRule>& rules, Writes& w) {
  if (rules.empty()) return;
  w.push_back({"devices", "devices.deny", "a"});
  for (const auto& d : rules)
    w.push_back({"devices", d.allow ? "devices.allow" : "devices.deny", device_rule_text(d)});
}

// ---- cgroup v2 ----

std::string max_or(int64_t v) { return v == -1 ? "max" : num(v); }

void v2_memory(const spec::MemoryResources& m, Writes& w) {
  const std::string f = "memory.";
  if (m.swappiness) bad(f + "swappiness", "is not available on cgroup v2");
  if (m.disableOOMKiller.value_or(false)) bad(f + "disableOOMKiller", "is not available on cgroup v2");
  // Docker sends kernel: 0 on every update. A value that asks for no limit
  // (0 or -1) is nothing to enforce; a limit is, and v2 cannot.
  if (m.kernel.value_or(0) > 0) bad(f + "kernel", "is not available on cgroup v2");
  if (m.kernelTCP.value_or(0) > 0) bad(f + "kernelTCP", "is not available on cgroup v2");
  const int64_t limit = m.limit.value_or(0);
  const int64_t swap = m.swap.value_or(0);
  if (limit < -1) bad(f + "limit", num(limit) + " is not a limit");
  if (swap < -1) bad(f + "swap", num(swap) + " is not a limit");
  if (limit != 0) w.push_back({"memory", "memory.max", max_or(limit)});
  // OCI swap is memory+swap; v2's memory.swap.max is swap alone.
  if (swap == -1) {
    w.push_back({"memory", "memory.swap.max", "max"});
  } else if (swap != 0) {
    if (limit == 0 || limit == -1) bad(f + "swap", "a swap limit needs a memory limit on cgroup v2");
    if (swap < limit) bad(f + "swap", num(swap) + " is below memory.limit " + num(limit) + " (swap counts memory+swap)");
    w.push_back({"memory", "memory.swap.max", num(swap - limit)});
  }
  if (m.reservation.value_or(0) != 0) w.push_back({"memory", "memory.low", max_or(*m.reservation)});
}

void v2_cpu(const spec::CpuResources& c, Writes& w) {
  const std::string f = "cpu.";
  if (c.realtimeRuntime.value_or(0) != 0) bad(f + "realtimeRuntime", "is not available on cgroup v2");
  if (c.realtimePeriod.value_or(0) != 0) bad(f + "realtimePeriod", "is not available on cgroup v2");
  if (c.shares.value_or(0) != 0) {
    if (*c.shares < 2 || *c.shares > 262144) bad(f + "shares", unum(*c.shares) + " is out of range (2-262144)");
    w.push_back({"cpu", "cpu.weight", unum(cpu_shares_to_weight(*c.shares))});
  }
  if (c.idle) w.push_back({"cpu", "cpu.idle", num(*c.idle)});
  const int64_t quota = c.quota.value_or(0);
  const uint64_t period = c.period.value_or(0);
  if (quota != 0 || period != 0) {
    // Without a period only the quota changes: the kernel keeps the period.
    std::string v = quota > 0 ? num(quota) : "max";
    if (period != 0) v += " " + unum(period);
    w.push_back({"cpu", "cpu.max", v});
  }
  if (c.burst) w.push_back({"cpu", "cpu.max.burst", unum(*c.burst)});
  if (!c.cpus.empty()) w.push_back({"cpuset", "cpuset.cpus", c.cpus});
  if (!c.mems.empty()) w.push_back({"cpuset", "cpuset.mems", c.mems});
}

// blkio's weight scale (10-1000), converted to io.weight's (1-10000).
std::string io_weight(const std::string& field, uint16_t weight) {
  if (weight < 10 || weight > 1000) bad(field, unum(weight) + " is out of range (10-1000)");
  return unum(blkio_weight_to_io_weight(weight));
}

void v2_io(const spec::BlockIoResources& b, Writes& w) {
  const std::string f = "blockIO.";
  if (b.leafWeight.value_or(0)) bad(f + "leafWeight", "is not available on cgroup v2");
  if (b.weight.value_or(0)) w.push_back({"io", "io.weight", "default " + io_weight(f + "weight", *b.weight)});
  for (const auto& d : b.weightDevice) {
    if (d.leafWeight) bad(f + "weightDevice.leafWeight", "is not available on cgroup v2");
    if (d.weight) w.push_back({"io", "io.weight", dev(d.major, d.minor) + " " + io_weight(f + "weightDevice.weight", *d.weight)});
  }
  // One io.max line per device with all of its limits.
  std::vector<std::pair<std::string, std::string>> lines;
  const auto add = [&](const std::vector<spec::ThrottleDevice>& list, const char* key) {
    for (const auto& d : list) {
      const std::string id = dev(d.major, d.minor);
      auto it = std::find_if(lines.begin(), lines.end(), [&](const auto& l) { return l.first == id; });
      if (it == lines.end()) it = lines.insert(lines.end(), {id, id});
      it->second += std::string(" ") + key + "=" + unum(d.rate);
    }
  };
  add(b.throttleReadBpsDevice, "rbps");
  add(b.throttleWriteBpsDevice, "wbps");
  add(b.throttleReadIOPSDevice, "riops");
  add(b.throttleWriteIOPSDevice, "wiops");
  for (const auto& l : lines) w.push_back({"io", "io.max", l.second});
}

void v2_unified(const std::map<std::string, std::string>& unified, Writes& w) {
  for (const auto& [key, value] : unified) {
    if (key.empty() || key == "." || key == ".." || key.find('/') != std::string::npos)
      bad("unified", "\"" + key + "\" is not a cgroup file name");
    const std::string prefix = key.substr(0, key.find('.'));
    w.push_back({prefix == "cgroup" || prefix == key ? "" : prefix, key, value});
  }
}

}  // namespace

uint64_t cpu_shares_to_weight(uint64_t shares) {
  return shares == 0 ? 0 : 1 + ((shares - 2) * 9999) / 262142;
}

uint64_t blkio_weight_to_io_weight(uint64_t weight) {
  return weight == 0 ? 0 : 1 + ((weight - 10) * 9999) / 990;
}

std::string resource_field_of(const std::string& controller) {
  static const std::map<std::string, std::string> fields = {
      {"memory", "memory"},   {"cpu", "cpu"},         {"cpuset", "cpu"},          {"pids", "pids"},
      {"blkio", "blockIO"},   {"io", "blockIO"},      {"hugetlb", "hugepageLimits"}, {"net_cls", "network"},
      {"net_prio", "network"}, {"rdma", "rdma"},      {"devices", "devices"}};
  const auto it = fields.find(controller);
  return "linux.resources." + (it == fields.end() ? std::string("unified") : it->second);
}

std::vector<CgroupWrite> v1_writes(const Resources& r, uint64_t current_memory_limit) {
  if (!r.unified.empty()) bad("unified", "needs cgroup v2");
  Writes w;
  if (r.memory) v1_memory(*r.memory, current_memory_limit, w);
  if (r.cpu) v1_cpu(*r.cpu, w);
  if (r.pidsLimit) w.push_back({"pids", "pids.max", pids_value(*r.pidsLimit)});
  if (r.blockIO) v1_blkio(*r.blockIO, w);
  for (const auto& h : r.hugepageLimits)
    w.push_back({"hugetlb", "hugetlb." + h.pageSize + ".limit_in_bytes", unum(h.limit)});
  if (r.network) {
    if (r.network->classID) w.push_back({"net_cls", "net_cls.classid", unum(*r.network->classID)});
    for (const auto& p : r.network->priorities)
      w.push_back({"net_prio", "net_prio.ifpriomap", p.name + " " + unum(p.priority)});
  }
  rdma(r, w);
  v1_devices(r.devices, w);
  return w;
}

std::vector<CgroupWrite> v2_writes(const Resources& r) {
  Writes w;
  if (r.network && (r.network->classID || !r.network->priorities.empty()))
    bad("network", "is not available on cgroup v2 (net_cls and net_prio are v1 controllers)");
  if (r.memory) v2_memory(*r.memory, w);
  if (r.cpu) v2_cpu(*r.cpu, w);
  if (r.pidsLimit) w.push_back({"pids", "pids.max", pids_value(*r.pidsLimit)});
  if (r.blockIO) v2_io(*r.blockIO, w);
  for (const auto& h : r.hugepageLimits) w.push_back({"hugetlb", "hugetlb." + h.pageSize + ".max", unum(h.limit)});
  rdma(r, w);
  // Last, so that explicit unified values override the translated ones.
  v2_unified(r.unified, w);
  return w;
}

}  // namespace agentrun
