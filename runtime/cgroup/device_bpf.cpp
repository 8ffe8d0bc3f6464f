#include "runtime/cgroup/device_bpf.hpp"

#include <errno.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cstddef>
#include <cstring>
#include <string>

#include "runtime/util/fd.hpp"
#include "spec/error.hpp"

namespace agentrun {
namespace {

const char* kField = "config.json: linux.resources.devices";

// Registers: r1 = ctx, then r2 = device type, r3 = requested access,
// r4 = major, r5 = minor; r1 is free once they are loaded.
constexpr bpf_insn insn(uint8_t code, uint8_t dst, uint8_t src, int16_t off, int32_t imm) {
  return bpf_insn{code, dst, src, off, imm};
}
constexpr bpf_insn ldx_w(uint8_t dst, int16_t off) { return insn(BPF_LDX | BPF_MEM | BPF_W, dst, BPF_REG_1, off, 0); }
constexpr bpf_insn alu_k(uint8_t op, uint8_t dst, int32_t imm) { return insn(BPF_ALU64 | op | BPF_K, dst, 0, 0, imm); }
constexpr bpf_insn mov_x(uint8_t dst, uint8_t src) { return insn(BPF_ALU64 | BPF_MOV | BPF_X, dst, src, 0, 0); }
constexpr bpf_insn exit_insn() { return insn(BPF_JMP | BPF_EXIT, 0, 0, 0, 0); }

bool matches_everything(const spec::DeviceRule& r) {
  return (r.type.empty() || r.type == "a") && !r.major && !r.minor && (r.access.empty() || r.access == "rwm");
}

int32_t access_bits(const std::string& access) {
  int32_t bits = 0;
  for (char c : access.empty() ? std::string("rwm") : access) {
    if (c == 'r') bits |= BPF_DEVCG_ACC_READ;
    else if (c == 'w') bits |= BPF_DEVCG_ACC_WRITE;
    else if (c == 'm') bits |= BPF_DEVCG_ACC_MKNOD;
    else fail(kField, "access \"" + access + "\" is not a subset of \"rwm\"");
  }
  return bits;
}

int32_t device_number(const std::optional<int64_t>& n, const char* what) {
  if (*n < 0 || *n > INT32_MAX) fail(kField, std::string(what) + " " + std::to_string(*n) + " is out of range");
  return static_cast<int32_t>(*n);
}

// One rule: each test jumps past the block when it does not match; the
// end returns the rule's verdict.
std::vector<bpf_insn> rule_block(const spec::DeviceRule& r) {
  std::vector<bpf_insn> b;
  std::vector<size_t> to_next;
  const auto jne_k = [&](uint8_t reg, int32_t imm) {
    to_next.push_back(b.size());
    b.push_back(insn(BPF_JMP | BPF_JNE | BPF_K, reg, 0, 0, imm));
  };
  if (r.type == "c") jne_k(BPF_REG_2, BPF_DEVCG_DEV_CHAR);
  else if (r.type == "b") jne_k(BPF_REG_2, BPF_DEVCG_DEV_BLOCK);
  else if (!r.type.empty() && r.type != "a") fail(kField, "type \"" + r.type + "\" is not a, b or c");
  const int32_t bits = access_bits(r.access);
  if (bits != (BPF_DEVCG_ACC_READ | BPF_DEVCG_ACC_WRITE | BPF_DEVCG_ACC_MKNOD)) {
    b.push_back(mov_x(BPF_REG_1, BPF_REG_3));
    b.push_back(alu_k(BPF_AND, BPF_REG_1, bits));
    to_next.push_back(b.size());
    b.push_back(insn(BPF_JMP | BPF_JNE | BPF_X, BPF_REG_1, BPF_REG_3, 0, 0));
  }
  if (r.major) jne_k(BPF_REG_4, device_number(r.major, "major"));
  if (r.minor) jne_k(BPF_REG_5, device_number(r.minor, "minor"));
  b.push_back(alu_k(BPF_MOV, BPF_REG_0, r.allow ? 1 : 0));
  b.push_back(exit_insn());
  for (size_t i : to_next) b[i].off = static_cast<int16_t>(b.size() - i - 1);
  return b;
}

long bpf(int cmd, bpf_attr& attr) { return ::syscall(SYS_bpf, cmd, &attr, sizeof attr); }

// Device programs attached to the cgroup itself (not inherited), by id.
std::vector<uint32_t> attached_programs(int cgroup_dir_fd) {
  std::vector<uint32_t> ids(16);
  for (;;) {
    bpf_attr query;
    std::memset(&query, 0, sizeof query);
    query.query.target_fd = static_cast<uint32_t>(cgroup_dir_fd);
    query.query.attach_type = BPF_CGROUP_DEVICE;
    query.query.prog_ids = reinterpret_cast<uintptr_t>(ids.data());
    query.query.prog_cnt = static_cast<uint32_t>(ids.size());
    if (bpf(BPF_PROG_QUERY, query) == 0) {
      ids.resize(query.query.prog_cnt);
      return ids;
    }
    // ENOSPC: more programs than room; prog_cnt says how many.
    if (errno != ENOSPC) fail_errno("cgroup devices: query attached BPF programs", errno);
    ids.resize(query.query.prog_cnt);
  }
}

void detach_program(int cgroup_dir_fd, uint32_t id) {
  bpf_attr get;
  std::memset(&get, 0, sizeof get);
  get.prog_id = id;
  UniqueFd prog(static_cast<int>(bpf(BPF_PROG_GET_FD_BY_ID, get)));
  if (!prog && errno == ENOENT) return;  // already gone
  if (!prog) fail_errno("cgroup devices: open BPF program " + std::to_string(id), errno);
  bpf_attr detach;
  std::memset(&detach, 0, sizeof detach);
  detach.target_fd = static_cast<uint32_t>(cgroup_dir_fd);
  detach.attach_bpf_fd = static_cast<uint32_t>(prog.get());
  detach.attach_type = BPF_CGROUP_DEVICE;
  if (bpf(BPF_PROG_DETACH, detach) != 0 && errno != ENOENT)
    fail_errno("cgroup devices: detach the previous BPF device filter " + std::to_string(id), errno);
}

// With `log`, the verifier explains a refusal (and a log too small for it
// would fail the load itself: used only to explain a failure).
long load(const std::vector<bpf_insn>& program, std::string* log) {
  static const char license[] = "GPL";
  bpf_attr attr;
  std::memset(&attr, 0, sizeof attr);
  attr.prog_type = BPF_PROG_TYPE_CGROUP_DEVICE;
  attr.insns = reinterpret_cast<uintptr_t>(program.data());
  attr.insn_cnt = static_cast<uint32_t>(program.size());
  attr.license = reinterpret_cast<uintptr_t>(license);
  if (log) {
    attr.log_buf = reinterpret_cast<uintptr_t>(log->data());
    attr.log_size = static_cast<uint32_t>(log->size());
    attr.log_level = 1;
  }
  return bpf(BPF_PROG_LOAD, attr);
}

UniqueFd load_program(const std::vector<bpf_insn>& program) {
  UniqueFd prog(static_cast<int>(load(program, nullptr)));
  if (prog) return prog;
  const int err = errno;
  std::string log(1 << 20, '\0');
  UniqueFd again(static_cast<int>(load(program, &log)));
  log.resize(std::strlen(log.c_str()));
  throw Failure(Error{"cgroup devices: load BPF device filter", log.empty() ? "" : "verifier: " + log, err});
}

}  // namespace

std::vector<bpf_insn> device_filter_program(const std::vector<spec::DeviceRule>& rules) {
  // Rules before the last catch-all can never decide (and the verifier
  // rejects unreachable code): that rule sets the default instead.
  size_t first = 0;
  bool default_allow = false;
  for (size_t i = 0; i < rules.size(); ++i)
    if (matches_everything(rules[i])) {
      first = i + 1;
      default_allow = rules[i].allow;
    }
  std::vector<bpf_insn> p = {
      ldx_w(BPF_REG_2, offsetof(bpf_cgroup_dev_ctx, access_type)),
      alu_k(BPF_AND, BPF_REG_2, 0xffff),
      ldx_w(BPF_REG_3, offsetof(bpf_cgroup_dev_ctx, access_type)),
      alu_k(BPF_RSH, BPF_REG_3, 16),
      ldx_w(BPF_REG_4, offsetof(bpf_cgroup_dev_ctx, major)),
      ldx_w(BPF_REG_5, offsetof(bpf_cgroup_dev_ctx, minor)),
  };
  // Last match wins: test the rules from the last to the first.
  for (size_t i = rules.size(); i > first; --i) {
    auto block = rule_block(rules[i - 1]);
    p.insert(p.end(), block.begin(), block.end());
  }
  p.push_back(alu_k(BPF_MOV, BPF_REG_0, default_allow ? 1 : 0));
  p.push_back(exit_insn());
  return p;
}

void attach_device_filter(int cgroup_dir_fd, const std::vector<bpf_insn>& program) {
  UniqueFd prog = load_program(program);
  // Attached programs must all allow an access: an update replaces the
  // previous filter. The new one goes in first, so there is no moment
  // without a filter.
  const auto previous = attached_programs(cgroup_dir_fd);
  bpf_attr attach;
  std::memset(&attach, 0, sizeof attach);
  attach.target_fd = static_cast<uint32_t>(cgroup_dir_fd);
  attach.attach_bpf_fd = static_cast<uint32_t>(prog.get());
  attach.attach_type = BPF_CGROUP_DEVICE;
  attach.attach_flags = BPF_F_ALLOW_MULTI;
  if (bpf(BPF_PROG_ATTACH, attach) != 0) fail_errno("cgroup devices: attach BPF device filter", errno);
  for (uint32_t id : previous) detach_program(cgroup_dir_fd, id);
}

}  // namespace agentrun
