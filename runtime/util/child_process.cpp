#include "runtime/util/child_process.hpp"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>

#include "runtime/util/fd.hpp"
#include "runtime/util/signals.hpp"

namespace agentrun {
namespace {

std::vector<char*> c_strings(const std::vector<std::string>& v) {
  std::vector<char*> out;
  for (const auto& s : v) out.push_back(const_cast<char*>(s.c_str()));
  out.push_back(nullptr);
  return out;
}

struct Pipes {
  UniqueFd stdin_read, stdin_write, out_read, out_write;
};

Result<Pipes> make_pipes(const std::string& step) {
  int in[2], out[2];
  if (::pipe2(in, O_CLOEXEC) < 0) return sys_error(step + ": create pipes", errno);
  if (::pipe2(out, O_CLOEXEC) < 0) {
    ::close(in[0]);
    ::close(in[1]);
    return sys_error(step + ": create pipes", errno);
  }
  return Pipes{UniqueFd(in[0]), UniqueFd(in[1]), UniqueFd(out[0]), UniqueFd(out[1])};
}

// A child may close its stdin unread, or end first (a hook that never reads
// the state): the write then fails with EPIPE. Its SIGPIPE, whose default
// action would end the runtime (or the init running the hook), is held back
// and taken off.
ssize_t write_to_child(int fd, const char* data, size_t size) {
  sigset_t pipe_signal, before;
  sigemptyset(&pipe_signal);
  sigaddset(&pipe_signal, SIGPIPE);
  if (::sigprocmask(SIG_BLOCK, &pipe_signal, &before) < 0) return -1;
  const ssize_t w = ::write(fd, data, size);
  const int err = errno;
  if (w < 0 && err == EPIPE) {
    const timespec no_wait{};
    while (::sigtimedwait(&pipe_signal, nullptr, &no_wait) < 0 && errno == EINTR) {
    }
  }
  ::sigprocmask(SIG_SETMASK, &before, nullptr);
  errno = err;
  return w;
}

// Feeds stdin, collects output and waits for the child until `deadline_ms`
// (0: none). Returns the wait status, or an error after killing it.
Result<int> supervise(pid_t pid, Pipes& p, const std::string& input, int64_t deadline_ms, size_t max_output,
                      std::string& output, const std::string& step) {
  UniqueFd pidfd(static_cast<int>(::syscall(SYS_pidfd_open, pid, 0)));
  if (!pidfd) {
    ::kill(pid, SIGKILL);
    ::waitpid(pid, nullptr, 0);
    return sys_error(step + ": watch the process", errno);
  }
  ::fcntl(p.stdin_write.get(), F_SETFL, O_NONBLOCK);
  size_t written = 0;
  bool exited = false;
  for (;;) {
    if (written == input.size()) p.stdin_write.reset();
    if (exited && !p.out_read) break;
    // Closed descriptors are -1, which poll ignores.
    pollfd fds[3] = {{pidfd.get(), POLLIN, 0}, {p.out_read.get(), POLLIN, 0}, {p.stdin_write.get(), POLLOUT, 0}};
    int timeout = deadline_ms > 0 ? static_cast<int>(std::max<int64_t>(0, deadline_ms - monotonic_ms())) : -1;
    int n = ::poll(fds, 3, timeout);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return sys_error(step + ": wait for the process", errno);
    if (n == 0) {
      if (exited) break;  // it exited; a process it left behind holds the output open
      ::kill(pid, SIGKILL);
      ::waitpid(pid, nullptr, 0);
      return plain_error(step, "timed out");
    }
    if (fds[0].revents && !exited) {
      exited = true;
      int64_t drain = monotonic_ms() + 1000;
      deadline_ms = deadline_ms > 0 ? std::min(deadline_ms, drain) : drain;
    }
    if (fds[1].revents) {
      char buf[4096];
      ssize_t r = ::read(p.out_read.get(), buf, sizeof buf);
      if (r <= 0) p.out_read.reset();
      else output.append(buf, std::min(static_cast<size_t>(r), max_output - std::min(max_output, output.size())));
    }
    if (fds[2].revents) {
      ssize_t w = write_to_child(p.stdin_write.get(), input.data() + written, input.size() - written);
      if (w > 0) written += static_cast<size_t>(w);
      if (w < 0 && errno != EAGAIN) written = input.size();  // the child closed its stdin
    }
  }
  int status = 0;
  if (::waitpid(pid, &status, 0) < 0) return sys_error(step + ": wait for the process", errno);
  return status;
}

}  // namespace

int64_t monotonic_ms() {
  timespec ts;
  ::clock_gettime(CLOCK_MONOTONIC, &ts);
  return int64_t{ts.tv_sec} * 1000 + ts.tv_nsec / 1000000;
}

Result<ChildResult> run_child(const std::string& path, const std::vector<std::string>& argv,
                              const std::vector<std::string>& env, const std::string& input, int64_t deadline_ms,
                              size_t max_output, const std::string& step) {
  auto args = c_strings(argv);
  auto envp = c_strings(env);
  AR_TRY_ASSIGN(Pipes p, make_pipes(step));
  pid_t pid = ::fork();
  if (pid < 0) return sys_error(step + ": fork", errno);
  if (pid == 0) {
    ::dup2(p.stdin_read.get(), 0);
    ::dup2(p.out_write.get(), 1);
    ::dup2(p.out_write.get(), 2);
    reset_signals_for_exec();
    // Nothing of the runtime's reaches the child, O_CLOEXEC or not.
    if (::close_range(3, ~0U, 0) == 0) ::execve(path.c_str(), args.data(), envp.data());
    std::string why = "cannot execute: " + errno_text(errno);
    (void)!::write(2, why.data(), why.size());
    ::_exit(127);
  }
  p.stdin_read.reset();
  p.out_write.reset();
  ChildResult result;
  AR_TRY_ASSIGN(result.status, supervise(pid, p, input, deadline_ms, max_output, result.output, step));
  return result;
}

std::string describe_wait_status(int status) {
  if (WIFEXITED(status)) return "exit status " + std::to_string(WEXITSTATUS(status));
  if (WIFSIGNALED(status)) return std::string("killed by signal ") + sigabbrev_np(WTERMSIG(status));
  return "status " + std::to_string(status);
}

}  // namespace agentrun
