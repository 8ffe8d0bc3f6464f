#include "runtime/util/in_root.hpp"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/openat2.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <vector>

namespace agentrun {
namespace {

constexpr uint64_t kInRoot = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS;
constexpr int kMaxLinks = 40;

int raw_openat2(int dirfd, const std::string& path, int flags, uint64_t resolve) {
  open_how how{};
  how.flags = static_cast<uint64_t>(flags) | O_CLOEXEC;
  how.resolve = resolve;
  long fd;
  do {
    fd = ::syscall(SYS_openat2, dirfd, path.c_str(), &how, sizeof how);
  } while (fd < 0 && errno == EAGAIN);  // a rename elsewhere raced the lookup
  return static_cast<int>(fd);
}

std::vector<std::string> split(const std::string& path) {
  std::vector<std::string> out;
  size_t i = 0;
  while (i < path.size()) {
    size_t j = path.find('/', i);
    if (j == std::string::npos) j = path.size();
    std::string comp = path.substr(i, j - i);
    if (!comp.empty() && comp != ".") out.push_back(std::move(comp));
    i = j + 1;
  }
  return out;
}

std::string join(const std::vector<std::string>& comps, size_t from, size_t to) {
  std::string out;
  for (size_t i = from; i < to; ++i) out += "/" + comps[i];
  return out;
}

int create_empty_file(int parent, const std::string& name) {
  int fd = ::openat(parent, name.c_str(), O_CREAT | O_EXCL | O_WRONLY | O_NOFOLLOW | O_CLOEXEC, 0644);
  if (fd < 0) return -1;
  ::close(fd);
  return 0;
}

}  // namespace

std::string clean_path(const std::string& path) {
  // ".." is resolved by name, as runc cleans destinations, so that
  // "/x/../dev" is recognised as /dev; never above the root.
  std::vector<std::string> comps;
  for (auto& c : split(path)) {
    if (c != "..")
      comps.push_back(std::move(c));
    else if (!comps.empty())
      comps.pop_back();
  }
  std::string out = join(comps, 0, comps.size());
  return out.empty() ? "/" : out;
}

Result<UniqueFd> open_in_root(int root, const std::string& path, int flags, uint64_t extra) {
  std::string rel = "." + clean_path(path);
  int fd = raw_openat2(root, rel, flags, kInRoot | extra);
  if (fd < 0) return sys_error("open " + clean_path(path) + " in the container's root", errno);
  return UniqueFd(fd);
}

Result<UniqueFd> open_in_root_no_symlinks(int root, const std::string& path, int flags) {
  auto fd = open_in_root(root, path, flags, RESOLVE_NO_SYMLINKS);
  if (!fd && fd.error().errnum == ELOOP)
    return plain_error(clean_path(path), "must be a real directory in the container's root, not a symlink");
  return fd;
}

Result<UniqueFd> make_in_root(int root, const std::string& path, TargetKind kind) {
  const std::string step = "create " + clean_path(path) + " in the container's root";
  std::string current = clean_path(path);
  for (int links = 0; links <= kMaxLinks; ++links) {
    auto comps = split(current);
    if (comps.empty()) return open_in_root(root, "/", O_PATH | O_DIRECTORY);
    std::string prefix = ".";
    bool followed = false;
    for (size_t i = 0; i < comps.size() && !followed; ++i) {
      const bool last = i + 1 == comps.size();
      const bool want_file = last && kind == TargetKind::file;
      const std::string next = prefix + "/" + comps[i];
      const int flags = O_PATH | (want_file ? 0 : O_DIRECTORY);
      int fd = raw_openat2(root, next, flags, kInRoot);
      if (fd < 0 && errno == ENOENT) {
        UniqueFd parent(raw_openat2(root, prefix, O_PATH | O_DIRECTORY, kInRoot));
        if (!parent) return sys_error(step + ": open " + prefix.substr(1), errno);
        int rc = want_file ? create_empty_file(parent.get(), comps[i])
                           : ::mkdirat(parent.get(), comps[i].c_str(), 0755);
        if (rc < 0 && errno != EEXIST) return sys_error(step, errno);
        fd = raw_openat2(root, next, flags, kInRoot);
        if (fd < 0 && errno == ENOENT) {
          // The name exists but does not resolve: a dangling symlink. Create
          // what it points to instead, resolved inside the root as well.
          char target[PATH_MAX];
          ssize_t n = ::readlinkat(parent.get(), comps[i].c_str(), target, sizeof target - 1);
          if (n < 0) return sys_error(step + ": read link " + next.substr(1), errno);
          std::string link(target, static_cast<size_t>(n));
          std::string rest = join(comps, i + 1, comps.size());
          current = clean_path(link[0] == '/' ? link + rest
                                              : prefix.substr(1) + "/" + link + rest);
          followed = true;
          continue;
        }
      }
      if (fd < 0) return sys_error(step, errno);
      if (last) return UniqueFd(fd);
      ::close(fd);
      prefix = next;
    }
  }
  return sys_error(step, ELOOP);
}

}  // namespace agentrun
