#include "runtime/util/signals.hpp"

#include <errno.h>
#include <fcntl.h>
#include <linux/magic.h>
#include <signal.h>
#include <sys/vfs.h>
#include <unistd.h>

namespace agentrun {

std::optional<uint64_t> ignored_signals(std::string_view status) {
  static constexpr std::string_view kKey = "\nSigIgn:\t";
  const size_t at = status.find(kKey);
  if (at == std::string_view::npos) return std::nullopt;
  uint64_t mask = 0;
  size_t digits = 0;
  for (size_t i = at + kKey.size(); i < status.size() && status[i] != '\n'; ++i, ++digits) {
    const char c = status[i];
    const int v = c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
    if (v < 0 || digits == 16) return std::nullopt;
    mask = mask << 4 | static_cast<uint64_t>(v);
  }
  if (digits == 0) return std::nullopt;
  return mask;
}

namespace {

// This thread's ignored signals, read without allocating (a forked child
// may call this); nothing when /proc cannot say, or is not a procfs (a
// container's root may put anything there).
std::optional<uint64_t> own_ignored_signals() {
  const int fd = ::open("/proc/thread-self/status", O_RDONLY | O_CLOEXEC);
  if (fd < 0) return std::nullopt;
  struct statfs fs;
  if (::fstatfs(fd, &fs) < 0 || fs.f_type != PROC_SUPER_MAGIC) {
    ::close(fd);
    return std::nullopt;
  }
  char buf[4096];
  size_t len = 0;
  while (len < sizeof buf) {
    const ssize_t n = ::read(fd, buf + len, sizeof buf - len);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    len += static_cast<size_t>(n);
  }
  ::close(fd);
  return ignored_signals(std::string_view(buf, len));
}

}  // namespace

void reset_signals_for_exec() {
  // execve itself resets every handled signal; only an ignored one stays
  // so. Where /proc cannot say which, every signal is reset.
  const std::optional<uint64_t> ignored = own_ignored_signals();
  struct sigaction dfl {};
  dfl.sa_handler = SIG_DFL;
  for (int sig = 1; sig < NSIG; ++sig)
    if (!ignored || (*ignored >> (sig - 1) & 1)) ::sigaction(sig, &dfl, nullptr);  // fails harmlessly for KILL/STOP
  sigset_t none;
  sigemptyset(&none);
  ::sigprocmask(SIG_SETMASK, &none, nullptr);
}

}  // namespace agentrun
