#include <boost/test/unit_test.hpp>
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>

#include "runtime/confine/seccomp_cache.hpp"
#include "runtime/confine/seccomp_profiles.hpp"
#include "spec/error.hpp"
#include "support/checks.hpp"

using namespace agentrun;
namespace fs = std::filesystem;

namespace {

const std::string kWhere = "agent-hardening";

// A fresh cache folder under a temporary directory, removed afterwards.
struct CacheDir : TempDir {
  std::string dir = path + "/cache";
  CacheDir() : TempDir("seccomp-cache") {}

  // The one cache file there is.
  std::string only_file() const {
    std::vector<std::string> files;
    for (const auto& e : fs::directory_iterator(dir)) files.push_back(e.path());
    BOOST_REQUIRE(files.size() == 1u);
    return files[0];
  }
};

bool same_program(const SeccompProgram& a, const SeccompProgram& b) {
  return a.flags == b.flags && a.notify == b.notify && a.filter.size() == b.filter.size() &&
         std::memcmp(a.filter.data(), b.filter.data(), a.filter.size() * sizeof(sock_filter)) == 0;
}

void write_file(const std::string& path, const std::string& data) {
  std::ofstream(path, std::ios::binary | std::ios::trunc) << data;
}

ino_t inode_of(const std::string& path) {
  struct stat st;
  BOOST_REQUIRE(::lstat(path.c_str(), &st) == 0);
  return st.st_ino;
}

// Seconds since the file's last access (its last use in the cache).
time_t unused_for(const std::string& path) {
  struct stat st;
  BOOST_REQUIRE(::lstat(path.c_str(), &st) == 0);
  return ::time(nullptr) - st.st_atim.tv_sec;
}

void set_unused_for(const std::string& path, time_t seconds) {
  const timespec times[2] = {{::time(nullptr) - seconds, 0}, {0, UTIME_OMIT}};
  BOOST_REQUIRE(::utimensat(AT_FDCWD, path.c_str(), times, AT_SYMLINK_NOFOLLOW) == 0);
}

// agent-hardening, told apart by its first rule's errno: a profile of its own key.
spec::Seccomp variant(int n) {
  spec::Seccomp profile = builtin_seccomp_profile("agent-hardening");
  profile.syscalls[0].errnoRet = static_cast<uint32_t>(1000 + n);
  return profile;
}

// An entry of the cache by its name; eviction goes by names and times only.
std::string fake_entry(const CacheDir& cache, int n, time_t unused) {
  char key[65];
  std::snprintf(key, sizeof key, "%064x", n);
  const std::string path = cache.dir + "/" + key + ".bpf";
  write_file(path, "not a filter");
  set_unused_for(path, unused);
  return path;
}

size_t entry_count(const CacheDir& cache) {
  size_t n = 0;
  for (const auto& e : fs::directory_iterator(cache.dir)) n += e.path().extension() == ".bpf";
  return n;
}

}  // namespace

BOOST_AUTO_TEST_CASE(miss_writes_a_private_file_and_hit_reuses_it) {
  CacheDir cache;
  const spec::Seccomp profile = builtin_seccomp_profile("agent-hardening");
  const SeccompProgram fresh = compile_for_loading(profile, kWhere);

  const SeccompProgram first = compile_seccomp_cached(profile, kWhere, cache.dir);
  BOOST_TEST(same_program(first, fresh));
  const std::string file = cache.only_file();
  BOOST_TEST(fs::path(file).extension() == ".bpf");
  struct stat st;
  BOOST_REQUIRE(::stat(cache.dir.c_str(), &st) == 0);
  BOOST_TEST((st.st_mode & 07777) == 0700u);
  BOOST_REQUIRE(::stat(file.c_str(), &st) == 0);
  BOOST_TEST((st.st_mode & 07777) == 0600u);

  // A hit leaves the file alone: same inode, same modification time.
  const timespec mtime = st.st_mtim;
  const ino_t inode = st.st_ino;
  const SeccompProgram second = compile_seccomp_cached(profile, kWhere, cache.dir);
  BOOST_TEST(same_program(second, fresh));
  BOOST_REQUIRE(::stat(file.c_str(), &st) == 0);
  BOOST_TEST(st.st_ino == inode);
  BOOST_TEST(st.st_mtim.tv_sec == mtime.tv_sec);
  BOOST_TEST(st.st_mtim.tv_nsec == mtime.tv_nsec);
  BOOST_TEST(cache.only_file() == file);
}

BOOST_AUTO_TEST_CASE(a_file_that_does_not_check_out_is_replaced) {
  CacheDir cache;
  const spec::Seccomp profile = builtin_seccomp_profile("agent-hardening");
  const SeccompProgram fresh = compile_seccomp_cached(profile, kWhere, cache.dir);
  const std::string file = cache.only_file();
  const std::string good = read_file(file);
  constexpr size_t kKeyAt = 8, kCountAt = 8 + 64 + 8;

  struct Damage {
    const char* what;
    std::string data;
  };
  std::string wrong_magic = good, wrong_key = good, wrong_count = good, wrong_notify = good;
  wrong_magic[0] ^= 1;
  wrong_key[kKeyAt] = wrong_key[kKeyAt] == '0' ? '1' : '0';
  wrong_count[kCountAt] ^= 1;
  wrong_notify[kCountAt - 4] = 1;
  const Damage damages[] = {
      {"empty", ""},
      {"truncated header", good.substr(0, 20)},
      {"truncated filter", good.substr(0, good.size() - 1)},
      {"trailing byte", good + "x"},
      {"wrong magic", wrong_magic},
      {"wrong key", wrong_key},
      {"wrong count", wrong_count},
      {"wrong notify", wrong_notify},
  };
  for (const Damage& d : damages) {
    fs::remove(file);
    write_file(file, d.data);
    ::chmod(file.c_str(), 0600);
    const ino_t damaged = inode_of(file);
    BOOST_TEST(same_program(compile_seccomp_cached(profile, kWhere, cache.dir), fresh), d.what);
    BOOST_TEST(read_file(file) == good, d.what);
    BOOST_TEST(inode_of(file) != damaged, d.what);
  }

  // Intact, but writable by others: someone else could have planted it.
  ::chmod(file.c_str(), 0622);
  const ino_t writable = inode_of(file);
  compile_seccomp_cached(profile, kWhere, cache.dir);
  BOOST_TEST(inode_of(file) != writable);

  // A symbolic link is not followed, and its target is left alone.
  const std::string target = cache.path + "/target";
  write_file(target, good);
  fs::remove(file);
  fs::create_symlink(target, file);
  BOOST_TEST(same_program(compile_seccomp_cached(profile, kWhere, cache.dir), fresh));
  BOOST_TEST(fs::is_regular_file(fs::symlink_status(file)));
  BOOST_TEST(read_file(target) == good);
}

BOOST_AUTO_TEST_CASE(different_profiles_have_different_keys) {
  CacheDir cache;
  spec::Seccomp profile = builtin_seccomp_profile("agent-hardening");
  const std::string hash = seccomp_profile_hash(profile);
  BOOST_TEST(hash.size() == 64u);
  BOOST_TEST(seccomp_profile_hash(builtin_seccomp_profile("agent-hardening")) == hash);
  BOOST_TEST(seccomp_profile_hash(builtin_seccomp_profile("docker-baseline")) != hash);

  compile_seccomp_cached(profile, kWhere, cache.dir);
  // An absent errno and an explicit EPERM compile alike but are different
  // profiles: the canonical form keeps every field as written.
  profile.syscalls[0].errnoRet.reset();
  BOOST_TEST(seccomp_profile_hash(profile) != hash);
  compile_seccomp_cached(profile, kWhere, cache.dir);
  profile.syscalls[1].args[0].valueTwo = 0;
  compile_seccomp_cached(profile, kWhere, cache.dir);
  BOOST_TEST(std::distance(fs::directory_iterator(cache.dir), fs::directory_iterator()) == 3);
}

BOOST_AUTO_TEST_CASE(a_cache_folder_others_can_write_is_refused) {
  CacheDir cache;
  BOOST_REQUIRE(::mkdir(cache.dir.c_str(), 0700) == 0);
  BOOST_REQUIRE(::chmod(cache.dir.c_str(), 0777) == 0);
  const spec::Seccomp profile = builtin_seccomp_profile("agent-hardening");
  try {
    compile_seccomp_cached(profile, kWhere, cache.dir);
    BOOST_ERROR("no failure");
  } catch (const Failure& f) {
    BOOST_TEST(f.what() == "seccomp cache " + cache.dir + ": not owned by this user or writable by others");
  }
}

BOOST_AUTO_TEST_CASE(a_hit_marks_the_entry_used_at_most_once_a_minute) {
  CacheDir cache;
  const spec::Seccomp profile = builtin_seccomp_profile("agent-hardening");
  compile_seccomp_cached(profile, kWhere, cache.dir);
  const std::string file = cache.only_file();
  struct stat before;
  BOOST_REQUIRE(::stat(file.c_str(), &before) == 0);

  set_unused_for(file, 3600);
  compile_seccomp_cached(profile, kWhere, cache.dir);
  BOOST_TEST(unused_for(file) < 60);
  struct stat after;
  BOOST_REQUIRE(::stat(file.c_str(), &after) == 0);
  BOOST_TEST(after.st_ino == before.st_ino);
  BOOST_TEST(after.st_mtim.tv_sec == before.st_mtim.tv_sec);
  BOOST_TEST(after.st_mtim.tv_nsec == before.st_mtim.tv_nsec);

  set_unused_for(file, 30);
  compile_seccomp_cached(profile, kWhere, cache.dir);
  BOOST_TEST(unused_for(file) >= 30);
}

BOOST_AUTO_TEST_CASE(a_new_entry_evicts_the_least_recently_used) {
  CacheDir cache;
  const spec::Seccomp used = variant(0);
  compile_seccomp_cached(used, kWhere, cache.dir);
  const std::string used_file = cache.only_file();
  // The oldest of all until a hit marks it used.
  set_unused_for(used_file, 7200);
  std::vector<std::string> fakes;
  for (int i = 0; i < static_cast<int>(kSeccompCacheEntries) - 1; ++i)
    fakes.push_back(fake_entry(cache, i, 3600 + i));
  // Not entries: left alone, and not counted.
  const std::string others[] = {cache.dir + "/notes", used_file + ".tmp.1", cache.dir + "/ABC.bpf"};
  for (const auto& path : others) {
    write_file(path, "x");
    set_unused_for(path, 9000);
  }
  compile_seccomp_cached(used, kWhere, cache.dir);
  BOOST_TEST(entry_count(cache) == kSeccompCacheEntries + 1);  // with ABC.bpf; a hit evicts nothing

  const SeccompProgram fresh = compile_for_loading(variant(1), kWhere);
  BOOST_TEST(same_program(compile_seccomp_cached(variant(1), kWhere, cache.dir), fresh));
  BOOST_TEST(!exists(fakes.back()));
  for (size_t i = 0; i + 1 < fakes.size(); ++i) BOOST_TEST(exists(fakes[i]), fakes[i]);
  BOOST_TEST(exists(used_file));
  for (const auto& path : others) BOOST_TEST(exists(path), path);
  BOOST_TEST(entry_count(cache) == kSeccompCacheEntries + 1);
}

// A cache filled beyond the bound (by an agentrun without one) shrinks to
// it at the next new entry.
BOOST_AUTO_TEST_CASE(a_cache_over_its_bound_shrinks_to_it) {
  CacheDir cache;
  BOOST_REQUIRE(::mkdir(cache.dir.c_str(), 0700) == 0);
  const int extra = 5;
  std::vector<std::string> fakes;
  for (int i = 0; i < static_cast<int>(kSeccompCacheEntries) + extra; ++i) fakes.push_back(fake_entry(cache, i, 100 + i));
  compile_seccomp_cached(variant(0), kWhere, cache.dir);
  BOOST_TEST(entry_count(cache) == kSeccompCacheEntries);
  for (size_t i = 0; i < fakes.size(); ++i)
    BOOST_TEST(exists(fakes[i]) == (i + extra + 1 < fakes.size()), fakes[i]);
}

// Processes that share the cache, each adding entries (and so evicting)
// while they all use one profile: every call gets the right filter.
BOOST_AUTO_TEST_CASE(processes_share_the_cache_while_it_evicts) {
  CacheDir cache;
  constexpr int kProcesses = 4, kEach = 24;
  const spec::Seccomp shared = variant(-1);
  const SeccompProgram shared_program = compile_for_loading(shared, kWhere);
  std::vector<pid_t> children;
  for (int p = 0; p < kProcesses; ++p) {
    const pid_t pid = ::fork();
    BOOST_REQUIRE(pid >= 0);
    if (pid == 0) {
      int code = 0;
      try {
        for (int i = 0; i < kEach && code == 0; ++i) {
          const spec::Seccomp own = variant(p * kEach + i);
          if (!same_program(compile_seccomp_cached(own, kWhere, cache.dir), compile_for_loading(own, kWhere)) ||
              !same_program(compile_seccomp_cached(shared, kWhere, cache.dir), shared_program))
            code = 1;
        }
      } catch (const Failure&) {
        code = 2;
      }
      ::_exit(code);
    }
    children.push_back(pid);
  }
  for (pid_t pid : children) {
    int status = 0;
    BOOST_REQUIRE(::waitpid(pid, &status, 0) == pid);
    BOOST_TEST((WIFEXITED(status) && WEXITSTATUS(status) == 0), "child status " << status);
  }
  BOOST_TEST(entry_count(cache) <= kSeccompCacheEntries);
}
