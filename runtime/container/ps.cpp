#include "runtime/container/ps.hpp"

#include <fcntl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>

#include "runtime/util/fd.hpp"
#include "runtime/util/file_io.hpp"
#include "runtime/util/text_lines.hpp"
#include "spec/error.hpp"

namespace agentrun {

std::string run_ps(const std::vector<std::string>& args) {
  int out[2];
  if (::pipe2(out, O_CLOEXEC) < 0) fail_errno("run ps", errno);
  UniqueFd read_end(out[0]), write_end(out[1]);
  pid_t pid = ::fork();
  if (pid < 0) fail_errno("run ps", errno);
  if (pid == 0) {
    ::dup2(write_end.get(), 1);
    std::vector<char*> argv = {const_cast<char*>("ps")};
    for (const auto& a : args) argv.push_back(const_cast<char*>(a.c_str()));
    argv.push_back(nullptr);
    ::execvp("ps", argv.data());
    ::_exit(127);
  }
  write_end.reset();
  auto text = read_all(read_end.get(), "the output of ps");
  int status = 0;
  ::waitpid(pid, &status, 0);
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
    fail("run ps", WIFEXITED(status) && WEXITSTATUS(status) == 127 ? "ps is not installed" : "ps failed");
  return std::move(text).or_throw();
}

std::string filter_ps_output(const std::string& output, const std::vector<pid_t>& pids) {
  const std::vector<std::string_view> lines = text_lines(output);
  const std::string header(lines.empty() ? std::string_view() : lines[0]);
  const auto columns = text_words(header);
  const auto pid_column = std::find(columns.begin(), columns.end(), "PID");
  if (pid_column == columns.end()) fail("ps", "its output has no PID column (use options that show it)");
  const size_t index = static_cast<size_t>(pid_column - columns.begin());
  std::string out = header + "\n";
  for (size_t i = 1; i < lines.size(); ++i) {
    const auto fields = text_words(lines[i]);
    if (fields.size() <= index) continue;
    const pid_t pid = number_of<pid_t>(fields[index]).value_or(0);
    if (std::find(pids.begin(), pids.end(), pid) != pids.end()) out += std::string(lines[i]) + "\n";
  }
  return out;
}

}  // namespace agentrun
