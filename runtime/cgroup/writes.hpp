#pragma once
// linux.resources as the list of cgroup files to write, in order, with
// runc's semantics. Pure: the cgroup manager routes each write to the
// directory of its controller.

#include <cstdint>
#include <limits>
#include <string>
#include <vector>

#include "spec/config.hpp"

namespace agentrun {

struct CgroupWrite {
  std::string controller;  // "memory", "cpu", ...; "" for core cgroup files (cgroup.*)
  std::string file;        // "memory.limit_in_bytes"
  std::string value;

  bool operator==(const CgroupWrite&) const = default;
};

// cgroup v1. `current_memory_limit` is memory.limit_in_bytes now: when both
// limit and swap are set, memory.memsw.limit_in_bytes goes first if the
// new swap exceeds it (the kernel keeps limit <= memsw at every step).
// Throws Failure naming the config field for values v1 cannot take.
std::vector<CgroupWrite> v1_writes(const spec::Resources& r,
                                   uint64_t current_memory_limit = std::numeric_limits<uint64_t>::max());

// cgroup v2. Device rules are not files there (see device_bpf.hpp) and are
// left out. Throws Failure naming the config field for values v2 cannot take.
std::vector<CgroupWrite> v2_writes(const spec::Resources& r);

// cpu.shares (2..262144) to cpu.weight (1..10000); 0 stays 0 (unset).
uint64_t cpu_shares_to_weight(uint64_t shares);
// blkio weight (10..1000) to io.weight (1..10000); 0 stays 0 (unset).
uint64_t blkio_weight_to_io_weight(uint64_t weight);

// The config field a controller's writes come from, for messages:
// "linux.resources.network" for "net_cls".
std::string resource_field_of(const std::string& controller);

}  // namespace agentrun
