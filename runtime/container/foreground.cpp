#include "runtime/container/foreground.hpp"

#include <poll.h>
#include <signal.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <sys/wait.h>
#include <termios.h>
#include <unistd.h>

#include <cerrno>

#include "spec/error.hpp"

namespace agentrun {
namespace {

sigset_t forwarded_signals() {
  sigset_t set;
  sigfillset(&set);
  for (int sig : {SIGKILL, SIGSTOP, SIGSEGV, SIGBUS, SIGILL, SIGFPE, SIGTTIN, SIGTTOU, SIGTSTP})
    sigdelset(&set, sig);
  return set;
}

// Puts our terminal in raw mode while it relays the container's, and back after.
class RawTerminal {
 public:
  RawTerminal() {
    if (!::isatty(0) || ::tcgetattr(0, &saved_) < 0) return;
    termios raw = saved_;
    ::cfmakeraw(&raw);
    active_ = ::tcsetattr(0, TCSANOW, &raw) == 0;
  }
  ~RawTerminal() {
    if (active_) ::tcsetattr(0, TCSANOW, &saved_);
  }

 private:
  termios saved_{};
  bool active_ = false;
};

void copy_size(int master) {
  winsize ws{};
  if (::ioctl(0, TIOCGWINSZ, &ws) == 0) ::ioctl(master, TIOCSWINSZ, &ws);
}

// Copies what is readable on `from` to `to`; false at end of input.
bool relay(int from, int to) {
  char buf[16384];
  ssize_t n = ::read(from, buf, sizeof buf);
  if (n < 0 && (errno == EINTR || errno == EAGAIN)) return true;
  if (n <= 0) return false;
  for (ssize_t done = 0; done < n;) {
    ssize_t w = ::write(to, buf + done, static_cast<size_t>(n - done));
    if (w < 0 && errno == EINTR) continue;
    if (w < 0) return false;
    done += w;
  }
  return true;
}

bool exited(pid_t child) {
  siginfo_t info{};
  return ::waitid(P_PID, static_cast<id_t>(child), &info, WEXITED | WNOHANG | WNOWAIT) == 0 && info.si_pid == child;
}

int exit_code(int status) {
  if (WIFEXITED(status)) return WEXITSTATUS(status);
  if (WIFSIGNALED(status)) return 128 + WTERMSIG(status);
  return 1;
}

}  // namespace

void block_forwarded_signals() {
  sigset_t set = forwarded_signals();
  if (::sigprocmask(SIG_BLOCK, &set, nullptr) < 0) fail_errno("block signals", errno);
}

int wait_in_foreground(pid_t init, UniqueFd pty_master, ForegroundWatch* watch) {
  // Processes the container orphans outside a pid namespace of its own come to us to be reaped.
  if (::prctl(PR_SET_CHILD_SUBREAPER, 1) < 0) fail_errno("become a subreaper", errno);
  sigset_t set = forwarded_signals();
  UniqueFd sigfd(::signalfd(-1, &set, SFD_CLOEXEC));
  if (!sigfd) fail_errno("watch signals", errno);
  RawTerminal raw_mode;
  const int master = pty_master.get();
  if (master >= 0) copy_size(master);
  bool stdin_open = master >= 0;
  int status = -1;
  while (status < 0) {
    pollfd fds[4] = {{sigfd.get(), POLLIN, 0},
                     {master, POLLIN, 0},
                     {stdin_open ? 0 : -1, POLLIN, 0},
                     {watch ? watch->fd() : -1, POLLIN, 0}};
    if (::poll(fds, 4, -1) < 0) {
      if (errno == EINTR) continue;
      fail_errno("wait for the container", errno);
    }
    if (fds[1].revents & (POLLIN | POLLHUP | POLLERR)) relay(master, 1);
    if (fds[2].revents & (POLLIN | POLLHUP | POLLERR)) stdin_open = relay(0, master);
    if (fds[3].revents & (POLLIN | POLLHUP | POLLERR)) watch->readable();
    if (!(fds[0].revents & POLLIN)) continue;
    signalfd_siginfo si{};
    if (::read(sigfd.get(), &si, sizeof si) != sizeof si) continue;
    const int sig = static_cast<int>(si.ssi_signo);
    if (sig == SIGCHLD) {
      if (watch && exited(init)) {
        watch->ended();
        watch = nullptr;
      }
      int st = 0;
      pid_t p;
      while ((p = ::waitpid(-1, &st, WNOHANG)) > 0)
        if (p == init) status = st;
    } else if (sig == SIGWINCH && master >= 0) {
      copy_size(master);
    } else {
      ::kill(init, sig);
    }
  }
  // What the process wrote just before it exited is still in the pty.
  if (master >= 0) {
    pollfd p{master, POLLIN, 0};
    while (::poll(&p, 1, 100) > 0 && relay(master, 1)) {
    }
  }
  return exit_code(status);
}

}  // namespace agentrun
