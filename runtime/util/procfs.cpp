#include "runtime/util/procfs.hpp"

#include <errno.h>
#include <fcntl.h>
#include <linux/magic.h>
#include <linux/openat2.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/syscall.h>
#include <unistd.h>

namespace agentrun {
namespace {

constexpr ino_t kProcRootIno = 1;

bool on_procfs(int fd) {
  struct statfs sf;
  return ::fstatfs(fd, &sf) == 0 && sf.f_type == PROC_SUPER_MAGIC;
}

}  // namespace

Result<UniqueFd> open_procfs(const std::string& path) {
  UniqueFd fd(::open(path.c_str(), O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
  if (!fd) return sys_error("open procfs at " + path, errno);
  struct stat st;
  if (!on_procfs(fd.get()) || ::fstat(fd.get(), &st) < 0 || st.st_ino != kProcRootIno)
    return plain_error("open procfs at " + path, "it is not the root of a procfs mount");
  return fd;
}

Status write_proc_file(int procfs, const std::string& relative, const std::string& value,
                       const std::string& step) {
  open_how how{};
  how.flags = O_WRONLY | O_CLOEXEC | O_NOFOLLOW;
  how.resolve = RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS | RESOLVE_NO_XDEV;
  UniqueFd fd(static_cast<int>(::syscall(SYS_openat2, procfs, relative.c_str(), &how, sizeof how)));
  if (!fd) return sys_error(step + ": open /proc/" + relative, errno);
  if (!on_procfs(fd.get())) return plain_error(step, "/proc/" + relative + " is not on procfs");
  ssize_t n;
  do {
    n = ::write(fd.get(), value.data(), value.size());
  } while (n < 0 && errno == EINTR);
  if (n < 0) return sys_error(step, errno);
  if (static_cast<size_t>(n) != value.size()) return plain_error(step, "short write");
  return {};
}

Result<std::string> proc_self_name(int procfs) {
  char buf[32];
  ssize_t n = ::readlinkat(procfs, "self", buf, sizeof buf - 1);
  if (n < 0) return sys_error("read /proc/self", errno);
  return std::string(buf, static_cast<size_t>(n));
}

}  // namespace agentrun
