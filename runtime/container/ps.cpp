#include "runtime/container/ps.hpp"

#include <fcntl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <sstream>

#include "runtime/util/fd.hpp"
#include "runtime/util/file_io.hpp"
#include "spec/error.hpp"

namespace agentrun {
namespace {

std::vector<std::string> words(const std::string& line) {
  std::istringstream in(line);
  std::vector<std::string> out;
  for (std::string w; in >> w;) out.push_back(w);
  return out;
}

}  // namespace

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
  std::istringstream lines(output);
  std::string header;
  std::getline(lines, header);
  const auto columns = words(header);
  const auto pid_column = std::find(columns.begin(), columns.end(), "PID");
  if (pid_column == columns.end()) fail("ps", "its output has no PID column (use options that show it)");
  const size_t index = static_cast<size_t>(pid_column - columns.begin());
  std::string out = header + "\n";
  for (std::string line; std::getline(lines, line);) {
    const auto fields = words(line);
    if (fields.size() <= index) continue;
    const pid_t pid = std::atoi(fields[index].c_str());
    if (std::find(pids.begin(), pids.end(), pid) != pids.end()) out += line + "\n";
  }
  return out;
}

}  // namespace agentrun
