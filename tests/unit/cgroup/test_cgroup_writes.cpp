#include <boost/test/unit_test.hpp>

#include <sstream>

#include "runtime/cgroup/writes.hpp"
#include "spec/error.hpp"
#include "support/checks.hpp"
#include "support/resources.hpp"

using namespace agentrun;
using spec::Resources;

namespace {

std::string show(const std::vector<CgroupWrite>& ws) {
  std::ostringstream out;
  for (const auto& w : ws) out << w.controller << "|" << w.file << "|" << w.value << "\n";
  return out.str();
}


}  // namespace

BOOST_AUTO_TEST_CASE(v1_full) {
  Resources r = full_resources();
  r.memory->swappiness = 10;
  r.memory->disableOOMKiller = true;
  r.memory->kernel = 1 << 20;
  r.memory->kernelTCP = 1 << 19;
  r.cpu->realtimePeriod = 1000000;
  r.cpu->realtimeRuntime = 950000;
  r.cpu->idle = 0;
  r.blockIO->leafWeight = 200;
  r.blockIO->weightDevice.push_back({8, 16, std::nullopt, 100});
  r.network = spec::NetworkResources{0x100001, {{"eth0", 5}, {"lo", 1}}};
  BOOST_TEST(show(v1_writes(r)) ==
             "memory|memory.limit_in_bytes|1048576\n"
             "memory|memory.memsw.limit_in_bytes|2097152\n"
             "memory|memory.soft_limit_in_bytes|524288\n"
             "memory|memory.swappiness|10\n"
             "memory|memory.oom_control|1\n"
             "memory|memory.kmem.limit_in_bytes|1048576\n"
             "memory|memory.kmem.tcp.limit_in_bytes|524288\n"
             "cpu|cpu.shares|1024\n"
             "cpu|cpu.cfs_period_us|100000\n"
             "cpu|cpu.cfs_quota_us|50000\n"
             "cpu|cpu.rt_period_us|1000000\n"
             "cpu|cpu.rt_runtime_us|950000\n"
             "cpu|cpu.idle|0\n"
             "cpuset|cpuset.cpus|0-1\n"
             "cpuset|cpuset.mems|0\n"
             "pids|pids.max|5\n"
             "blkio|blkio.weight|500\n"
             "blkio|blkio.leaf_weight|200\n"
             "blkio|blkio.weight_device|8:0 300\n"
             "blkio|blkio.leaf_weight_device|8:16 100\n"
             "blkio|blkio.throttle.read_bps_device|8:0 1000\n"
             "blkio|blkio.throttle.read_bps_device|8:16 2000\n"
             "blkio|blkio.throttle.write_bps_device|8:0 3000\n"
             "blkio|blkio.throttle.read_iops_device|8:16 40\n"
             "blkio|blkio.throttle.write_iops_device|8:0 50\n"
             "hugetlb|hugetlb.2MB.limit_in_bytes|4194304\n"
             "net_cls|net_cls.classid|1048577\n"
             "net_prio|net_prio.ifpriomap|eth0 5\n"
             "net_prio|net_prio.ifpriomap|lo 1\n"
             "rdma|rdma.max|mlx5_1 hca_handle=3 hca_object=4\n"
             "devices|devices.deny|a\n"
             "devices|devices.deny|a *:* rwm\n"
             "devices|devices.allow|c 1:3 rwm\n"
             "devices|devices.allow|c 136:* rw\n"
             "devices|devices.deny|a *:* rwm\n");
}

BOOST_AUTO_TEST_CASE(v1_memory_and_swap_order) {
  Resources r;
  r.memory = spec::MemoryResources{};
  r.memory->limit = 100;
  r.memory->swap = 200;
  // Raising above the current limit: memsw first, or the kernel refuses limit > memsw.
  BOOST_TEST(show(v1_writes(r, 50)) ==
             "memory|memory.memsw.limit_in_bytes|200\nmemory|memory.limit_in_bytes|100\n");
  BOOST_TEST(show(v1_writes(r, 500)) ==
             "memory|memory.limit_in_bytes|100\nmemory|memory.memsw.limit_in_bytes|200\n");
  BOOST_TEST(show(v1_writes(r)) == "memory|memory.limit_in_bytes|100\nmemory|memory.memsw.limit_in_bytes|200\n");
  r.memory->swap = -1;
  BOOST_TEST(show(v1_writes(r)) == "memory|memory.memsw.limit_in_bytes|-1\nmemory|memory.limit_in_bytes|100\n");
  // Unlimited memory without a swap value: memory+swap unlimited too.
  r.memory->limit = -1;
  r.memory->swap.reset();
  BOOST_TEST(show(v1_writes(r)) == "memory|memory.memsw.limit_in_bytes|-1\nmemory|memory.limit_in_bytes|-1\n");
  r.memory->limit.reset();
  r.memory->swap = 300;
  BOOST_TEST(show(v1_writes(r)) == "memory|memory.memsw.limit_in_bytes|300\n");
}

BOOST_AUTO_TEST_CASE(v1_pids_and_unset_values) {
  Resources r;
  r.pidsLimit = 0;
  BOOST_TEST(show(v1_writes(r)) == "pids|pids.max|max\n");
  r.pidsLimit = -1;
  BOOST_TEST(show(v1_writes(r)) == "pids|pids.max|max\n");
  r.pidsLimit.reset();
  r.memory = spec::MemoryResources{};
  r.cpu = spec::CpuResources{};
  r.memory->disableOOMKiller = false;
  BOOST_TEST(show(v1_writes(r)) == "");
  BOOST_TEST(show(v1_writes(Resources{})) == "");
}

BOOST_AUTO_TEST_CASE(v1_errors) {
  Resources r;
  r.memory = spec::MemoryResources{};
  r.memory->swappiness = 200;
  expect_failure([&] { v1_writes(r); },
                 "config.json: linux.resources.memory.swappiness: 200 is out of range (0-100)");
  Resources u;
  u.unified = {{"memory.high", "100"}};
  expect_failure([&] { v1_writes(u); }, "config.json: linux.resources.unified: needs cgroup v2");
}

BOOST_AUTO_TEST_CASE(v2_full) {
  Resources r = full_resources();
  r.cpu->idle = 1;
  r.cpu->burst = 1000;
  r.unified = {{"memory.high", "900000"}, {"cgroup.max.depth", "3"}};
  BOOST_TEST(show(v2_writes(r)) ==
             "memory|memory.max|1048576\n"
             "memory|memory.swap.max|1048576\n"
             "memory|memory.low|524288\n"
             "cpu|cpu.weight|39\n"
             "cpu|cpu.idle|1\n"
             "cpu|cpu.max|50000 100000\n"
             "cpu|cpu.max.burst|1000\n"
             "cpuset|cpuset.cpus|0-1\n"
             "cpuset|cpuset.mems|0\n"
             "pids|pids.max|5\n"
             "io|io.weight|default 4950\n"
             "io|io.weight|8:0 2930\n"
             "io|io.max|8:0 rbps=1000 wbps=3000 wiops=50\n"
             "io|io.max|8:16 rbps=2000 riops=40\n"
             "hugetlb|hugetlb.2MB.max|4194304\n"
             "rdma|rdma.max|mlx5_1 hca_handle=3 hca_object=4\n"
             "|cgroup.max.depth|3\n"
             "memory|memory.high|900000\n");
}

BOOST_AUTO_TEST_CASE(v2_conversions) {
  BOOST_TEST(cpu_shares_to_weight(0) == 0u);
  BOOST_TEST(cpu_shares_to_weight(2) == 1u);
  BOOST_TEST(cpu_shares_to_weight(1024) == 39u);
  BOOST_TEST(cpu_shares_to_weight(262144) == 10000u);
  BOOST_TEST(blkio_weight_to_io_weight(10) == 1u);
  BOOST_TEST(blkio_weight_to_io_weight(1000) == 10000u);
  Resources r;
  r.memory = spec::MemoryResources{};
  r.memory->limit = -1;
  r.memory->swap = -1;
  BOOST_TEST(show(v2_writes(r)) == "memory|memory.max|max\nmemory|memory.swap.max|max\n");
  r.memory->limit = 100;
  r.memory->swap = 100;  // memory+swap == memory: no swap at all
  BOOST_TEST(show(v2_writes(r)) == "memory|memory.max|100\nmemory|memory.swap.max|0\n");
  Resources c;
  c.cpu = spec::CpuResources{};
  c.cpu->quota = -1;
  BOOST_TEST(show(v2_writes(c)) == "cpu|cpu.max|max\n");
  c.cpu->quota.reset();
  c.cpu->period = 20000;
  BOOST_TEST(show(v2_writes(c)) == "cpu|cpu.max|max 20000\n");
  c.cpu->period.reset();
  c.cpu->quota = 30000;
  BOOST_TEST(show(v2_writes(c)) == "cpu|cpu.max|30000\n");
  Resources d;  // device rules are a BPF program on v2, not files
  d.devices = {{true, "c", 1, 3, "rwm"}};
  BOOST_TEST(show(v2_writes(d)) == "");
}

BOOST_AUTO_TEST_CASE(v2_errors) {
  const std::string f = "config.json: linux.resources.";
  const auto mem = [](auto set) {
    Resources r;
    r.memory = spec::MemoryResources{};
    set(*r.memory);
    return r;
  };
  const auto fails = [&](const Resources& r, const std::string& text) { expect_failure([&] { v2_writes(r); }, f + text); };
  fails(mem([](auto& m) { m.swappiness = 10; }), "memory.swappiness: is not available on cgroup v2");
  fails(mem([](auto& m) { m.disableOOMKiller = true; }), "memory.disableOOMKiller: is not available on cgroup v2");
  fails(mem([](auto& m) { m.kernel = 1; }), "memory.kernel: is not available on cgroup v2");
  fails(mem([](auto& m) { m.kernelTCP = 1; }), "memory.kernelTCP: is not available on cgroup v2");
  // What Docker sends on every update: no kernel limit, nothing written.
  BOOST_TEST(v2_writes(mem([](auto& m) { m.kernel = 0, m.kernelTCP = -1; })).empty());
  fails(mem([](auto& m) { m.swap = 100; }), "memory.swap: a swap limit needs a memory limit on cgroup v2");
  fails(mem([](auto& m) { m.limit = 200, m.swap = 100; }),
        "memory.swap: 100 is below memory.limit 200 (swap counts memory+swap)");
  Resources rt;
  rt.cpu = spec::CpuResources{};
  rt.cpu->realtimeRuntime = 1000;
  fails(rt, "cpu.realtimeRuntime: is not available on cgroup v2");
  rt.cpu->realtimeRuntime.reset();
  rt.cpu->realtimePeriod = 1000;
  fails(rt, "cpu.realtimePeriod: is not available on cgroup v2");
  Resources sh;
  sh.cpu = spec::CpuResources{};
  sh.cpu->shares = 1;
  fails(sh, "cpu.shares: 1 is out of range (2-262144)");
  Resources net;
  net.network = spec::NetworkResources{7, {}};
  fails(net, "network: is not available on cgroup v2 (net_cls and net_prio are v1 controllers)");
  Resources leaf;
  leaf.blockIO = spec::BlockIoResources{};
  leaf.blockIO->leafWeight = 10;
  fails(leaf, "blockIO.leafWeight: is not available on cgroup v2");
  leaf.blockIO->leafWeight.reset();
  leaf.blockIO->weight = 5;
  fails(leaf, "blockIO.weight: 5 is out of range (10-1000)");
  for (const char* key : {"../x", "a/b", "..", ""}) {
    Resources u;
    u.unified = {{key, "1"}};
    fails(u, std::string("unified: \"") + key + "\" is not a cgroup file name");
  }
}

BOOST_AUTO_TEST_CASE(fields_for_messages) {
  BOOST_TEST(resource_field_of("net_cls") == "linux.resources.network");
  BOOST_TEST(resource_field_of("cpuset") == "linux.resources.cpu");
  BOOST_TEST(resource_field_of("hugetlb") == "linux.resources.hugepageLimits");
  BOOST_TEST(resource_field_of("io") == "linux.resources.blockIO");
}

// Docker sends a block IO weight of 0: unset, as runc reads it, on both versions.
BOOST_AUTO_TEST_CASE(zero_block_io_weight_is_unset) {
  spec::Resources r;
  r.blockIO = spec::BlockIoResources{};
  r.blockIO->weight = 0;
  r.blockIO->leafWeight = 0;
  BOOST_TEST(v1_writes(r).empty());
  BOOST_TEST(v2_writes(r).empty());
  r.blockIO->weight = 500;
  BOOST_TEST(v1_writes(r).size() == 1u);
  BOOST_TEST(v2_writes(r).size() == 1u);
}
