#include "runtime/util/sealed_exec.hpp"

#include <fcntl.h>
#include <linux/memfd.h>
#include <sys/mman.h>
#include <sys/sendfile.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <climits>
#include <cerrno>
#include <cstdlib>
#include <string>
#include <vector>

#include "runtime/util/early_reexec.hpp"
#include "runtime/util/fd.hpp"
#include "runtime/util/file_io.hpp"
#include "spec/error.hpp"

extern char** environ;

namespace agentrun {
namespace {

std::string exe_link() {
  char path[PATH_MAX];
  const ssize_t n = ::readlink("/proc/self/exe", path, sizeof path);
  if (n < 0 || static_cast<size_t>(n) == sizeof path) fail_errno("read the link /proc/self/exe", n < 0 ? errno : ENAMETOOLONG);
  return std::string(path, static_cast<size_t>(n));
}

UniqueFd executable_memfd() {
#ifdef MFD_EXEC
  // Kernels with vm.memfd_noexec need the memfd to be declared executable.
  UniqueFd fd(::memfd_create("agentrun", MFD_CLOEXEC | MFD_ALLOW_SEALING | MFD_EXEC));
  if (fd || errno != EINVAL) return fd;
#endif
  return UniqueFd(::memfd_create("agentrun", MFD_CLOEXEC | MFD_ALLOW_SEALING));
}

UniqueFd sealed_copy_of(int self) {
  const std::string step = "copy the runtime binary into a sealed memfd";
  struct stat st;
  if (::fstat(self, &st) < 0) fail_errno(step, errno);
  UniqueFd copy = executable_memfd();
  if (!copy) fail_errno(step, errno);
  for (off_t done = 0; done < st.st_size;) {
    ssize_t n = ::sendfile(copy.get(), self, &done, static_cast<size_t>(st.st_size - done));
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) fail_errno(step, n < 0 ? errno : EIO);
  }
  if (::fcntl(copy.get(), F_ADD_SEALS, early::kBinarySeals) < 0) fail_errno(step + ": seal", errno);
  return copy;
}

}  // namespace

void run_from_read_only_binary() {
  UniqueFd self(::open("/proc/self/exe", O_RDONLY | O_CLOEXEC));
  if (!self) fail_errno("open /proc/self/exe", errno);
  if (early::unwritable_binary(self.get())) return;
  auto cmdline = read_whole_file(AT_FDCWD, "/proc/self/cmdline");
  if (!cmdline) throw Failure(cmdline.error());
  std::vector<char*> argv;
  // Each argument ends with a NUL; one more keeps a torn last one terminated.
  cmdline->push_back('\0');
  for (size_t at = 0; at + 1 < cmdline->size(); at = cmdline->find('\0', at) + 1) argv.push_back(cmdline->data() + at);
  argv.push_back(nullptr);
  UniqueFd target(early::read_only_tree_of(self.get()));
  if (!target) target = sealed_copy_of(self.get());
  if (::setenv(early::kInstalledBinaryEnv, exe_link().c_str(), 1) < 0) fail_errno(std::string("set ") + early::kInstalledBinaryEnv, errno);
  ::syscall(SYS_execveat, target.get(), "", argv.data(), environ, AT_EMPTY_PATH);
  fail_errno("execute the read-only copy of the runtime", errno);
}

std::pair<dev_t, ino_t> runtime_binary_id() {
  struct stat st;
  if (::stat("/proc/self/exe", &st) < 0) fail_errno("stat /proc/self/exe", errno);
  return {st.st_dev, st.st_ino};
}

std::string installed_binary_path() {
  const char* passed = ::getenv(early::kInstalledBinaryEnv);
  return passed != nullptr && *passed != '\0' ? passed : exe_link();
}

bool runs_unwritable_binary(pid_t pid) {
  UniqueFd exe(::open(("/proc/" + std::to_string(pid) + "/exe").c_str(), O_RDONLY | O_CLOEXEC));
  return exe && early::unwritable_binary(exe.get());
}

}  // namespace agentrun
