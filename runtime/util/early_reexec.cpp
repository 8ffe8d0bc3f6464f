#include "runtime/util/early_reexec.hpp"

#include <link.h>
#include <linux/limits.h>
#include <linux/mount.h>
#include <sys/mman.h>
#include <sys/statfs.h>
#include <sys/syscall.h>

#include "runtime/util/raw_syscall.hpp"

// The binary's own ELF header, where its first segment is mapped (the linker defines it).
extern "C" const ElfW(Ehdr) __ehdr_start __attribute__((visibility("hidden")));

namespace agentrun::early {
namespace {

// statfs(2)'s f_flags holds the mount's ST_* flags when ST_VALID is set.
constexpr long kStatfsValid = 0x20;
constexpr long kStatfsReadOnly = 0x1;

long arg(const void* p) noexcept { return reinterpret_cast<long>(p); }

bool same(const char* a, const char* b) noexcept {
  while (*a != '\0' && *a == *b) ++a, ++b;
  return *a == *b;
}

// Whether `entry` is "name=...".
bool named(const char* entry, const char* name) noexcept {
  while (*name != '\0' && *entry == *name) ++entry, ++name;
  return *name == '\0' && *entry == '=';
}

}  // namespace

bool names_container_start(int argc, char* const* argv) noexcept {
  for (int i = 1; i < argc; ++i)
    if (same(argv[i], "create") || same(argv[i], "run") || same(argv[i], "exec")) return true;
  return false;
}

bool unwritable_binary(int fd) noexcept {
  struct statfs fs;
  if (raw_syscall(SYS_fstatfs, fd, arg(&fs)) == 0 && (fs.f_flags & kStatfsValid) && (fs.f_flags & kStatfsReadOnly)) return true;
  const long seals = raw_syscall(SYS_fcntl, fd, F_GET_SEALS);
  return seals >= 0 && (seals & kBinarySeals) == kBinarySeals;
}

int read_only_tree_of(int fd) noexcept {
  const long tree = raw_syscall(SYS_open_tree, fd, arg(""), OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC | AT_EMPTY_PATH);
  if (tree < 0) return -1;
  mount_attr attr;
  attr.attr_set = MOUNT_ATTR_RDONLY | MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV;
  attr.attr_clr = 0;
  attr.propagation = 0;
  attr.userns_fd = 0;
  if (raw_syscall(SYS_mount_setattr, tree, arg(""), AT_EMPTY_PATH, arg(&attr), sizeof attr) == 0) return static_cast<int>(tree);
  raw_syscall(SYS_close, tree);
  return -1;
}

bool environment_with(char* const* envp, const char* name, char* entry, char** out, std::size_t capacity) noexcept {
  std::size_t n = 0;
  for (; *envp != nullptr; ++envp) {
    if (named(*envp, name)) continue;
    if (n + 2 >= capacity) return false;
    out[n++] = *envp;
  }
  if (n + 2 > capacity) return false;
  out[n++] = entry;
  out[n] = nullptr;
  return true;
}

namespace {

constexpr std::size_t kMaxEnvironment = 4096;

// Re-executes from the read-only clone, or returns. What the C++ path would
// do otherwise (a sealed memfd where mounts are not allowed) and every error
// are left to it.
void reexecute(long* stack) noexcept {
  const int argc = static_cast<int>(stack[0]);
  char** argv = reinterpret_cast<char**>(stack + 1);
  char** envp = argv + argc + 1;
  if (!names_container_start(argc, argv)) return;
  const long self = raw_syscall(SYS_open, arg("/proc/self/exe"), O_RDONLY | O_CLOEXEC);
  if (self < 0) return;
  const int tree = unwritable_binary(static_cast<int>(self)) ? -1 : read_only_tree_of(static_cast<int>(self));
  raw_syscall(SYS_close, self);
  if (tree < 0) return;
  char entry[sizeof kInstalledBinaryEnv + PATH_MAX];
  std::size_t at = 0;
  for (const char* c = kInstalledBinaryEnv; *c != '\0'; ++c) entry[at++] = *c;
  entry[at++] = '=';
  const long length = raw_syscall(SYS_readlink, arg("/proc/self/exe"), arg(entry + at), PATH_MAX);
  char* environment[kMaxEnvironment];
  if (length > 0 && length < PATH_MAX) {
    entry[at + static_cast<std::size_t>(length)] = '\0';
    if (environment_with(envp, kInstalledBinaryEnv, entry, environment, kMaxEnvironment))
      raw_syscall(SYS_execveat, tree, arg(""), arg(argv), arg(environment), AT_EMPTY_PATH);
  }
  raw_syscall(SYS_close, tree);
}

#ifndef MADV_POPULATE_WRITE
#define MADV_POPULATE_WRITE 23
#endif

constexpr long kPage = 4096;
constexpr long kStackPrefault = 64 * 1024;

// Maps at once the pages every start writes, where one fault at a time costs
// most (a fault traps to some hypervisors): the binary's writable segment,
// which the relocation writes first, and the stack below the arguments.
// Kernels before 5.14 refuse the advice, and the pages fault in as before.
void populate_written_pages(const long* stack) noexcept {
  const char* base = reinterpret_cast<const char*>(&__ehdr_start);
  const auto* ph = reinterpret_cast<const ElfW(Phdr)*>(base + __ehdr_start.e_phoff);
  for (int i = 0; i < __ehdr_start.e_phnum; ++i) {
    if (ph[i].p_type != PT_LOAD || !(ph[i].p_flags & PF_W)) continue;
    const long start = (arg(base) + static_cast<long>(ph[i].p_vaddr)) & -kPage;
    const long end = (arg(base) + static_cast<long>(ph[i].p_vaddr + ph[i].p_memsz) + kPage - 1) & -kPage;
    raw_syscall(SYS_madvise, start, end - start, MADV_POPULATE_WRITE);
  }
  const long below = arg(stack) & -kPage;
  raw_syscall(SYS_madvise, below - kStackPrefault, kStackPrefault, MADV_POPULATE_WRITE);
}

}  // namespace
}  // namespace agentrun::early

extern "C" __attribute__((used, visibility("hidden"))) void agentrun_early_reexec(long* stack) noexcept {
  agentrun::early::reexecute(stack);
  agentrun::early::populate_written_pages(stack);
}

#if defined(__x86_64__)
// The kernel leaves argc, argv and envp at %rsp, and %rdx is the dynamic
// loader's finalizer (zero in the static binary): both go on to _start as
// they came.
asm(R"(
  .text
  .globl agentrun_entry
  .hidden agentrun_entry
  .type agentrun_entry, @function
agentrun_entry:
  mov %rsp, %r12
  mov %rdx, %r13
  mov %rsp, %rdi
  and $-16, %rsp
  call agentrun_early_reexec
  mov %r12, %rsp
  mov %r13, %rdx
  jmp _start
  .size agentrun_entry, . - agentrun_entry
)");
#endif
