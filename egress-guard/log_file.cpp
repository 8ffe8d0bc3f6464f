#include "egress-guard/log_file.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>

#include "egress-guard/failure.hpp"

namespace agentrun::egress {

LogFile::LogFile(std::string path, uint64_t max_bytes) : path_(std::move(path)), max_bytes_(max_bytes) { open(); }

LogFile::~LogFile() {
  if (fd_ >= 0) close(fd_);
}

void LogFile::open() {
  // O_NOFOLLOW: the state directory is the runtime's, but a link there must not redirect writes.
  fd_ = ::open(path_.c_str(), O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0640);
  if (fd_ < 0) fail_errno("log", "open " + path_, errno);
  struct stat st {};
  if (fstat(fd_, &st) != 0) fail_errno("log", "fstat " + path_, errno);
  if (!S_ISREG(st.st_mode)) fail("log", path_ + " is not a regular file");
  size_ = static_cast<uint64_t>(st.st_size);
}

void LogFile::append(std::string_view line) {
  const std::lock_guard lock(mutex_);
  std::string text(line);
  text += '\n';
  if (size_ > 0 && size_ + text.size() > max_bytes_) {
    const std::string old = path_ + ".1";
    if (rename(path_.c_str(), old.c_str()) != 0) fail_errno("log", "rename " + path_ + " to " + old, errno);
    close(fd_);
    fd_ = -1;
    open();
  }
  // One write of the whole line (O_APPEND): readers never see half a line
  // followed by another's.
  const ssize_t n = write(fd_, text.data(), text.size());
  if (n < 0) fail_errno("log", "write " + path_, errno);
  size_ += static_cast<uint64_t>(n);
  if (static_cast<size_t>(n) != text.size()) fail("log", "short write to " + path_);
}

}  // namespace agentrun::egress
