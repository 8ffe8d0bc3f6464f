#include <boost/test/unit_test.hpp>

#include <cstring>

#include "runtime/cgroup/device_bpf.hpp"
#include "spec/error.hpp"

using namespace agentrun;
using spec::DeviceRule;

namespace {

// Runs the subset of eBPF the generator emits against one request;
// anything else fails the test. Returns the program's verdict (1 allow).
int run(const std::vector<bpf_insn>& prog, char type, uint32_t major, uint32_t minor, const std::string& access) {
  bpf_cgroup_dev_ctx ctx{};
  uint32_t acc = 0;
  for (char c : access) acc |= c == 'r' ? BPF_DEVCG_ACC_READ : c == 'w' ? BPF_DEVCG_ACC_WRITE : BPF_DEVCG_ACC_MKNOD;
  ctx.access_type = (acc << 16) | (type == 'b' ? BPF_DEVCG_DEV_BLOCK : BPF_DEVCG_DEV_CHAR);
  ctx.major = major;
  ctx.minor = minor;
  uint64_t reg[11] = {};
  for (size_t pc = 0, steps = 0; pc < prog.size() && steps < 10000; ++pc, ++steps) {
    const bpf_insn& i = prog[pc];
    const uint64_t src = BPF_SRC(i.code) == BPF_X ? reg[i.src_reg] : static_cast<uint64_t>(static_cast<int64_t>(i.imm));
    switch (i.code) {
      case BPF_LDX | BPF_MEM | BPF_W: {
        BOOST_REQUIRE(i.src_reg == BPF_REG_1);
        BOOST_REQUIRE(i.off >= 0 && i.off + 4 <= static_cast<int>(sizeof ctx));
        uint32_t v;
        std::memcpy(&v, reinterpret_cast<const char*>(&ctx) + i.off, 4);
        reg[i.dst_reg] = v;
        break;
      }
      case BPF_ALU64 | BPF_AND | BPF_K: reg[i.dst_reg] &= src; break;
      case BPF_ALU64 | BPF_RSH | BPF_K: reg[i.dst_reg] >>= src; break;
      case BPF_ALU64 | BPF_MOV | BPF_K:
      case BPF_ALU64 | BPF_MOV | BPF_X: reg[i.dst_reg] = src; break;
      case BPF_JMP | BPF_JNE | BPF_K:
      case BPF_JMP | BPF_JNE | BPF_X:
        if (reg[i.dst_reg] != src) pc += i.off;
        break;
      case BPF_JMP | BPF_JEQ | BPF_K:
      case BPF_JMP | BPF_JEQ | BPF_X:
        if (reg[i.dst_reg] == src) pc += i.off;
        break;
      case BPF_JMP | BPF_JA: pc += i.off; break;
      case BPF_JMP | BPF_EXIT: return static_cast<int>(reg[0]);
      default: BOOST_FAIL("unexpected opcode " << int(i.code) << " at " << pc);
    }
  }
  BOOST_FAIL("the program ran off its end");
  return -1;
}

const DeviceRule kDenyAll{false, "a", std::nullopt, std::nullopt, "rwm"};
const DeviceRule kAllowAll{true, "a", std::nullopt, std::nullopt, "rwm"};
const DeviceRule kNull{true, "c", 1, 3, "rwm"};

}  // namespace

BOOST_AUTO_TEST_CASE(deny_all_but_dev_null) {
  const auto p = device_filter_program({kDenyAll, kNull});
  BOOST_TEST(run(p, 'c', 1, 3, "rw") == 1);
  BOOST_TEST(run(p, 'c', 1, 3, "m") == 1);
  BOOST_TEST(run(p, 'c', 1, 5, "r") == 0);
  BOOST_TEST(run(p, 'b', 1, 3, "r") == 0);
  BOOST_TEST(run(p, 'c', 5, 0, "rw") == 0);
}

BOOST_AUTO_TEST_CASE(nothing_is_deny_and_allow_all_is_allow) {
  BOOST_TEST(run(device_filter_program({}), 'c', 1, 3, "r") == 0);
  const auto all = device_filter_program({kAllowAll});
  BOOST_TEST(run(all, 'b', 8, 0, "rwm") == 1);
  BOOST_TEST(all.size() == 8u);  // loads, verdict, exit: no rule blocks
  // Rules before a catch-all never decide and are left out (dead code
  // would be refused by the verifier).
  BOOST_TEST(device_filter_program({kNull, kDenyAll}).size() == 8u);
  BOOST_TEST(run(device_filter_program({kNull, kDenyAll}), 'c', 1, 3, "r") == 0);
}

BOOST_AUTO_TEST_CASE(wildcards_and_access_subsets) {
  const auto p = device_filter_program({kDenyAll, {true, "c", 136, std::nullopt, "rw"}, {true, "", std::nullopt, 7, "m"}});
  BOOST_TEST(run(p, 'c', 136, 0, "rw") == 1);
  BOOST_TEST(run(p, 'c', 136, 99, "r") == 1);
  BOOST_TEST(run(p, 'c', 136, 0, "rwm") == 0);  // m is not granted
  BOOST_TEST(run(p, 'b', 136, 0, "r") == 0);
  BOOST_TEST(run(p, 'b', 8, 7, "m") == 1);      // any type, any major, minor 7
  BOOST_TEST(run(p, 'c', 9, 7, "m") == 1);
  BOOST_TEST(run(p, 'c', 9, 7, "r") == 0);
}

BOOST_AUTO_TEST_CASE(last_match_wins) {
  const DeviceRule deny_null_write{false, "c", 1, 3, "w"};
  const auto p = device_filter_program({kAllowAll, {false, "c", 1, std::nullopt, "rwm"}, kNull});
  BOOST_TEST(run(p, 'c', 1, 3, "rw") == 1);   // allowed again by the last rule
  BOOST_TEST(run(p, 'c', 1, 5, "r") == 0);    // denied by the middle one
  BOOST_TEST(run(p, 'b', 8, 0, "r") == 1);    // default from the allow-all
  const auto q = device_filter_program({kDenyAll, kNull, deny_null_write});
  BOOST_TEST(run(q, 'c', 1, 3, "w") == 0);
  BOOST_TEST(run(q, 'c', 1, 3, "r") == 1);
}

BOOST_AUTO_TEST_CASE(bad_rules) {
  const auto fails = [](const DeviceRule& r, const std::string& text) {
    try {
      device_filter_program({r});
      BOOST_ERROR("no failure for " << text);
    } catch (const Failure& e) {
      BOOST_TEST(std::string(e.what()) == "config.json: linux.resources.devices: " + text);
    }
  };
  fails({true, "c", 1, 3, "rx"}, "access \"rx\" is not a subset of \"rwm\"");
  fails({true, "p", 1, 3, "r"}, "type \"p\" is not a, b or c");
  fails({true, "c", -1, 3, "r"}, "major -1 is out of range");
  fails({true, "c", 1, int64_t{1} << 40, "r"}, "minor 1099511627776 is out of range");
}
