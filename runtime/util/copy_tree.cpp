#include "runtime/util/copy_tree.hpp"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <sys/sendfile.h>
#include <sys/stat.h>
#include <unistd.h>

#include "runtime/util/fd.hpp"

namespace agentrun {
namespace {

constexpr int kMaxDepth = 64;

Status copy_file(int from, int to, const char* name, const struct stat& st, const std::string& step) {
  UniqueFd in(::openat(from, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC));
  if (!in) return sys_error(step + ": open " + name, errno);
  UniqueFd out(::openat(to, name, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, st.st_mode & 07777));
  if (!out) return sys_error(step + ": create " + name, errno);
  for (;;) {
    ssize_t n = ::sendfile(out.get(), in.get(), nullptr, 1 << 20);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return sys_error(step + ": copy " + name, errno);
    if (n == 0) break;
  }
  if (::fchown(out.get(), st.st_uid, st.st_gid) < 0 || ::fchmod(out.get(), st.st_mode & 07777) < 0)
    return sys_error(step + ": set owner and mode of " + name, errno);
  return {};
}

Status copy_into(int from, int to, int depth, const std::string& step);

Status copy_entry(int from, int to, const char* name, int depth, const std::string& step) {
  struct stat st;
  if (::fstatat(from, name, &st, AT_SYMLINK_NOFOLLOW) < 0) return sys_error(step + ": stat " + name, errno);
  if (S_ISREG(st.st_mode)) return copy_file(from, to, name, st, step);
  if (S_ISLNK(st.st_mode)) {
    char target[PATH_MAX];
    ssize_t n = ::readlinkat(from, name, target, sizeof target - 1);
    if (n < 0) return sys_error(step + ": read link " + name, errno);
    target[n] = '\0';
    if (::symlinkat(target, to, name) < 0 || ::fchownat(to, name, st.st_uid, st.st_gid, AT_SYMLINK_NOFOLLOW) < 0)
      return sys_error(step + ": link " + name, errno);
    return {};
  }
  if (S_ISDIR(st.st_mode)) {
    if (::mkdirat(to, name, 0700) < 0) return sys_error(step + ": create " + name, errno);
    UniqueFd src(::openat(from, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
    UniqueFd dst(::openat(to, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
    if (!src || !dst) return sys_error(step + ": open " + name, errno);
    return copy_into(src.get(), dst.get(), depth + 1, step);
  }
  // Device nodes, fifos and sockets: recreate the node itself.
  if (::mknodat(to, name, st.st_mode, st.st_rdev) < 0 ||
      ::fchownat(to, name, st.st_uid, st.st_gid, AT_SYMLINK_NOFOLLOW) < 0)
    return sys_error(step + ": create " + name, errno);
  return {};
}

// The entries of `from` into `to`, then the mode and owner of `from` onto `to`.
Status copy_into(int from, int to, int depth, const std::string& step) {
  if (depth > kMaxDepth) return sys_error(step, ELOOP);
  DIR* dir = ::fdopendir(::openat(from, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (!dir) return sys_error(step + ": read directory", errno);
  Status result;
  while (dirent* e = ::readdir(dir)) {
    std::string n = e->d_name;
    if (n == "." || n == "..") continue;
    result = copy_entry(from, to, e->d_name, depth, step);
    if (!result) break;
  }
  ::closedir(dir);
  AR_TRY(std::move(result));
  struct stat st;
  if (::fstat(from, &st) < 0 || ::fchown(to, st.st_uid, st.st_gid) < 0 || ::fchmod(to, st.st_mode & 07777) < 0)
    return sys_error(step + ": set owner and mode", errno);
  return {};
}

}  // namespace

Status copy_tree(int from, int to, const std::string& step) { return copy_into(from, to, 0, step); }

}  // namespace agentrun
