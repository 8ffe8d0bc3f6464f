#include "hooks/hooks.hpp"

#include <string.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>

#include "runtime/fd.hpp"
#include "runtime/signals.hpp"

namespace agentrun {
namespace {

constexpr size_t kMaxOutput = 4096;

std::vector<char*> c_strings(const std::vector<std::string>& v) {
  std::vector<char*> out;
  for (const auto& s : v) out.push_back(const_cast<char*>(s.c_str()));
  out.push_back(nullptr);
  return out;
}

int64_t now_ms() {
  timespec ts;
  ::clock_gettime(CLOCK_MONOTONIC, &ts);
  return int64_t{ts.tv_sec} * 1000 + ts.tv_nsec / 1000000;
}

struct Pipes {
  UniqueFd stdin_read, stdin_write, out_read, out_write;
};

Result<Pipes> make_pipes() {
  int in[2], out[2];
  if (::pipe2(in, O_CLOEXEC) < 0) return sys_error("create hook pipes", errno);
  if (::pipe2(out, O_CLOEXEC) < 0) {
    ::close(in[0]);
    ::close(in[1]);
    return sys_error("create hook pipes", errno);
  }
  return Pipes{UniqueFd(in[0]), UniqueFd(in[1]), UniqueFd(out[0]), UniqueFd(out[1])};
}

std::string describe(int status) {
  if (WIFEXITED(status)) return "exit status " + std::to_string(WEXITSTATUS(status));
  if (WIFSIGNALED(status)) return std::string("killed by signal ") + sigabbrev_np(WTERMSIG(status));
  return "status " + std::to_string(status);
}

// Feeds stdin, collects output and waits for the hook until `deadline_ms`
// (0: none). Returns the wait status, or an error after killing it.
Result<int> supervise(pid_t pid, Pipes& p, const std::string& input, int64_t deadline_ms,
                      std::string& output, const std::string& step) {
  UniqueFd pidfd(static_cast<int>(::syscall(SYS_pidfd_open, pid, 0)));
  if (!pidfd) {
    ::kill(pid, SIGKILL);
    ::waitpid(pid, nullptr, 0);
    return sys_error(step + ": watch the hook", errno);
  }
  ::fcntl(p.stdin_write.get(), F_SETFL, O_NONBLOCK);
  size_t written = 0;
  bool exited = false;
  for (;;) {
    if (written == input.size()) p.stdin_write.reset();
    if (exited && !p.out_read) break;
    // Closed descriptors are -1, which poll ignores.
    pollfd fds[3] = {{pidfd.get(), POLLIN, 0}, {p.out_read.get(), POLLIN, 0}, {p.stdin_write.get(), POLLOUT, 0}};
    int timeout = deadline_ms > 0 ? static_cast<int>(std::max<int64_t>(0, deadline_ms - now_ms())) : -1;
    int n = ::poll(fds, 3, timeout);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return sys_error(step + ": wait for the hook", errno);
    if (n == 0) {
      if (exited) break;  // it exited; a process it left behind holds the output open
      ::kill(pid, SIGKILL);
      ::waitpid(pid, nullptr, 0);
      return plain_error(step, "timed out");
    }
    if (fds[0].revents && !exited) {
      exited = true;
      int64_t drain = now_ms() + 1000;
      deadline_ms = deadline_ms > 0 ? std::min(deadline_ms, drain) : drain;
    }
    if (fds[1].revents) {
      char buf[1024];
      ssize_t r = ::read(p.out_read.get(), buf, sizeof buf);
      if (r <= 0) p.out_read.reset();
      else if (output.size() < kMaxOutput) output.append(buf, static_cast<size_t>(r));
    }
    if (fds[2].revents) {
      ssize_t w = ::write(p.stdin_write.get(), input.data() + written, input.size() - written);
      if (w > 0) written += static_cast<size_t>(w);
      if (w < 0 && errno != EAGAIN) written = input.size();  // the hook closed its stdin
    }
  }
  int status = 0;
  if (::waitpid(pid, &status, 0) < 0) return sys_error(step + ": wait for the hook", errno);
  return status;
}

Status run_hook(const spec::Hook& hook, const std::string& step, const std::string& input) {
  std::vector<std::string> args = hook.args.empty() ? std::vector<std::string>{hook.path} : hook.args;
  auto argv = c_strings(args);
  auto envp = c_strings(hook.env);
  AR_TRY_ASSIGN(Pipes p, make_pipes());
  pid_t pid = ::fork();
  if (pid < 0) return sys_error(step + ": fork", errno);
  if (pid == 0) {
    ::dup2(p.stdin_read.get(), 0);
    ::dup2(p.out_write.get(), 1);
    ::dup2(p.out_write.get(), 2);
    reset_signals_for_exec();
    ::execve(hook.path.c_str(), argv.data(), envp.data());
    std::string why = "cannot execute: " + errno_text(errno);
    (void)!::write(2, why.data(), why.size());
    ::_exit(127);
  }
  p.stdin_read.reset();
  p.out_write.reset();
  int64_t deadline = hook.timeout ? now_ms() + int64_t{*hook.timeout} * 1000 : 0;
  std::string output;
  AR_TRY_ASSIGN(int status, supervise(pid, p, input, deadline, output, step));
  if (WIFEXITED(status) && WEXITSTATUS(status) == 0) return {};
  while (!output.empty() && (output.back() == '\n' || output.back() == ' ')) output.pop_back();
  return plain_error(step, describe(status) + (output.empty() ? "" : ", output: " + output));
}

std::string hook_step(const std::vector<spec::Hook>& hooks, const std::string& kind, size_t i) {
  return kind + " hook #" + std::to_string(i) + " (" + hooks[i].path + ")";
}

}  // namespace

Status run_hooks(const std::vector<spec::Hook>& hooks, const std::string& kind,
                 const std::string& state_json) {
  for (size_t i = 0; i < hooks.size(); ++i) AR_TRY(run_hook(hooks[i], hook_step(hooks, kind, i), state_json));
  return {};
}

std::vector<Error> run_every_hook(const std::vector<spec::Hook>& hooks, const std::string& kind,
                                  const std::string& state_json) {
  std::vector<Error> failures;
  for (size_t i = 0; i < hooks.size(); ++i) {
    Status s = run_hook(hooks[i], hook_step(hooks, kind, i), state_json);
    if (!s) failures.push_back(std::move(s).error());
  }
  return failures;
}

}  // namespace agentrun
