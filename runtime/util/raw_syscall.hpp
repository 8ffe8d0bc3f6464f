#pragma once
// A system call without the C library's wrapper, which sets errno in the
// caller's thread-local storage: for code that runs where that storage is
// not its own (a child sharing the parent's memory) or does not exist yet
// (early_reexec). Always inlined, so that such code calls nothing.

#if !defined(__x86_64__)
#include <unistd.h>

#include <cerrno>
#endif

namespace agentrun {

#if defined(__x86_64__)
[[gnu::always_inline]] static inline long raw_syscall(long nr, long a = 0, long b = 0, long c = 0, long d = 0,
                                                      long e = 0) noexcept {
  long ret;
  register long r10 asm("r10") = d;
  register long r8 asm("r8") = e;
  asm volatile("syscall" : "=a"(ret) : "a"(nr), "D"(a), "S"(b), "d"(c), "r"(r10), "r"(r8) : "rcx", "r11", "memory");
  return ret;  // -errno on failure
}
#else
// Elsewhere the binary enters at _start (CMakeLists.txt), and a failure's
// errno lands in the caller's thread-local storage.
static inline long raw_syscall(long nr, long a = 0, long b = 0, long c = 0, long d = 0, long e = 0) noexcept {
  const long ret = ::syscall(nr, a, b, c, d, e);
  return ret < 0 ? -errno : ret;
}
#endif

}  // namespace agentrun
