#include "runtime/confine/seccomp_cache.hpp"

#include <dirent.h>
#include <fcntl.h>
#include <linux/seccomp.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>
#include <seccomp.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <ctime>
#include <memory>
#include <optional>
#include <tuple>
#include <vector>

#include "runtime/confine/seccomp_fold.hpp"
#include "runtime/util/fd.hpp"
#include "runtime/util/file_io.hpp"
#include "runtime/util/sha256.hpp"
#include "spec/error.hpp"
#include "spec/json_write.hpp"
#include "spec/names.hpp"

namespace agentrun {
namespace {

using Writer = rapidjson::Writer<rapidjson::StringBuffer>;

std::string operator_name(spec::SeccompOperator op) {
  for (const std::string& name : spec::seccomp_operator_names())
    if (spec::seccomp_operator_from_name(name) == op) return name;
  fail("seccomp profile", "unknown operator");
}

// Every field, in a fixed order, absent optionals as null.
std::string canonical_json(const spec::Seccomp& s) {
  rapidjson::StringBuffer buf;
  Writer w(buf);
  w.StartObject();
  spec::write_string(w, "defaultAction", spec::seccomp_action_name(s.defaultAction));
  spec::write_number(w, "defaultErrnoRet", s.defaultErrnoRet);
  spec::write_string_list(w, "architectures", s.architectures);
  spec::write_string_list(w, "flags", s.flags);
  spec::write_string(w, "listenerPath", s.listenerPath);
  spec::write_string(w, "listenerMetadata", s.listenerMetadata);
  spec::write_array(w, "syscalls", s.syscalls, [&](const spec::SeccompSyscall& sc) {
    w.StartObject();
    spec::write_string_list(w, "names", sc.names);
    spec::write_string(w, "action", spec::seccomp_action_name(sc.action));
    spec::write_number(w, "errnoRet", sc.errnoRet);
    spec::write_array(w, "args", sc.args, [&](const spec::SeccompArg& a) {
      w.StartObject();
      spec::write_number(w, "index", a.index);
      spec::write_number(w, "value", a.value);
      spec::write_number(w, "valueTwo", a.valueTwo);
      spec::write_string(w, "op", operator_name(a.op));
      w.EndObject();
    });
    w.EndObject();
  });
  w.EndObject();
  return std::string(buf.GetString(), buf.GetSize());
}

std::string cache_key(const spec::Seccomp& s) {
  const scmp_version* v = seccomp_version();
  return sha256_hex(canonical_json(s) + "\nlibseccomp " + std::to_string(v->major) + "." +
                    std::to_string(v->minor) + "." + std::to_string(v->micro) + "\narch " +
                    std::to_string(seccomp_arch_native()) + "\nagentrun " AGENTRUN_VERSION "\nfolded\n");
}

// The file: magic, key (64 hex digits), flags, notify, instruction count
// (native-endian uint32 each: the cache never leaves this machine), then
// the instructions.
constexpr char kMagic[8] = {'A', 'G', 'R', 'S', 'C', 'M', 'P', '1'};
constexpr size_t kKeySize = 64;
constexpr size_t kHeaderSize = sizeof kMagic + kKeySize + 3 * sizeof(uint32_t);

void put_u32(std::string& out, uint32_t v) { out.append(reinterpret_cast<const char*>(&v), sizeof v); }

uint32_t get_u32(const std::string& in, size_t at) {
  uint32_t v;
  std::memcpy(&v, in.data() + at, sizeof v);
  return v;
}

std::string serialise(const SeccompProgram& p, const std::string& key) {
  std::string out(kMagic, sizeof kMagic);
  out += key;
  put_u32(out, p.flags);
  put_u32(out, p.notify ? 1 : 0);
  put_u32(out, static_cast<uint32_t>(p.filter.size()));
  out.append(reinterpret_cast<const char*>(p.filter.data()), p.filter.size() * sizeof(sock_filter));
  return out;
}

bool has_notify_rule(const spec::Seccomp& s) {
  return std::any_of(s.syscalls.begin(), s.syscalls.end(),
                     [](const auto& sc) { return sc.action == spec::SeccompAction::notify; });
}

// The program in `data` if every field is what compiling `s` under `key`
// can produce; nothing otherwise.
std::optional<SeccompProgram> deserialise(const std::string& data, const std::string& key,
                                          const spec::Seccomp& s) {
  constexpr unsigned int kKnownFlags = SECCOMP_FILTER_FLAG_LOG | SECCOMP_FILTER_FLAG_SPEC_ALLOW |
                                       SECCOMP_FILTER_FLAG_NEW_LISTENER |
                                       SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV;
  if (data.size() < kHeaderSize || std::memcmp(data.data(), kMagic, sizeof kMagic) != 0 ||
      data.compare(sizeof kMagic, kKeySize, key) != 0)
    return std::nullopt;
  size_t at = sizeof kMagic + kKeySize;
  SeccompProgram p;
  p.flags = get_u32(data, at);
  const uint32_t notify = get_u32(data, at + 4);
  const uint32_t count = get_u32(data, at + 8);
  p.notify = notify == 1;
  if (notify > 1 || p.notify != has_notify_rule(s) || (p.flags & ~kKnownFlags) != 0 ||
      ((p.flags & SECCOMP_FILTER_FLAG_NEW_LISTENER) != 0) != p.notify || count == 0 ||
      count > BPF_MAXINSNS || data.size() != kHeaderSize + size_t(count) * sizeof(sock_filter))
    return std::nullopt;
  p.filter.resize(count);
  std::memcpy(p.filter.data(), data.data() + kHeaderSize, count * sizeof(sock_filter));
  return p;
}

// Ours and writable by nobody else: anyone else could plant a filter.
bool trusted(const struct stat& st) { return st.st_uid == ::geteuid() && (st.st_mode & 022) == 0; }

UniqueFd open_cache_dir(const std::string& dir) {
  if (::mkdir(dir.c_str(), 0700) < 0 && errno != EEXIST) fail_errno("create seccomp cache " + dir, errno);
  UniqueFd fd(::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
  if (!fd) fail_errno("open seccomp cache " + dir, errno);
  struct stat st;
  if (::fstat(fd.get(), &st) < 0) fail_errno("stat seccomp cache " + dir, errno);
  if (!trusted(st)) fail("seccomp cache " + dir, "not owned by this user or writable by others");
  return fd;
}

// The last use of an entry is its access time, set here alone (files are
// read with O_NOATIME: mount options would make reads update it, or not),
// at most once a minute, so that hits of a busy profile do not keep
// writing its inode. A failure is let pass: the entry only looks older.
void mark_used(int fd, const struct stat& st) {
  timespec now;
  if (::clock_gettime(CLOCK_REALTIME, &now) < 0 || st.st_atim.tv_sec + 60 > now.tv_sec) return;
  const timespec times[2] = {{0, UTIME_NOW}, {0, UTIME_OMIT}};
  (void)::futimens(fd, times);
}

// The whole file if it is a regular file we can trust, else nothing (also
// when it is not ours: O_NOATIME refuses that). A file read is marked
// used; one that fails its checks is replaced anyway.
std::optional<std::string> read_cache_file(int dirfd, const std::string& name) {
  UniqueFd fd(::openat(dirfd, name.c_str(), O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_NOATIME | O_CLOEXEC));
  struct stat st;
  if (!fd || ::fstat(fd.get(), &st) < 0 || !S_ISREG(st.st_mode) || !trusted(st) ||
      st.st_size > static_cast<off_t>(kHeaderSize + BPF_MAXINSNS * sizeof(sock_filter)))
    return std::nullopt;
  std::string data(static_cast<size_t>(st.st_size), '\0');
  size_t done = 0;
  while (done < data.size()) {
    ssize_t n = ::pread(fd.get(), data.data() + done, data.size() - done, static_cast<off_t>(done));
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return std::nullopt;
    done += static_cast<size_t>(n);
  }
  mark_used(fd.get(), st);
  return data;
}

bool is_entry_name(const std::string& name) {
  return name.size() == kKeySize + 4 && name.compare(kKeySize, 4, ".bpf") == 0 &&
         std::all_of(name.begin(), name.begin() + kKeySize,
                     [](char c) { return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'); });
}

// Removes the least recently used entries beyond kSeccompCacheEntries,
// never `kept` (the one just written). Best effort, and safe beside other
// processes: a reader that opened an entry keeps reading it, one that comes
// after finds none and compiles the profile again; an entry another
// evictor removed first is skipped. Temporary files are a writer's own.
void evict(int dirfd, const std::string& kept) {
  UniqueFd fd(::openat(dirfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  std::unique_ptr<DIR, int (*)(DIR*)> dir(fd ? ::fdopendir(fd.get()) : nullptr, ::closedir);
  if (!dir) return;
  fd.release();  // the DIR's now
  struct Entry {
    timespec used;
    std::string name;
  };
  std::vector<Entry> entries;
  while (const dirent* e = ::readdir(dir.get())) {
    struct stat st;
    const std::string name = e->d_name;
    if (name != kept && is_entry_name(name) && ::fstatat(dirfd, name.c_str(), &st, AT_SYMLINK_NOFOLLOW) == 0 &&
        S_ISREG(st.st_mode))
      entries.push_back({st.st_atim, name});
  }
  if (entries.size() < kSeccompCacheEntries) return;
  const size_t excess = entries.size() - (kSeccompCacheEntries - 1);
  std::partial_sort(entries.begin(), entries.begin() + excess, entries.end(), [](const Entry& a, const Entry& b) {
    return std::tie(a.used.tv_sec, a.used.tv_nsec) < std::tie(b.used.tv_sec, b.used.tv_nsec);
  });
  for (size_t i = 0; i < excess; ++i) (void)::unlinkat(dirfd, entries[i].name.c_str(), 0);
}

}  // namespace

std::string seccomp_profile_hash(const spec::Seccomp& profile) { return sha256_hex(canonical_json(profile)); }

SeccompProgram compile_for_loading(const spec::Seccomp& profile, const std::string& where) {
  SeccompProgram program = compile_seccomp(profile, where);
  program.filter = fold_syscall_ranges(program.filter);
  return program;
}

SeccompProgram compile_seccomp_cached(const spec::Seccomp& profile, const std::string& where,
                                      const std::string& cache_dir) {
  const std::string key = cache_key(profile);
  const std::string name = key + ".bpf";
  UniqueFd dir = open_cache_dir(cache_dir);
  if (auto data = read_cache_file(dir.get(), name))
    if (auto program = deserialise(*data, key, profile)) return *program;
  SeccompProgram program = compile_for_loading(profile, where);
  // Replaced whole: readers see the old entry or the new one, never a part.
  if (Status s = replace_file(dir.get(), name, serialise(program, key), cache_dir, 0600); !s)
    throw Failure(Error{"write seccomp cache", s.error().message(), 0});
  evict(dir.get(), name);
  return program;
}

}  // namespace agentrun
