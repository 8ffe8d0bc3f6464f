#include "runtime/confine/seccomp_eval.hpp"

#include <seccomp.h>

#include <cstddef>
#include <cstring>

namespace agentrun {
namespace {

constexpr const char* kStep = "evaluate the seccomp filter";

uint32_t alu(uint16_t op, uint32_t a, uint32_t operand) {
  switch (op) {
    case BPF_ADD: return a + operand;
    case BPF_SUB: return a - operand;
    case BPF_MUL: return a * operand;
    case BPF_DIV: return operand ? a / operand : 0;
    case BPF_MOD: return operand ? a % operand : 0;
    case BPF_OR: return a | operand;
    case BPF_AND: return a & operand;
    case BPF_XOR: return a ^ operand;
    case BPF_LSH: return operand < 32 ? a << operand : 0;
    case BPF_RSH: return operand < 32 ? a >> operand : 0;
    case BPF_NEG: return -a;
  }
  return a;
}

Result<bool> jump_taken(uint16_t op, uint32_t a, uint32_t operand) {
  switch (op) {
    case BPF_JEQ: return a == operand;
    case BPF_JGT: return a > operand;
    case BPF_JGE: return a >= operand;
    case BPF_JSET: return (a & operand) != 0;
  }
  return plain_error(kStep, "unknown jump instruction");
}

}  // namespace

Result<uint32_t> seccomp_verdict(const std::vector<sock_filter>& filter, const seccomp_data& call) {
  unsigned char data[sizeof call];
  std::memcpy(data, &call, sizeof call);
  uint32_t a = 0, x = 0, mem[BPF_MEMWORDS] = {};
  // Jumps only go forward, so the program ends within filter.size() steps.
  for (size_t pc = 0; pc < filter.size(); ++pc) {
    const sock_filter& i = filter[pc];
    const uint32_t operand = BPF_SRC(i.code) == BPF_X ? x : i.k;
    switch (BPF_CLASS(i.code)) {
      case BPF_LD:
        if (i.code == (BPF_LD | BPF_W | BPF_ABS)) {
          if (i.k % 4 != 0 || i.k + 4 > sizeof data) return plain_error(kStep, "load outside seccomp_data");
          std::memcpy(&a, data + i.k, 4);
        } else if (i.code == (BPF_LD | BPF_W | BPF_LEN)) {
          a = sizeof data;
        } else if (i.code == (BPF_LD | BPF_IMM)) {
          a = i.k;
        } else if (i.code == (BPF_LD | BPF_MEM) && i.k < BPF_MEMWORDS) {
          a = mem[i.k];
        } else {
          return plain_error(kStep, "unsupported load");
        }
        break;
      case BPF_LDX:
        if (i.code == (BPF_LDX | BPF_W | BPF_LEN)) x = sizeof data;
        else if (i.code == (BPF_LDX | BPF_IMM)) x = i.k;
        else if (i.code == (BPF_LDX | BPF_MEM) && i.k < BPF_MEMWORDS) x = mem[i.k];
        else return plain_error(kStep, "unsupported load");
        break;
      case BPF_ST:
      case BPF_STX:
        if (i.k >= BPF_MEMWORDS) return plain_error(kStep, "store outside scratch memory");
        mem[i.k] = BPF_CLASS(i.code) == BPF_ST ? a : x;
        break;
      case BPF_ALU:
        a = alu(BPF_OP(i.code), a, operand);
        break;
      case BPF_JMP: {
        size_t next;
        if (BPF_OP(i.code) == BPF_JA) {
          next = pc + 1 + i.k;
        } else {
          AR_TRY_ASSIGN(bool taken, jump_taken(BPF_OP(i.code), a, operand));
          next = pc + 1 + (taken ? i.jt : i.jf);
        }
        if (next >= filter.size()) return plain_error(kStep, "jump past the end");
        pc = next - 1;
        break;
      }
      case BPF_RET:
        return BPF_RVAL(i.code) == BPF_A ? a : i.k;
      case BPF_MISC:
        if (BPF_MISCOP(i.code) == BPF_TAX) x = a;
        else a = x;
        break;
    }
  }
  return plain_error(kStep, "the program ends without a verdict");
}

seccomp_data native_call(int nr, std::initializer_list<uint64_t> args) {
  seccomp_data d{};
  d.nr = nr;
  d.arch = seccomp_arch_native();
  size_t n = 0;
  for (uint64_t v : args)
    if (n < 6) d.args[n++] = v;
  return d;
}

bool verdict_admits(uint32_t verdict) {
  const uint32_t action = verdict & SECCOMP_RET_ACTION_FULL;
  return action == SECCOMP_RET_ALLOW || action == SECCOMP_RET_LOG || action == SECCOMP_RET_USER_NOTIF;
}

}  // namespace agentrun
