#pragma once
// systemd unit properties for --systemd-cgroup: linux.resources as runc's
// systemd drivers set them (the org.systemd.property.<Name> annotations are
// in systemd_annotations.hpp).
//
// The limits are written to the cgroup files as well (writes.hpp);
// the properties keep systemd's view of the unit the same, so that it does
// not put its defaults back when it re-applies the unit (daemon-reload,
// set-property). What systemd cannot express is only in the files:
// memory swappiness, kernel, kernelTCP, disableOOMKiller; cpu burst,
// realtime, idle 0 (and idle 1 before systemd 252); leaf weights and IOPS
// limits on v1; hugepage, network, rdma; unified files other than those
// unified_properties knows; AllowedCPUs/AllowedMemoryNodes before systemd
// 244 and CPUQuotaPeriodUSec before 242. Device rules are never properties:
// agentrun's own device rules (devices.* files on v1, its BPF program on
// v2) are the only ones; with DevicePolicy/DeviceAllow systemd would add
// an approximation of them (runc's drops "*:n" rules and turns a deny list
// into deny-all) that re-appears at each re-apply.

#include <cstdint>
#include <string>
#include <variant>
#include <vector>

#include "runtime/cgroup/layout.hpp"
#include "spec/config.hpp"

namespace agentrun {

// A D-Bus value as JSON carries it to agentrun-systemd: arrays and structs
// are lists.
struct PropertyValue {
  std::variant<bool, int64_t, uint64_t, double, std::string, std::vector<PropertyValue>> v;
  bool operator==(const PropertyValue&) const = default;
};

struct UnitProperty {
  std::string name;   // "MemoryMax"
  std::string type;   // its D-Bus signature: "t", "ay", "a(st)"
  PropertyValue value;
  bool operator==(const UnitProperty&) const = default;
};

// "infinity" for the 64-bit limits (systemd's USEC_INFINITY, CGROUP_LIMIT_MAX).
inline constexpr uint64_t kSystemdInfinity = UINT64_MAX;
// systemd's times are in microseconds.
inline constexpr uint64_t kUsecPerSec = 1000000;

// The properties runc sets on every container unit: accounting on for each
// controller (BlockIOAccounting on v1 and hybrid, IOAccounting on v2).
std::vector<UnitProperty> accounting_properties(CgroupMode mode);

// linux.resources as properties. `mode` v1 and hybrid give runc's v1
// properties (MemoryLimit, CPUShares, BlockIOWeight ...), v2 its v2 ones
// (MemoryMax, MemoryLow, MemorySwapMax, CPUWeight, IOWeight ...);
// `systemd_version` (probe) leaves out what that systemd does not know.
// Throws Failure naming the field for values that cannot be expressed.
// Call round_cpu_quota_for_systemd first, so that the files get the quota
// systemd keeps.
std::vector<UnitProperty> resource_properties(const spec::Resources& r, CgroupMode mode, int systemd_version);

// systemd keeps a CPU quota as whole percent of a CPU (CPUQuotaPerSecUSec
// in steps of 10 ms): as runc does, round cpu.quota up to that step.
void round_cpu_quota_for_systemd(spec::Resources& r);

// cpuset text ("0-3,5") as the bitmask systemd takes for AllowedCPUs and
// AllowedMemoryNodes (byte i bit j = number 8i+j). Throws Failure naming
// `field` for malformed text or numbers of 8192 and above.
std::vector<uint8_t> cpuset_bitmask(const std::string& text, const std::string& field);

}  // namespace agentrun
