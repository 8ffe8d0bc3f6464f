#include "runtime/sealed_exec.hpp"

#include <fcntl.h>
#include <linux/memfd.h>
#include <sys/mman.h>
#include <sys/sendfile.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>

#include "runtime/fd.hpp"
#include "spec/error.hpp"

extern char** environ;

namespace agentrun {
namespace {

constexpr int kSeals = F_SEAL_SEAL | F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_WRITE;

UniqueFd executable_memfd() {
#ifdef MFD_EXEC
  // Kernels with vm.memfd_noexec need the memfd to be declared executable.
  UniqueFd fd(::memfd_create("agentrun", MFD_CLOEXEC | MFD_ALLOW_SEALING | MFD_EXEC));
  if (fd || errno != EINVAL) return fd;
#endif
  return UniqueFd(::memfd_create("agentrun", MFD_CLOEXEC | MFD_ALLOW_SEALING));
}

}  // namespace

void run_from_sealed_copy(char** argv) {
  UniqueFd self(::open("/proc/self/exe", O_RDONLY | O_CLOEXEC));
  if (!self) fail_errno("open /proc/self/exe", errno);
  int seals = ::fcntl(self.get(), F_GET_SEALS);
  if (seals >= 0 && (seals & kSeals) == kSeals) return;

  const std::string step = "copy the runtime binary into a sealed memfd";
  struct stat st;
  if (::fstat(self.get(), &st) < 0) fail_errno(step, errno);
  UniqueFd copy = executable_memfd();
  if (!copy) fail_errno(step, errno);
  for (off_t done = 0; done < st.st_size;) {
    ssize_t n = ::sendfile(copy.get(), self.get(), &done, static_cast<size_t>(st.st_size - done));
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) fail_errno(step, n < 0 ? errno : EIO);
  }
  if (::fcntl(copy.get(), F_ADD_SEALS, kSeals) < 0) fail_errno(step + ": seal", errno);
  ::fexecve(copy.get(), argv, environ);
  fail_errno("execute the sealed copy of the runtime", errno);
}

}  // namespace agentrun
