#include "runtime/init/terminal.hpp"

#include <errno.h>
#include <fcntl.h>
#include <linux/magic.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/sysmacros.h>
#include <termios.h>
#include <unistd.h>

#include "runtime/init/mount_calls.hpp"
#include "runtime/util/in_root.hpp"
#include "runtime/util/unix_socket.hpp"

namespace agentrun {
namespace {

Result<UniqueFd> open_ptmx(int root, const std::string& path) {
  const std::string step = "open " + path;
  AR_TRY_ASSIGN(UniqueFd ptmx, open_in_root(root, path, O_RDWR | O_NOCTTY));
  struct statfs sf;
  struct stat st;
  if (::fstatfs(ptmx.get(), &sf) < 0 || ::fstat(ptmx.get(), &st) < 0) return sys_error(step, errno);
  if (sf.f_type != DEVPTS_SUPER_MAGIC || !S_ISCHR(st.st_mode) || st.st_rdev != makedev(5, 2))
    return plain_error(step, "it is not the ptmx of a devpts mount (mount devpts on /dev/pts)");
  return ptmx;
}

// A pty from the devpts of `ptmx`; the master goes to the console socket.
Result<UniqueFd> allocate_pty(int root, const std::string& ptmx, int console_socket,
                              const std::optional<spec::ConsoleSize>& size) {
  AR_TRY_ASSIGN(UniqueFd master, open_ptmx(root, ptmx));
  int unlock = 0;
  if (::ioctl(master.get(), TIOCSPTLCK, &unlock) < 0) return sys_error("unlock the pty", errno);
  UniqueFd peer(::ioctl(master.get(), TIOCGPTPEER, O_RDWR | O_NOCTTY | O_CLOEXEC));
  if (!peer) return sys_error("open the pty peer", errno);
  if (size) {
    winsize ws{};
    ws.ws_row = static_cast<unsigned short>(size->height);
    ws.ws_col = static_cast<unsigned short>(size->width);
    if (::ioctl(master.get(), TIOCSWINSZ, &ws) < 0) return sys_error("set the console size", errno);
  }
  AR_TRY(send_fd(console_socket, master.get(), "/dev/ptmx"));  // the name runc sends, wherever it came from
  return peer;
}

Result<UniqueFd> open_root() {
  UniqueFd root(::open("/", O_PATH | O_DIRECTORY | O_CLOEXEC));
  if (!root) return sys_error("open the root directory", errno);
  return root;
}

}  // namespace

Status make_controlling_terminal(int peer) {
  if (::setsid() < 0) return sys_error("start a session for the terminal", errno);
  if (::ioctl(peer, TIOCSCTTY, 0) < 0) return sys_error("make the pty the controlling terminal", errno);
  for (int fd = 0; fd <= 2; ++fd)
    if (::dup2(peer, fd) < 0) return sys_error("connect stdio to the pty", errno);
  return {};
}

Status setup_console(RootfsSetup& s, int console_socket, const std::optional<spec::ConsoleSize>& size) {
  AR_TRY_ASSIGN(UniqueFd peer, allocate_pty(s.root.get(), "/dev/ptmx", console_socket, size));
  AR_TRY_ASSIGN(UniqueFd console, make_in_root(s.root.get(), "/dev/console", TargetKind::file));
  AR_TRY_ASSIGN(UniqueFd tree, clone_mount(s.sys, peer.get(), false, "bind the pty over /dev/console"));
  AR_TRY(attach(s.sys, tree.get(), console.get(), "bind the pty over /dev/console"));
  return make_controlling_terminal(peer.get());
}

Status setup_exec_console(int console_socket, const std::optional<spec::ConsoleSize>& size) {
  AR_TRY_ASSIGN(UniqueFd root, open_root());
  AR_TRY_ASSIGN(UniqueFd peer, allocate_pty(root.get(), "/dev/ptmx", console_socket, size));
  return make_controlling_terminal(peer.get());
}

Result<UniqueFd> host_console(int console_socket, const std::optional<spec::ConsoleSize>& size) {
  AR_TRY_ASSIGN(UniqueFd root, open_root());
  // The host's /dev/ptmx is a node on devtmpfs; its devpts's own ptmx is verifiable.
  return allocate_pty(root.get(), "/dev/pts/ptmx", console_socket, size);
}

}  // namespace agentrun
