#include <boost/test/unit_test.hpp>

#include <sstream>

#include "runtime/cgroup/systemd_annotations.hpp"
#include "runtime/cgroup/systemd_properties.hpp"
#include "support/checks.hpp"
#include "support/resources.hpp"

using namespace agentrun;
using spec::Resources;

namespace {

constexpr uint64_t kInf = kSystemdInfinity;
constexpr int kNew = 252, kOld = 241;

std::string show(const PropertyValue& v) {
  std::ostringstream out;
  std::visit(
      [&](const auto& x) {
        using T = std::decay_t<decltype(x)>;
        if constexpr (std::is_same_v<T, bool>) out << (x ? "true" : "false");
        else if constexpr (std::is_same_v<T, std::string>) out << "'" << x << "'";
        else if constexpr (std::is_same_v<T, std::vector<PropertyValue>>) {
          out << "[";
          for (size_t i = 0; i < x.size(); ++i) out << (i ? "," : "") << show(x[i]);
          out << "]";
        } else {
          out << x;
        }
      },
      v.v);
  return out.str();
}

// "Name type value" lines, in order.
std::string show(const std::vector<UnitProperty>& props) {
  std::string out;
  for (const auto& p : props) out += p.name + " " + p.type + " " + show(p.value) + "\n";
  return out;
}


}  // namespace

// Devices, hugepages and rdma in full_resources() are files only: no property.
BOOST_AUTO_TEST_CASE(v2_properties_as_runc_sets_them) {
  BOOST_TEST(show(resource_properties(full_resources(), CgroupMode::v2, kNew)) ==
             "MemoryMax t 1048576\n"
             "MemoryLow t 524288\n"
             "MemorySwapMax t 1048576\n"  // OCI swap is memory+swap
             "CPUWeight t 39\n"           // cpu_shares_to_weight(1024)
             "CPUQuotaPeriodUSec t 100000\n"
             "CPUQuotaPerSecUSec t 500000\n"
             "AllowedCPUs ay [3]\n"
             "AllowedMemoryNodes ay [1]\n"
             "TasksMax t 5\n"
             "IOWeight t 4950\n"  // blkio_weight_to_io_weight(500)
             "IODeviceWeight a(st) [['/dev/block/8:0',2930]]\n"
             "IOReadBandwidthMax a(st) [['/dev/block/8:0',1000],['/dev/block/8:16',2000]]\n"
             "IOWriteBandwidthMax a(st) [['/dev/block/8:0',3000]]\n"
             "IOReadIOPSMax a(st) [['/dev/block/8:16',40]]\n"
             "IOWriteIOPSMax a(st) [['/dev/block/8:0',50]]\n");
}

BOOST_AUTO_TEST_CASE(v1_properties_as_runc_sets_them) {
  // Hybrid hosts use the v1 controllers, and so runc's v1 properties;
  // swap, reservation and IOPS limits are files only there.
  for (auto mode : {CgroupMode::v1, CgroupMode::hybrid})
    BOOST_TEST(show(resource_properties(full_resources(), mode, kNew)) ==
               "MemoryLimit t 1048576\n"
               "CPUShares t 1024\n"
               "CPUQuotaPeriodUSec t 100000\n"
               "CPUQuotaPerSecUSec t 500000\n"
               "AllowedCPUs ay [3]\n"
               "AllowedMemoryNodes ay [1]\n"
               "TasksMax t 5\n"
               "BlockIOWeight t 500\n"
               "BlockIODeviceWeight a(st) [['/dev/block/8:0',300]]\n"
               "BlockIOReadBandwidth a(st) [['/dev/block/8:0',1000],['/dev/block/8:16',2000]]\n"
               "BlockIOWriteBandwidth a(st) [['/dev/block/8:0',3000]]\n");
}

BOOST_AUTO_TEST_CASE(an_old_systemd_gets_what_it_knows) {
  // CPUQuotaPeriodUSec came with 242, AllowedCPUs with 244: the files carry them.
  BOOST_TEST(show(resource_properties(full_resources(), CgroupMode::v2, kOld)).find("CPUQuotaPeriodUSec") == std::string::npos);
  BOOST_TEST(show(resource_properties(full_resources(), CgroupMode::v2, kOld)).find("Allowed") == std::string::npos);
  // ... but bad cpusets are refused whatever the version.
  Resources r;
  r.cpu = spec::CpuResources{};
  r.cpu->cpus = "3-1";
  expect_failure([&] { resource_properties(r, CgroupMode::v2, kOld); },
                 "config.json: linux.resources.cpu.cpus: \"3-1\": the range 3-1 runs backwards");
}

BOOST_AUTO_TEST_CASE(unlimited_values) {
  Resources r;
  r.memory = spec::MemoryResources{};
  r.memory->limit = -1;
  r.pidsLimit = 0;  // agentrun's files take 0 as unlimited too
  r.cpu = spec::CpuResources{};
  r.cpu->quota = -1;
  BOOST_TEST(show(resource_properties(r, CgroupMode::v2, kNew)) ==
             "MemoryMax t " + std::to_string(kInf) + "\n" +  //
             "MemorySwapMax t " + std::to_string(kInf) + "\n" +  // unlimited memory means unlimited swap
             "CPUQuotaPerSecUSec t " + std::to_string(kInf) + "\n" +  //
             "TasksMax t " + std::to_string(kInf) + "\n");
}

BOOST_AUTO_TEST_CASE(swap_rules_on_v2) {
  const auto with = [](int64_t limit, int64_t swap) {
    Resources r;
    r.memory = spec::MemoryResources{};
    r.memory->limit = limit;
    r.memory->swap = swap;
    return r;
  };
  BOOST_TEST(show(resource_properties(with(-1, 100), CgroupMode::v2, kNew)) ==
             "MemoryMax t " + std::to_string(kInf) + "\nMemorySwapMax t 100\n");
  BOOST_TEST(show(resource_properties(with(100, -1), CgroupMode::v2, kNew)) ==
             "MemoryMax t 100\nMemorySwapMax t " + std::to_string(kInf) + "\n");
  const std::string f = "config.json: linux.resources.memory.swap: ";
  expect_failure([&] { resource_properties(with(0, 100), CgroupMode::v2, kNew); },
                 f + "a swap limit needs a memory limit on cgroup v2");
  expect_failure([&] { resource_properties(with(200, 100), CgroupMode::v2, kNew); },
                 f + "100 is below memory.limit 200 (swap counts memory+swap)");
  expect_failure([&] { resource_properties(with(-2, 0), CgroupMode::v2, kNew); },
                 "config.json: linux.resources.memory.limit: -2 is not a limit");
}

BOOST_AUTO_TEST_CASE(cpu_quota_rounds_up_to_whole_percent) {
  Resources r;
  r.cpu = spec::CpuResources{};
  r.cpu->quota = 123456;
  r.cpu->period = 1000000;  // 12.3456% -> 13%
  round_cpu_quota_for_systemd(r);
  BOOST_TEST(*r.cpu->quota == 130000);
  BOOST_TEST(show(resource_properties(r, CgroupMode::v2, kNew)) ==
             "CPUQuotaPeriodUSec t 1000000\nCPUQuotaPerSecUSec t 130000\n");
  // Without a period, the kernel's 100 ms.
  r.cpu->quota = 1234;
  r.cpu->period.reset();
  round_cpu_quota_for_systemd(r);
  BOOST_TEST(*r.cpu->quota == 2000);
  BOOST_TEST(show(resource_properties(r, CgroupMode::v2, kNew)) == "CPUQuotaPerSecUSec t 20000\n");
  // A quota already on the step stays.
  r.cpu->quota = 50000;
  round_cpu_quota_for_systemd(r);
  BOOST_TEST(*r.cpu->quota == 50000);
}

BOOST_AUTO_TEST_CASE(cpu_idle_and_weight) {
  Resources r;
  r.cpu = spec::CpuResources{};
  r.cpu->shares = 2;
  r.cpu->idle = 1;
  // systemd 252 says idle with CPUWeight=0; shares cannot apply then.
  BOOST_TEST(show(resource_properties(r, CgroupMode::v2, kNew)) == "CPUWeight t 0\n");
  BOOST_TEST(show(resource_properties(r, CgroupMode::v2, 251)) == "CPUWeight t 1\n");
  r.cpu->idle.reset();
  r.cpu->shares = 1;
  expect_failure([&] { resource_properties(r, CgroupMode::v2, kNew); },
                 "config.json: linux.resources.cpu.shares: 1 is out of range (2-262144)");
}

BOOST_AUTO_TEST_CASE(unified_files_systemd_knows) {
  Resources r;
  r.unified = {{"memory.high", " 4096\n"}, {"memory.min", "max"}, {"pids.max", "0"}, {"cpu.weight", "77"},
               {"cpu.max", "max 50000"}, {"cpuset.cpus", "1"}, {"memory.oom.group", "1"}, {"io.max", "8:0 rbps=1"}};
  BOOST_TEST(show(resource_properties(r, CgroupMode::v2, kNew)) ==
             "CPUQuotaPeriodUSec t 50000\n"
             "CPUQuotaPerSecUSec t " + std::to_string(kInf) + "\n" +
             "CPUWeight t 77\n"
             "AllowedCPUs ay [2]\n"
             "MemoryHigh t 4096\n"
             "MemoryMin t " + std::to_string(kInf) + "\n" +
             "TasksMax t 1\n");  // systemd refuses TasksMax=0
  r.unified = {{"memory.max", "lots"}};
  expect_failure([&] { resource_properties(r, CgroupMode::v2, kNew); },
                 "config.json: linux.resources.unified[\"memory.max\"]: \"lots\" is not a number or \"max\"");
}

BOOST_AUTO_TEST_CASE(cpuset_bitmasks) {
  const std::string f = "config.json: linux.resources.cpu.cpus";
  BOOST_TEST(cpuset_bitmask("0", f) == std::vector<uint8_t>({1}));
  BOOST_TEST(cpuset_bitmask("0-7", f) == std::vector<uint8_t>({0xff}));
  BOOST_TEST(cpuset_bitmask("8", f) == std::vector<uint8_t>({0, 1}));
  BOOST_TEST(cpuset_bitmask(" 1 , 3-4,,", f) == std::vector<uint8_t>({0x1a}));
  BOOST_TEST(cpuset_bitmask("8191", f).size() == 1024u);
  expect_failure([&] { cpuset_bitmask("8192", f); }, f + ": \"8192\": 8192 is beyond the largest number (8191)");
  expect_failure([&] { cpuset_bitmask("a", f); }, f + ": \"a\" is not a list of numbers and ranges (\"0-3,5\")");
  expect_failure([&] { cpuset_bitmask("1-", f); }, f + ": \"1-\" is not a list of numbers and ranges (\"0-3,5\")");
  expect_failure([&] { cpuset_bitmask("-1", f); }, f + ": \"-1\" is not a list of numbers and ranges (\"0-3,5\")");
  expect_failure([&] { cpuset_bitmask(",", f); }, f + ": \",\" names no CPU or memory node");
}

BOOST_AUTO_TEST_CASE(accounting_is_on) {
  BOOST_TEST(show(accounting_properties(CgroupMode::v2)) ==
             "MemoryAccounting b true\nCPUAccounting b true\nIOAccounting b true\nTasksAccounting b true\n");
  BOOST_TEST(show(accounting_properties(CgroupMode::hybrid)) ==
             "MemoryAccounting b true\nCPUAccounting b true\nBlockIOAccounting b true\nTasksAccounting b true\n");
}

// ---- annotations ----

namespace {
std::string parsed(const std::string& text) {
  const auto p = parse_gvariant("X", text, "test");
  return p.type + " " + show(p.value);
}
}  // namespace

BOOST_AUTO_TEST_CASE(gvariant_values) {
  BOOST_TEST(parsed("true") == "b true");
  BOOST_TEST(parsed(" false ") == "b false");
  BOOST_TEST(parsed("5") == "i 5");  // a bare integer is int32, as godbus reads it
  BOOST_TEST(parsed("-5") == "i -5");
  BOOST_TEST(parsed("1.5") == "d 1.5");
  BOOST_TEST(parsed("uint64 5") == "t 5");
  BOOST_TEST(parsed("@t 5") == "t 5");
  BOOST_TEST(parsed("byte 255") == "y 255");
  BOOST_TEST(parsed("int16 -3") == "n -3");
  BOOST_TEST(parsed("uint16 3") == "q 3");
  BOOST_TEST(parsed("int32 3") == "i 3");
  BOOST_TEST(parsed("uint32 3") == "u 3");
  BOOST_TEST(parsed("int64 -9223372036854775808") == "x -9223372036854775808");
  BOOST_TEST(parsed("uint64 18446744073709551615") == "t 18446744073709551615");
  BOOST_TEST(parsed("double 2") == "d 2");
  BOOST_TEST(parsed("boolean true") == "b true");
  BOOST_TEST(parsed("string 'x'") == "s 'x'");
  BOOST_TEST(parsed("'it\\'s'") == "s 'it's'");
  BOOST_TEST(parsed("\"dq\"") == "s 'dq'");
  BOOST_TEST(parsed("['a', 'b']") == "as ['a','b']");
  BOOST_TEST(parsed("[1, 2]") == "ai [1,2]");
  BOOST_TEST(parsed("@as []") == "as []");
  BOOST_TEST(parsed("[@t 1, 2]") == "at [1,2]");  // the first element types the rest
  BOOST_TEST(parsed("@a(st) [('/dev/sda', 5)]") == "a(st) [['/dev/sda',5]]");
  BOOST_TEST(parsed("('a', true)") == "(sb) ['a',true]");
}

BOOST_AUTO_TEST_CASE(gvariant_refusals) {
  const auto refused = [](const std::string& text, const std::string& why) {
    expect_failure([&] { parse_gvariant("X", text, "test"); }, "test: " + why);
  };
  refused("", "a value is missing at offset 0 of \"\"");
  refused("yes", "not a GVariant value at offset 0 of \"yes\"");
  refused("5000000000", "not a i number at offset 0 of \"5000000000\"");
  refused("byte 256", "not a y number at offset 5 of \"byte 256\"");
  refused("uint32 -1", "not a u number at offset 7 of \"uint32 -1\"");
  refused("[]", "an empty array needs its type (@as []) at offset 2 of \"[]\"");
  refused("['a', 1]", "a number where s is needed at offset 6 of \"['a', 1]\"");
  refused("'open", "an unterminated string at offset 5 of \"'open\"");
  refused("1 2", "unexpected text after the value at offset 2 of \"1 2\"");
  refused("@v 1", "an unsupported type at offset 1 of \"@v 1\"");
  refused("@t 'x'", "a string where t is needed at offset 3 of \"@t 'x'\"");
}

BOOST_AUTO_TEST_CASE(annotations_become_properties) {
  const std::map<std::string, std::string> a = {{"org.systemd.property.CollectMode", "'inactive-or-failed'"},
                                                {"org.systemd.property.TimeoutStopSec", "uint64 90"},
                                                {"org.systemd.property.RuntimeMaxSec", "1.5"},
                                                {"org.systemd.property.TimeoutStopUSec", "uint64 7"},
                                                {"io.agentrun.policy", "x"}};
  BOOST_TEST(show(annotation_properties(a)) ==
             "CollectMode s 'inactive-or-failed'\n"
             "RuntimeMaxUSec t 1500000\n"  // ...Sec is seconds, ...USec microseconds
             "TimeoutStopUSec t 90000000\n"
             "TimeoutStopUSec t 7\n");
}

BOOST_AUTO_TEST_CASE(bad_annotations_name_themselves) {
  const auto refused = [](const std::string& name, const std::string& value, const std::string& why) {
    expect_failure([&] { annotation_properties({{"org.systemd.property." + name, value}}); },
                   "annotation org.systemd.property." + name + ": " + why);
  };
  refused("Ab", "1", "a systemd property name is 3 or more ASCII letters");
  refused("Memory-Max", "1", "a systemd property name is 3 or more ASCII letters");
  refused("MemoryMax", "lots", "not a GVariant value at offset 0 of \"lots\"");
  refused("TimeoutStopSec", "'90s'", "a ...Sec property needs a number of seconds, not a value of type s");
  refused("TimeoutStopSec", "-1", "the number of seconds is out of range");
  refused("TimeoutStopSec", "uint64 18446744073709551615", "the number of seconds is out of range");
}
