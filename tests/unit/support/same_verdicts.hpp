#pragma once
// Whether two seccomp filters answer alike, tried with the user-space
// evaluator: every call number of the x86 family (x32's with its bit) and a
// few beyond, under four architectures, with arguments zero, all ones, and
// each constant the first filter compares an argument with (its
// neighbours, and in the upper word) in all six.

#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/seccomp.h>

#include <cstddef>
#include <cstdint>
#include <set>
#include <vector>

#include "runtime/confine/seccomp_eval.hpp"

namespace test {

// The constants `f` compares arguments with: each jump whose latest load
// (in program order) read an argument word.
inline std::set<uint32_t> argument_constants(const std::vector<sock_filter>& f) {
  std::set<uint32_t> out;
  bool on_argument = false;
  for (const sock_filter& i : f) {
    if (BPF_CLASS(i.code) == BPF_LD) on_argument = BPF_MODE(i.code) == BPF_ABS && i.k >= offsetof(seccomp_data, args);
    if (BPF_CLASS(i.code) == BPF_JMP && BPF_OP(i.code) != BPF_JA && on_argument) out.insert(i.k);
  }
  return out;
}

// How many of those calls `a` and `b` answer differently.
inline size_t different_verdicts(const std::vector<sock_filter>& a, const std::vector<sock_filter>& b) {
  std::vector<uint32_t> numbers{0x7fffffff, 0x80000000, 0xfffffffe, 0xffffffff};
  for (uint32_t nr = 0; nr < 1100; ++nr) {
    numbers.push_back(nr);
    numbers.push_back(nr | 0x40000000);  // __X32_SYSCALL_BIT
  }
  std::vector<uint64_t> args{0, ~uint64_t{0}};
  for (uint32_t c : argument_constants(a))
    for (uint64_t v : {uint64_t{c}, uint64_t{c} + 1, uint64_t{c} - 1, uint64_t{c} << 32}) args.push_back(v);
  size_t differ = 0;
  for (uint32_t arch : std::vector<uint32_t>{AUDIT_ARCH_X86_64, AUDIT_ARCH_I386, AUDIT_ARCH_AARCH64, 0})
    for (uint32_t nr : numbers)
      for (uint64_t v : args) {
        seccomp_data call{};
        call.nr = static_cast<int>(nr);
        call.arch = arch;
        for (auto& arg : call.args) arg = v;
        if (agentrun::seccomp_verdict(a, call).or_throw() != agentrun::seccomp_verdict(b, call).or_throw()) ++differ;
      }
  return differ;
}

}  // namespace test
