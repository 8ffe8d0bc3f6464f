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

Status write_whole_file(int dirfd, const std::string& path, const std::string& data, int flags) {
  UniqueFd fd(::openat(dirfd, path.c_str(), O_WRONLY | O_CLOEXEC | flags, 0644));
  if (!fd) return sys_error("write " + path, errno);
  size_t done = 0;
  while (done < data.size()) {
    ssize_t n = ::write(fd.get(), data.data() + done, data.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return sys_error("write " + path, errno);
    done += static_cast<size_t>(n);
  }
  return {};
}

Status replace_file(int dirfd, const std::string& path, const std::string& data) {
  const std::string tmp = path + ".agentrun-tmp";
  AR_TRY(write_whole_file(dirfd, tmp, data, O_CREAT | O_TRUNC));
  if (::renameat(dirfd, tmp.c_str(), dirfd, path.c_str()) < 0) {
    Error e = sys_error("write " + path, errno);
    ::unlinkat(dirfd, tmp.c_str(), 0);
    return e;
  }
  return {};
}

}  // namespace agentrun
