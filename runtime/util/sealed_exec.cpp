#include "runtime/util/sealed_exec.hpp"

#include <fcntl.h>
#include <linux/memfd.h>
#include <linux/mount.h>
#include <sys/mman.h>
#include <sys/sendfile.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <climits>
#include <cerrno>
#include <cstdlib>
#include <string>
#include <vector>

#include "runtime/util/fd.hpp"
#include "runtime/util/file_io.hpp"
#include "spec/error.hpp"

extern char** environ;

namespace agentrun {
namespace {

constexpr int kSeals = F_SEAL_SEAL | F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_WRITE;
constexpr const char* kInstalledBinaryEnv = "AGENTRUN_INSTALLED_BINARY";

std::string exe_link() {
  char path[PATH_MAX];
  const ssize_t n = ::readlink("/proc/self/exe", path, sizeof path);
  if (n < 0 || static_cast<size_t>(n) == sizeof path) fail_errno("read the link /proc/self/exe", n < 0 ? errno : ENAMETOOLONG);
  return std::string(path, static_cast<size_t>(n));
}

bool unwritable(int self) {
  struct statvfs vfs;
  if (::fstatvfs(self, &vfs) == 0 && (vfs.f_flag & ST_RDONLY)) return true;
  int seals = ::fcntl(self, F_GET_SEALS);
  return seals >= 0 && (seals & kSeals) == kSeals;
}

// A detached, read-only clone of the mount the binary is on, rooted at the
// binary itself: executing it costs no copy.
UniqueFd read_only_mount_of(int self) {
  UniqueFd tree(static_cast<int>(
      ::syscall(SYS_open_tree, self, "", OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC | AT_EMPTY_PATH)));
  if (!tree) return tree;
  mount_attr attr{};
  attr.attr_set = MOUNT_ATTR_RDONLY | MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV;
  if (::syscall(SYS_mount_setattr, tree.get(), "", AT_EMPTY_PATH, &attr, sizeof attr) < 0) tree.reset();
  return tree;
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
  if (::fcntl(copy.get(), F_ADD_SEALS, kSeals) < 0) fail_errno(step + ": seal", errno);
  return copy;
}

}  // namespace

void run_from_read_only_binary() {
  UniqueFd self(::open("/proc/self/exe", O_RDONLY | O_CLOEXEC));
  if (!self) fail_errno("open /proc/self/exe", errno);
  if (unwritable(self.get())) return;
  auto cmdline = read_whole_file(AT_FDCWD, "/proc/self/cmdline");
  if (!cmdline) throw Failure(cmdline.error());
  std::vector<char*> argv;
  // Each argument ends with a NUL; one more keeps a torn last one terminated.
  cmdline->push_back('\0');
  for (size_t at = 0; at + 1 < cmdline->size(); at = cmdline->find('\0', at) + 1) argv.push_back(cmdline->data() + at);
  argv.push_back(nullptr);
  UniqueFd target = read_only_mount_of(self.get());
  if (!target) target = sealed_copy_of(self.get());
  if (::setenv(kInstalledBinaryEnv, exe_link().c_str(), 1) < 0) fail_errno(std::string("set ") + kInstalledBinaryEnv, errno);
  ::syscall(SYS_execveat, target.get(), "", argv.data(), environ, AT_EMPTY_PATH);
  fail_errno("execute the read-only copy of the runtime", errno);
}

std::pair<dev_t, ino_t> runtime_binary_id() {
  struct stat st;
  if (::stat("/proc/self/exe", &st) < 0) fail_errno("stat /proc/self/exe", errno);
  return {st.st_dev, st.st_ino};
}

std::string installed_binary_path() {
  const char* passed = ::getenv(kInstalledBinaryEnv);
  return passed != nullptr && *passed != '\0' ? passed : exe_link();
}

bool runs_unwritable_binary(pid_t pid) {
  UniqueFd exe(::open(("/proc/" + std::to_string(pid) + "/exe").c_str(), O_RDONLY | O_CLOEXEC));
  return exe && unwritable(exe.get());
}

}  // namespace agentrun
