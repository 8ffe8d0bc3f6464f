#pragma once
// Compiled seccomp filters cached by content: compiling Docker's baseline
// takes libseccomp a noticeable while, and every container start needs it.

#include <cstddef>
#include <string>

#include "runtime/confine/seccomp_compile.hpp"
#include "spec/config.hpp"

namespace agentrun {

// sha256 of a canonical JSON form of every field of the profile: equal
// profiles hash equal however their JSON was written. `inspect` shows it.
std::string seccomp_profile_hash(const spec::Seccomp& profile);

// The cache keeps at most this many filters (a file is at most 32 KiB and
// 84 bytes: about 2 MiB in all), evicting the least recently used: each
// new profile, and each upgrade of agentrun or libseccomp, adds files.
constexpr size_t kSeccompCacheEntries = 64;

// compile_seccomp, with libseccomp's dispatch on the call number folded
// into ranges (seccomp_fold.hpp): the program the init loads.
SeccompProgram compile_for_loading(const spec::Seccomp& profile, const std::string& where);

// compile_for_loading, through <cache_dir>/<key>.bpf. The key covers the
// profile, the libseccomp version, the native architecture,
// AGENTRUN_VERSION and the folding. cache_dir (its parent must exist) is created 0700; a
// cache_dir that is not a directory of ours, or is writable by others, is
// refused. A cache file is used only if it is ours, not writable by others,
// and its header (magic, key, flags, notify, instruction count) and size
// check out exactly; otherwise the profile is compiled and the file
// replaced atomically. A use sets the file's access time (at most once a
// minute); a new file evicts the least recently used beyond
// kSeccompCacheEntries. Processes may share the cache: a reader keeps the
// file it opened, and eviction never fails the call.
SeccompProgram compile_seccomp_cached(const spec::Seccomp& profile, const std::string& where,
                                      const std::string& cache_dir);

}  // namespace agentrun
