#include <boost/test/unit_test.hpp>

#include <algorithm>
#include <functional>

#include "runtime/cli/command_line.hpp"
#include "runtime/cli/update_request.hpp"
#include "runtime/container/ps.hpp"
#include "spec/error.hpp"
#include "support/checks.hpp"

using namespace agentrun;

namespace {

CommandLine update_line(std::vector<std::string> flags) {
  flags.insert(flags.begin(), "update");
  flags.push_back("c1");
  return parse_command_line(flags);
}

}  // namespace

BOOST_AUTO_TEST_CASE(bytes_with_units) {
  BOOST_TEST(parse_bytes("1024", "memory") == 1024);
  BOOST_TEST(parse_bytes("64m", "memory") == 64 << 20);
  BOOST_TEST(parse_bytes("64MB", "memory") == 64 << 20);
  BOOST_TEST(parse_bytes("2g", "memory") == int64_t{2} << 30);
  BOOST_TEST(parse_bytes("1k", "memory") == 1024);
  BOOST_TEST(parse_bytes("-1", "memory-swap") == -1);
  BOOST_TEST(failure_of([] { parse_bytes("lots", "memory"); }) ==
             "--memory \"lots\": expects bytes, with an optional unit k, m, g or t");
  BOOST_TEST(failure_of([] { parse_bytes("5x", "memory"); }).find("--memory \"5x\"") == 0);
  BOOST_TEST(failure_of([] { parse_bytes("99999999999t", "memory"); }) == "--memory \"99999999999t\": too large");
}

BOOST_AUTO_TEST_CASE(durations_as_go_writes_them) {
  BOOST_TEST(parse_duration_ms("5s", "interval") == 5000u);
  BOOST_TEST(parse_duration_ms("200ms", "interval") == 200u);
  BOOST_TEST(parse_duration_ms("1m30s", "interval") == 90000u);
  BOOST_TEST(parse_duration_ms("1h", "interval") == 3600000u);
  BOOST_TEST(failure_of([] { parse_duration_ms("5", "interval"); }) ==
             "--interval \"5\": expects a duration such as 5s or 500ms");
  BOOST_TEST(failure_of([] { parse_duration_ms("0s", "interval"); }) == "--interval \"0s\": must be longer than zero");
  BOOST_TEST(failure_of([] { parse_duration_ms("s", "interval"); }).find("expects a duration") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(update_flags_become_resources) {
  auto r = update_resources(update_line({"--memory", "64m", "--memory-swap=-1", "--memory-reservation", "32m",
                                         "--cpu-shares", "256", "--cpu-quota", "-1", "--cpu-period", "100000",
                                         "--cpuset-cpus", "0-1", "--cpuset-mems", "0", "--pids-limit", "99",
                                         "--blkio-weight", "300"}),
                            "");
  BOOST_TEST_REQUIRE(r.memory.has_value());
  BOOST_TEST(*r.memory->limit == 64 << 20);
  BOOST_TEST(*r.memory->swap == -1);
  BOOST_TEST(*r.memory->reservation == 32 << 20);
  BOOST_TEST(!r.memory->kernel);
  BOOST_TEST_REQUIRE(r.cpu.has_value());
  BOOST_TEST(*r.cpu->shares == 256u);
  BOOST_TEST(*r.cpu->quota == -1);
  BOOST_TEST(*r.cpu->period == 100000u);
  BOOST_TEST(r.cpu->cpus == "0-1");
  BOOST_TEST(r.cpu->mems == "0");
  BOOST_TEST(*r.pidsLimit == 99);
  BOOST_TEST(*r.blockIO->weight == 300);

  auto only_pids = update_resources(update_line({"--pids-limit", "5"}), "");
  BOOST_TEST(!only_pids.memory);
  BOOST_TEST(!only_pids.cpu);
  BOOST_TEST(!only_pids.blockIO);

  auto from_file = update_resources(update_line({"-r", "r.json"}), R"({"pids": {"limit": 7}, "memory": {"limit": 1}})");
  BOOST_TEST(*from_file.pidsLimit == 7);
  BOOST_TEST(*from_file.memory->limit == 1);

  BOOST_TEST(failure_of([] { update_resources(update_line({"--blkio-weight", "5"}), ""); }) ==
             "--blkio-weight: expects a weight from 10 to 1000");
  BOOST_TEST(failure_of([] { update_resources(update_line({"--cpu-shares", "-3"}), ""); }) ==
             "--cpu-shares \"-3\": expects a non-negative integer");
  BOOST_TEST(failure_of([] { update_resources(update_line({"--l3-cache-schema", "L3:0=f"}), ""); }) ==
             "--l3-cache-schema: Intel RDT is not supported");
  BOOST_TEST(failure_of([] { update_resources(update_line({"-r", "r.json"}), "{\"pids\": 3}"); })
                 .find("--resources: pids") == 0);
}

BOOST_AUTO_TEST_CASE(update_device_rules_mean_what_they_mean_in_config_json) {
  // containerd's CRI repeats the config's deny-all rule on every update:
  // runc's standard devices (here /dev/ptmx, c 5:2) must follow it again.
  auto r = update_resources(update_line({"-r", "-"}), R"({"devices": [{"allow": false, "access": "rwm"}]})");
  BOOST_TEST_REQUIRE(r.devices.size() > 1u);
  BOOST_TEST(!r.devices.front().allow);
  auto ptmx = std::find_if(r.devices.begin(), r.devices.end(), [](const spec::DeviceRule& d) {
    return d.allow && d.type == "c" && d.major == 5 && d.minor == 2;
  });
  BOOST_TEST((ptmx != r.devices.end()));
  // Without device rules the cgroup's are left as they are.
  BOOST_TEST(update_resources(update_line({"-r", "-"}), R"({"pids": {"limit": 7}})").devices.empty());
}

BOOST_AUTO_TEST_CASE(ps_output_is_filtered_by_the_pid_column) {
  const std::string out =
      "UID        PID  PPID  C STIME TTY          TIME CMD\n"
      "root         1     0  0 10:00 ?        00:00:01 /sbin/init\n"
      "root       123     1  0 10:00 ?        00:00:00 sleep 60\n"
      "root      1234     1  0 10:00 ?        00:00:00 other\n";
  BOOST_TEST(filter_ps_output(out, {123}) ==
             "UID        PID  PPID  C STIME TTY          TIME CMD\n"
             "root       123     1  0 10:00 ?        00:00:00 sleep 60\n");
  BOOST_TEST(filter_ps_output(out, {}) == "UID        PID  PPID  C STIME TTY          TIME CMD\n");
  BOOST_TEST(filter_ps_output("  PID COMMAND\n   12 sh\n   13 x\n", {13}) == "  PID COMMAND\n   13 x\n");
  BOOST_TEST(failure_of([] { filter_ps_output("USER COMMAND\nroot sh\n", {1}); }) ==
             "ps: its output has no PID column (use options that show it)");
}
