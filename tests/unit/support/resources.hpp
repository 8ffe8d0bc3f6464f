#pragma once
// linux.resources with a value in most fields, for the tests of what
// becomes of them (cgroup files, systemd properties).

#include "spec/config.hpp"

namespace agentrun {

inline spec::Resources full_resources() {
  spec::Resources r;
  r.devices = {{false, "a", std::nullopt, std::nullopt, "rwm"},
               {true, "c", 1, 3, "rwm"},
               {true, "c", 136, std::nullopt, "rw"},
               {false, "", std::nullopt, std::nullopt, ""}};
  spec::MemoryResources m;
  m.limit = 1 << 20;
  m.swap = 2 << 20;
  m.reservation = 512 << 10;
  r.memory = m;
  spec::CpuResources c;
  c.shares = 1024;
  c.quota = 50000;
  c.period = 100000;
  c.cpus = "0-1";
  c.mems = "0";
  r.cpu = c;
  r.pidsLimit = 5;
  spec::BlockIoResources b;
  b.weight = 500;
  b.weightDevice = {{8, 0, 300, std::nullopt}};
  b.throttleReadBpsDevice = {{8, 0, 1000}, {8, 16, 2000}};
  b.throttleWriteBpsDevice = {{8, 0, 3000}};
  b.throttleReadIOPSDevice = {{8, 16, 40}};
  b.throttleWriteIOPSDevice = {{8, 0, 50}};
  r.blockIO = b;
  r.hugepageLimits = {{"2MB", 4194304}};
  r.rdma = {{"mlx5_1", {3, 4}}};
  return r;
}

}  // namespace agentrun
