#include "runtime/util/file_io.hpp"

#include <errno.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "runtime/util/fd.hpp"

namespace agentrun {

Result<std::string> read_all(int fd, const std::string& what, size_t limit) {
  std::string out;
  char buf[8192];
  for (;;) {
    ssize_t n = ::read(fd, buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return sys_error("read " + what, errno);
    if (n == 0) return out;
    if (out.size() + static_cast<size_t>(n) > limit)
      return plain_error("read " + what, "longer than " + std::to_string(limit) + " bytes");
    out.append(buf, static_cast<size_t>(n));
  }
}

Result<std::string> read_whole_file(int dirfd, const std::string& path) {
  UniqueFd fd(::openat(dirfd, path.c_str(), O_RDONLY | O_CLOEXEC));
  if (!fd) return sys_error("read " + path, errno);
  return read_all(fd.get(), path);
}

Result<std::string> read_regular(int fd, const std::string& what, size_t limit) {
  struct stat st;
  if (::fstat(fd, &st) < 0) return sys_error("read " + what, errno);
  if (!S_ISREG(st.st_mode)) return plain_error("read " + what, "not a regular file");
  return read_all(fd, what, limit);
}

Result<std::string> read_regular_file(int dirfd, const std::string& path, size_t limit, int flags) {
  UniqueFd fd(::openat(dirfd, path.c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY | flags));
  if (!fd) return sys_error("read " + path, errno);
  return read_regular(fd.get(), path, limit);
}

std::string read_input_file(const std::string& path, const std::string& label) {
  const std::string what = label + " " + path;
  UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY));
  if (!fd) throw Failure(sys_error("read " + what, errno));
  return read_regular(fd.get(), what, kMaxInputBytes).or_throw();
}

namespace {

Status write_all(int fd, const std::string& shown, const std::string& data) {
  size_t done = 0;
  while (done < data.size()) {
    ssize_t n = ::write(fd, data.data() + done, data.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return sys_error("write " + shown, errno);
    done += static_cast<size_t>(n);
  }
  return {};
}

// A rename is on disk once the directory that holds it is.
Status flush_directory(int dirfd, const std::string& path, const std::string& dir_name) {
  const size_t slash = path.rfind('/');
  const std::string parent = slash == std::string::npos ? "." : slash == 0 ? "/" : path.substr(0, slash);
  const std::string shown = dir_name.empty() ? parent : slash == std::string::npos ? dir_name : dir_name + "/" + parent;
  UniqueFd opened;
  if (slash != std::string::npos || dirfd == AT_FDCWD) {
    opened.reset(::openat(dirfd, parent.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
    if (!opened) return sys_error("flush directory " + shown + " to disk", errno);
  }
  if (::fsync(opened ? opened.get() : dirfd) < 0) return sys_error("flush directory " + shown + " to disk", errno);
  return {};
}

}  // namespace

Status write_whole_file(int dirfd, const std::string& path, const std::string& data, int flags) {
  UniqueFd fd(::openat(dirfd, path.c_str(), O_WRONLY | O_CLOEXEC | flags, 0644));
  if (!fd) return sys_error("write " + path, errno);
  return write_all(fd.get(), path, data);
}

Status replace_file(int dirfd, const std::string& path, const std::string& data, const std::string& dir_name,
                    mode_t mode) {
  const std::string shown = dir_name.empty() ? path : dir_name + "/" + path;
  // Named for the writer: two processes writing one file (a cache in the
  // state root) never share a temporary; one left by a writer that had this
  // pid and died mid-write is replaced.
  const std::string tmp = path + ".agentrun-tmp." + std::to_string(::getpid());
  const std::string tmp_shown = shown + ".agentrun-tmp." + std::to_string(::getpid());
  const auto create_tmp = [&] {
    return UniqueFd(::openat(dirfd, tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, mode));
  };
  UniqueFd fd = create_tmp();
  if (!fd && errno == EEXIST && ::unlinkat(dirfd, tmp.c_str(), 0) == 0) fd = create_tmp();
  if (!fd) return sys_error("write " + tmp_shown, errno);
  Status s = write_all(fd.get(), tmp_shown, data);
  // The data reaches the disk before the name does: a crash leaves the old file, not an empty new one.
  if (s && ::fsync(fd.get()) < 0) s = sys_error("flush " + tmp_shown + " to disk", errno);
  if (s && ::renameat(dirfd, tmp.c_str(), dirfd, path.c_str()) < 0) s = sys_error("rename " + tmp_shown + " to " + shown, errno);
  if (!s) {
    ::unlinkat(dirfd, tmp.c_str(), 0);
    return s;
  }
  return flush_directory(dirfd, path, dir_name);
}

}  // namespace agentrun
