#pragma once
// The re-execution from a read-only copy (sealed_exec.hpp), taken at the
// binary's entry point before the C library starts. A static glibc's start
// costs about 0.3 ms on a VM, where each of its CPUID instructions traps to
// the hypervisor; create, run and exec would pay it twice. Here they pay it
// once: agentrun_entry (the ELF entry of the runtime binary) re-executes from
// a read-only mount of the binary with raw system calls, and jumps to the C
// library's _start when there is nothing to do or anything fails.
// run_from_read_only_binary, which main calls in every case, then finds the
// work done, or does it and reports what fails.
//
// Everything in this module runs before the static PIE is relocated and
// before thread-local storage exists: no C library calls, no global data
// that needs a relocation, no stack protector (the build checks the object
// for undefined symbols).

#include <fcntl.h>

#include <cstddef>

namespace agentrun::early {

// The seals that make a memfd copy of the binary unwritable.
inline constexpr int kBinarySeals = F_SEAL_SEAL | F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_WRITE;

// The variable in which the re-executed runtime finds the path it was
// started from (its /proc/self/exe names the read-only copy).
inline constexpr char kInstalledBinaryEnv[] = "AGENTRUN_INSTALLED_BINARY";

// Whether a process with these arguments may be create, run or exec: any
// argument after argv[0] spelled so. Erring the other way would leave a
// command to the slower re-execution in main, never without one.
bool names_container_start(int argc, char* const* argv) noexcept;

// Whether the open file `fd` is on a read-only mount or a sealed memfd.
bool unwritable_binary(int fd) noexcept;

// A detached, read-only, nosuid, nodev clone of the mount the open file `fd`
// is on, rooted at the file itself: a descriptor, or -1.
int read_only_tree_of(int fd) noexcept;

// `envp` without its entries named `name`, then `entry` ("name=value"), in
// `out` with a null pointer after the last; `out` holds `capacity` pointers.
// Returns false when they do not fit.
bool environment_with(char* const* envp, const char* name, char* entry, char** out, std::size_t capacity) noexcept;

}  // namespace agentrun::early
